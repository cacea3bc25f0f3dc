"""From grouped SQL rows (one per site and 15-minute UTC slot) to the report's figures.

The database does the heavy grouping; these functions only fold a few thousand slot rows into
local hours, because the local hour of a slot depends on the site's time zone and its clock
changes. Slots are 15 minutes so that zones with half- and quarter-hour offsets map exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from app.inference.labels import EMOTIONS

SLOT_S = 900


@dataclass
class Totals:
    """Counts and score sums; ``scores`` are means over the observations with a classified face."""

    observations: int = 0
    faces: int = 0
    classified: int = 0
    sums: list[float] = field(default_factory=lambda: [0.0] * len(EMOTIONS))

    def add(self, observations: int, faces: int, classified: int, sums: Sequence[float | None]) -> None:
        self.observations += int(observations)
        self.faces += int(faces or 0)
        self.classified += int(classified or 0)
        for i, value in enumerate(sums):
            self.sums[i] += float(value or 0.0)

    def merge(self, other: Totals) -> None:
        self.add(other.observations, other.faces, other.classified, other.sums)

    @property
    def scores(self) -> dict[str, float] | None:
        if not self.classified:
            return None
        return {e: round(s / self.classified, 4) for e, s in zip(EMOTIONS, self.sums, strict=True)}

    @property
    def dominant(self) -> str | None:
        scores = self.scores
        return max(scores, key=scores.get) if scores else None

    def as_dict(self) -> dict:
        return {
            "observations": self.observations,
            "faces": self.faces,
            "classified_observations": self.classified,
            "scores": self.scores,
            "dominant_emotion": self.dominant,
        }


@lru_cache(maxsize=65536)
def local_hour(slot: int, tz_name: str) -> datetime:
    """The local wall-clock hour (aware, with the offset then in force) that a slot falls in."""
    local = datetime.fromtimestamp(slot * SLOT_S, UTC).astimezone(ZoneInfo(tz_name))
    return local.replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class SlotRow:
    """One row of the grouped observation query."""

    site_id: int
    slot: int
    observations: int
    faces: int
    classified: int
    sums: tuple[float | None, ...]


def fold_slots(rows: Iterable[SlotRow], site_zones: dict[int, str]) -> dict:
    """Totals, per site, per local hour (overall and per site) and weekday x hour heatmap."""
    total = Totals()
    per_site: dict[int, Totals] = {}
    hourly: dict[str, tuple[datetime, Totals]] = {}
    site_hourly: dict[tuple[int, str], tuple[datetime, Totals]] = {}
    heatmap: dict[tuple[int, int], Totals] = {}
    for row in rows:
        hour = local_hour(row.slot, site_zones[row.site_id])
        key = hour.isoformat()
        for bucket in (
            total,
            per_site.setdefault(row.site_id, Totals()),
            hourly.setdefault(key, (hour, Totals()))[1],
            site_hourly.setdefault((row.site_id, key), (hour, Totals()))[1],
            heatmap.setdefault((hour.weekday(), hour.hour), Totals()),
        ):
            bucket.add(row.observations, row.faces, row.classified, row.sums)
    by_instant = lambda item: item[1][0].astimezone(UTC)  # noqa: E731
    return {
        "totals": total,
        "per_site": per_site,
        "hourly": [(hour, t) for _, (hour, t) in sorted(hourly.items(), key=by_instant)],
        "site_hourly": [
            (site_id, hour, t)
            for (site_id, _), (hour, t) in sorted(site_hourly.items(), key=lambda item: (item[0][0], item[1][0].astimezone(UTC)))
        ],
        "heatmap": heatmap,
    }


def nearest_rank(sorted_values: Sequence[float], q: float) -> float | None:
    """The nearest-rank percentile (what the SQL query computes), for tests and small lists."""
    if not sorted_values:
        return None
    rank = max(1, -(-int(q * 100) * len(sorted_values) // 100))
    return sorted_values[rank - 1]
