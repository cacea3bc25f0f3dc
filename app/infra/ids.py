"""Object ids in paths and query strings: 1..2**31-1, like the id columns (PostgreSQL ``integer``).

One definition for the API and the pages: anything else is a 404 (a path) or no filter (a query
value), never a query that overflows a column.
"""

from __future__ import annotations

import re
from typing import Any

from werkzeug.routing import BaseConverter

MAX_ID = 2**31 - 1  # ids and counts live in 32-bit integer columns (PostgreSQL `integer`)


def decimal_range(maximum: int) -> str:
    """A regex of the decimal numbers 1..maximum, without leading zeros."""
    digits = str(maximum)
    shorter = [f"[1-9][0-9]{{0,{len(digits) - 2}}}"] if len(digits) > 1 else []
    same_length = []
    for i, digit in enumerate(digits):  # below ``maximum`` from digit i on, equal before it
        low = "1" if i == 0 else "0"
        if int(digit) > int(low):
            rest = len(digits) - i - 1
            same_length.append(f"{digits[:i]}[{low}-{int(digit) - 1}]" + (f"[0-9]{{{rest}}}" if rest else ""))
    return "|".join([*shorter, *same_length, digits])


class IdConverter(BaseConverter):
    """``<id:name>``: an object id in a path, 1..2**31-1 like the id columns; anything else is a 404
    (never a query that overflows a column). The range is in the regex, not in to_python: werkzeug
    answers 405 when a path matches another method's rule and this one's converter refuses it."""

    regex = f"(?:{decimal_range(MAX_ID)})"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: Any) -> str:
        return str(int(value))


_ID = re.compile(IdConverter.regex)


def parse_id(raw: str | None) -> int | None:
    """An id given in a query string (``?site_id=``, ``scope=site:7``): an int in the id columns'
    range, or None for anything else (ASCII digits only: ``int()`` takes "٣" and refuses "²", both of
    which ``str.isdigit`` accepts)."""
    return int(raw) if raw is not None and _ID.fullmatch(raw) else None
