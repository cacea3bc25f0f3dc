"""CSV of a report's aggregated rows: one row per site and local hour (no Python over raw rows)."""

from __future__ import annotations

import csv
import io

from app.inference.labels import EMOTIONS

# Columns are only ever added at the end, so that readers of the earlier ones by position are
# unaffected. ``people_seen``: the site's anonymous tracks in that hour (one per camera that saw
# the person); ``median_time_in_view_s``: their median seconds in view, empty when none.
COLUMNS = (
    "site_id",
    "site",
    "hour_start",
    "observations",
    "faces",
    "classified_observations",
    *EMOTIONS,
    "time_zone",
    "people_seen",
    "median_time_in_view_s",
)


def report_csv(report: dict) -> str:
    """``hour_start`` is local ISO 8601 with the offset then in force (a day when clocks go back
    has two 02:00 rows, +02:00 and +01:00), each row in its own site's zone, named in ``time_zone``;
    scores are means over classified observations."""
    names = {site["site_id"]: site["name"] for site in report["sites"]}
    zones = {site["site_id"]: site.get("time_zone", "") for site in report["sites"]}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in report["site_hourly"]:
        scores = row["scores"] or {}
        writer.writerow(
            [
                row["site_id"],
                safe_cell(names.get(row["site_id"], "")),
                row["hour"],
                row["observations"],
                row["faces"],
                row["classified_observations"],
                *(scores.get(e, "") for e in EMOTIONS),
                zones.get(row["site_id"], ""),
                row.get("people_seen", 0),
                "" if row.get("median_time_in_view_s") is None else row["median_time_in_view_s"],
            ]
        )
    return out.getvalue()


def safe_cell(value: object) -> object:
    """Neutralise spreadsheet formulas in text that users typed (CSV injection): every CSV that
    EmotiScan writes passes its text cells through here. Numbers stay numbers."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
