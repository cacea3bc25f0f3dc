"""The one way the API, exports, webhooks and logs write a moment: ISO 8601 in UTC with a ``Z``.

Pure standard library, so that every layer (models, services, the log formatter) may import it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import overload


@overload
def iso_utc(value: datetime, timespec: str = "auto") -> str: ...
@overload
def iso_utc(value: None, timespec: str = "auto") -> None: ...
def iso_utc(value: datetime | None, timespec: str = "auto") -> str | None:
    """``2026-01-31T12:00:00.123456Z`` (microseconds only when non-zero, as ``isoformat``); None stays None."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


def iso_value(value: object) -> object:
    """A column value for an export: a moment as :func:`iso_utc`, a calendar date as ``YYYY-MM-DD``,
    anything else unchanged."""
    if isinstance(value, datetime):
        return iso_utc(value)
    return value.isoformat() if isinstance(value, date) else value


def as_moment(value: datetime | str) -> datetime:
    """A stored moment as an aware datetime: ISO strings (``...Z`` included) are parsed, and naive
    values are UTC, as every column of the app stores them."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def local_time(
    value: datetime | str | None, zone: str | None, locale: str = "en", fmt: str = "short", labelled: bool = True
) -> str | None:
    """``value`` in the time zone ``zone`` (an IANA name; unknown or empty reads as UTC), in the words of
    ``locale``, labelled with the zone: ``12/2/26, 4:05 AM (Pacific/Kiritimati)`` (without the label
    where the page names the zone beside it). None stays None."""
    if value is None:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from babel.dates import format_datetime  # imported here: this module stays importable without Babel

    try:
        tz = ZoneInfo(zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        tz, zone = ZoneInfo("UTC"), "UTC"
    local = as_moment(value).astimezone(tz)
    text = format_datetime(local, fmt, tzinfo=tz, locale=locale)
    return f"{text} ({zone or 'UTC'})" if labelled else text


def local_iso(value: datetime | str, zone: str | None) -> str:
    """The moment with its local offset, for a ``<time datetime>`` attribute: ``2026-12-02T04:05:00+14:00``."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        tz = ZoneInfo(zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    return as_moment(value).astimezone(tz).isoformat(timespec="seconds")
