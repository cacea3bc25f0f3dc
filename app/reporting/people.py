"""People seen and time in view, from grouped track-span rows (no identity: a track is a random
id that lives a few seconds after its face leaves, per camera; a person seen by two cameras, or
who comes back later, is two tracks).

The database groups the period's spans by camera, first and last 15-minute slot and whole
seconds in view; these functions fold those rows into local hours (a span counts once in each
hour it touches) and take nearest-rank medians from the seconds' histograms.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from app.reporting.aggregate import local_hour


@dataclass(frozen=True)
class SpanRow:
    """Spans of one camera with the same first and last slot and whole seconds in view."""

    site_id: int
    camera_id: int
    first_slot: int
    last_slot: int
    seconds: int
    tracks: int


def median(histogram: Counter) -> float | None:
    """Nearest-rank median (the lower middle for an even count, as the alert report's)."""
    n = sum(histogram.values())
    if not n:
        return None
    rank, seen = (50 * n + 99) // 100, 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return float(value)
    return None  # pragma: no cover - unreachable


def fold_people(rows: Iterable[SpanRow], site_zones: dict[int, str], slot_bounds: dict[int, tuple[int, int]]) -> dict:
    """Per camera, per site, per camera and local hour, and in all: tracks and their seconds in
    view. ``slot_bounds``: per site, the period's [first, end) slots, to which spans are clipped."""
    per_camera: dict[tuple[int, int], Counter] = defaultdict(Counter)
    per_site: dict[int, Counter] = defaultdict(Counter)
    camera_hour: dict[tuple[int, int, str], tuple[datetime, Counter]] = {}
    site_hour: dict[tuple[int, str], Counter] = defaultdict(Counter)
    total: Counter = Counter()
    for row in rows:
        low, high = slot_bounds[row.site_id]
        zone = site_zones[row.site_id]
        # Keyed by ISO text: the two 02:00 hours of a night when clocks go back compare equal as
        # datetimes of one zone, but differ by their offset.
        slots = range(max(row.first_slot, low), min(row.last_slot, high - 1) + 1)
        hours = {hour.isoformat(): hour for hour in (local_hour(slot, zone) for slot in slots)}
        for key, hour in hours.items():
            camera_hour.setdefault((row.site_id, row.camera_id, key), (hour, Counter()))[1][row.seconds] += row.tracks
            site_hour[(row.site_id, key)][row.seconds] += row.tracks
        for histogram in (per_camera[(row.site_id, row.camera_id)], per_site[row.site_id], total):
            histogram[row.seconds] += row.tracks
    summary = lambda h: {"people_seen": sum(h.values()), "median_time_in_view_s": median(h)}  # noqa: E731
    return {
        "total": summary(total),
        "per_site": {site_id: summary(h) for site_id, h in per_site.items()},
        "per_camera": {key: summary(h) for key, h in per_camera.items()},
        # (site id, local hour ISO) -> the site's cameras' tracks in that hour (one per camera).
        "site_hourly": {key: summary(h) for key, h in site_hour.items()},
        "hourly": [
            {"site_id": site_id, "camera_id": camera_id, "hour": hour.isoformat(), **summary(h)}
            for (site_id, camera_id, _), (hour, h) in sorted(
                camera_hour.items(), key=lambda item: (item[0][0], item[0][1], item[1][0].astimezone(UTC))
            )
        ],
    }
