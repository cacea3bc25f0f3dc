"""Numbers in the reader's locale ("0,40" and "0,2 %" in French), through Babel: for pages and audit sentences."""

from __future__ import annotations

import re

from flask_babel import format_decimal, format_percent, get_locale


def number(value: float | int | None, digits: int = 2) -> str:
    """A decimal with exactly `digits` fraction digits (integers keep none); empty for None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return format_decimal(value, format="#,##0")
    return format_decimal(value, format="#,##0." + "0" * digits if digits else "#,##0")


def percent(value: float | None, digits: int = 0) -> str:
    """A share 0..1 as a percentage in the locale's pattern ("20 %" in French, "20%" in English); empty for None."""
    if value is None:
        return ""
    pattern = get_locale().percent_formats[None].pattern
    if digits:
        pattern = re.sub(r"0(?=[^0-9#,.]*$)", "0." + "0" * digits, pattern, count=1)
    return format_percent(value, format=pattern)
