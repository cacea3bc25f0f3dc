"""Report periods: inclusive local dates turned into UTC bounds in a site's time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PRESETS = ("today", "yesterday", "last_7_days", "this_week", "last_week", "this_month", "last_month")
MAX_DAYS = 366


@dataclass(frozen=True)
class Period:
    """From ``start`` to ``end``, both included, as calendar dates of the place reported on."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def utc_bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) in UTC: local midnight of the first day to local midnight after the last.
        A day when clocks change is 23 or 25 hours long, as it is on the wall."""
        begin = datetime.combine(self.start, time(), tz).astimezone(UTC)
        finish = datetime.combine(self.end + timedelta(days=1), time(), tz).astimezone(UTC)
        return begin, finish


def preset_period(name: str, today: date) -> Period:
    """The named period relative to ``today`` (a local date); weeks start on Monday."""
    monday = today - timedelta(days=today.weekday())
    first = today.replace(day=1)
    if name == "today":
        return Period(today, today)
    if name == "yesterday":
        return Period(today - timedelta(days=1), today - timedelta(days=1))
    if name == "last_7_days":
        return Period(today - timedelta(days=6), today)
    if name == "this_week":
        return Period(monday, today)
    if name == "last_week":
        return Period(monday - timedelta(days=7), monday - timedelta(days=1))
    if name == "this_month":
        return Period(first, today)
    if name == "last_month":
        last_day = first - timedelta(days=1)
        return Period(last_day.replace(day=1), last_day)
    raise ValueError(f"unknown period {name!r}")


def last_complete_period(frequency: str, today: date) -> Period:
    """The period a schedule reports on once it has ended: yesterday, last week, last month."""
    return preset_period({"daily": "yesterday", "weekly": "last_week", "monthly": "last_month"}[frequency], today)


def local_today(tz: ZoneInfo, now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(tz).date()


class PeriodError(ValueError):
    """A period that cannot be reported on: the message is the API's (English); ``reason``
    (format, range, order, too_long) lets a page say it in its own language."""

    def __init__(self, reason: str, message: str, field: str = "from"):
        super().__init__(message)
        self.reason = reason
        self.field = field  # the query value at fault: "from" or "to"


def parse_period(start: str | None, end: str | None, today: date) -> Period:
    """``from``/``to`` query values (YYYY-MM-DD, inclusive); defaults: the last 7 days.
    Raises PeriodError with a message fit for the user."""
    dates = {}
    for field, text in (("to", end), ("from", start)):
        try:
            dates[field] = date.fromisoformat(text) if text else None
        except ValueError:
            raise PeriodError("format", "Dates are written YYYY-MM-DD.", field) from None
    end_date = dates["to"] or today
    lowest, highest = date(2000, 1, 1), date(2100, 12, 31)
    if not lowest <= end_date <= highest:  # first: the default start is counted back from it
        raise PeriodError("range", "Dates must lie between 2000 and 2100.", "to")
    start_date = dates["from"] or end_date - timedelta(days=6)
    if not lowest <= start_date <= highest:
        raise PeriodError("range", "Dates must lie between 2000 and 2100.", "from")
    if start_date > end_date:
        raise PeriodError("order", "'from' is after 'to'.")
    if (end_date - start_date).days + 1 > MAX_DAYS:
        raise PeriodError("too_long", f"A report covers at most {MAX_DAYS} days.", "to")
    return Period(start_date, end_date)
