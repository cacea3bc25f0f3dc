"""Names of downloaded report files."""

from __future__ import annotations

import re


def report_filename(report: dict, fmt: str) -> str:
    """``emotiscan-<scope>-<from>_<to>.<fmt>``, ASCII only (safe in a Content-Disposition header)."""
    name = re.sub(r"[^A-Za-z0-9]+", "-", report["scope"]["name"]).strip("-").lower()[:40] or report["scope"]["kind"]
    return f"emotiscan-{name}-{report['period']['from']}_{report['period']['to']}.{fmt}"
