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
