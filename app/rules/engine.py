"""Sliding-window alert rules with minimum share, hysteresis and cooldown.

A rule holds at time ``t`` when the camera's samples of the last ``duration_s`` seconds cover
that window and at least ``min_share`` of them are hits (a hit: at least ``min_faces`` classified
faces, and the highest face score for the rule's expression at or above ``threshold``). An alert
starts when the rule holds, no alert is open and the cooldown since the last start is over; it
ends only when the share falls below ``release_share`` (hysteresis), so that flickering scores
neither spam nor end alerts.

Samples may arrive out of order (several workers). Decisions are taken in timestamp order, only
up to a watermark ``LATENESS_S`` behind the newest sample: any arrival order whose disorder
stays within that bound gives exactly the decisions of in-order processing (no duplicate, none
lost), at the cost of that delay. Later samples are ignored, as the workers drop stale frames.
"""

from __future__ import annotations

from bisect import insort
from dataclasses import dataclass, field, replace
from datetime import datetime, time
from zoneinfo import ZoneInfo

COVERAGE = 0.9  # the samples must span 90% of the window before a rule may hold
LATENESS_S = 2.0  # as the stale-frame limit: older frames are never analysed


@dataclass(frozen=True)
class RuleSpec:
    id: int
    emotion: str
    threshold: float
    duration_s: float
    min_share: float = 0.6
    min_faces: int = 1
    cooldown_s: float = 300.0
    release_share: float | None = None  # default: half of min_share
    active_from: str | None = None  # "HH:MM", site time
    active_to: str | None = None
    timezone: str = "UTC"
    kind: str = "share"  # a strategy of app/rules/kinds; share is the rule as it always was
    params: dict = field(default_factory=dict, compare=False, hash=False)  # the kind's own parameters
    context: dict = field(default_factory=dict, compare=False, hash=False)  # what the caller learnt (baseline levels)

    @property
    def release(self) -> float:
        return self.min_share / 2 if self.release_share is None else self.release_share

    def active_at(self, ts: float) -> bool:
        if not self.active_from or not self.active_to:
            return True
        local = datetime.fromtimestamp(ts, ZoneInfo(self.timezone)).time()
        start, end = time.fromisoformat(self.active_from), time.fromisoformat(self.active_to)
        return start <= local < end if start <= end else local >= start or local < end  # overnight span


@dataclass(frozen=True, order=True)
class Sample:
    ts: float
    hit: bool
    value: float = field(default=0.0, compare=False)
    # person rules: (track_id, score, box) of each tracked face; never anything identifying
    tracks: tuple = field(default=(), compare=False)


@dataclass(frozen=True)
class AlertStarted:
    rule_id: int
    ts: float
    value: float
    details: dict | None = field(default=None, compare=False)  # kind-specific: track_id and box, rise, level


@dataclass(frozen=True)
class AlertEnded:
    rule_id: int
    ts: float


@dataclass(frozen=True)
class RuleState:
    samples: tuple[Sample, ...] = ()
    open_since: float | None = None
    last_started: float | None = None
    decided_until: float = float("-inf")
    detail: dict | None = None  # a kind's memory of the open alert (the person rule's track)

    def to_dict(self) -> dict:
        data = {
            "s": [[s.ts, int(s.hit), s.value, *([[list(t) for t in s.tracks]] if s.tracks else [])] for s in self.samples],
            "o": self.open_since,
            "l": self.last_started,
            "d": self.decided_until if self.decided_until != float("-inf") else None,
        }
        if self.detail is not None:
            data["x"] = self.detail
        return data

    @classmethod
    def from_dict(cls, data: dict | None) -> RuleState:
        if not data:
            return cls()
        decided = data.get("d")
        return cls(
            tuple(_sample(row) for row in data["s"]),
            data["o"],
            data["l"],
            float("-inf") if decided is None else decided,
            data.get("x"),
        )


def _sample(row: list) -> Sample:
    tracks = tuple((t[0], t[1], tuple(t[2]) if t[2] is not None else None) for t in row[3]) if len(row) > 3 else ()
    return Sample(row[0], bool(row[1]), row[2], tracks)


def sample_from_faces(rule: RuleSpec, ts: float, faces: list[dict]) -> Sample:
    """One frame's sample for a rule, as its kind reads the faces."""
    return kind_of(rule.kind).sample(rule, ts, faces)


def spanned(times: list[float], now: float) -> float:
    """The time that samples at ``times`` (ascending, up to ``now``) stand for: from the first to
    ``now``, plus the first sample's own frame period (the median gap between samples). Without
    that period a steady camera at just under 4 frames/s spans 7 gaps, 1.79 s, of a 2-s window,
    under the 90% coverage, and its rule could never hold; a hole in the stream does not count, as
    the median gap stays the stream's period."""
    if not times:
        return 0.0
    gaps = sorted(b - a for a, b in zip(times, times[1:], strict=False))
    return now - times[0] + (gaps[len(gaps) // 2] if gaps else 0.0)


def window_of(rule: RuleSpec, samples: list[Sample], now: float) -> tuple[list[Sample], bool]:
    """The samples of the last ``duration_s`` before ``now``, and whether they cover the window."""
    window = [s for s in samples if now - rule.duration_s <= s.ts <= now]
    return window, bool(window) and spanned([s.ts for s in window], now) >= COVERAGE * rule.duration_s


def may_open(rule: RuleSpec, state: RuleState, now: float) -> bool:
    """No alert open, the cooldown since the last start over, inside the active hours."""
    cooled = state.last_started is None or now - state.last_started >= rule.cooldown_s
    return state.open_since is None and cooled and rule.active_at(now)


def opened(state: RuleState, rule: RuleSpec, now: float, value: float, details: dict | None = None, detail=None) -> tuple:
    return replace(state, open_since=now, last_started=now, detail=detail), [AlertStarted(rule.id, now, value, details)]


def closed(state: RuleState, rule: RuleSpec, now: float) -> tuple:
    return replace(state, open_since=None, detail=None), [AlertEnded(rule.id, now)]


def _decide(rule: RuleSpec, state: RuleState, samples: list[Sample], now: float) -> tuple[RuleState, list]:
    """The decision at one sample time, from the samples up to it: the rule kind's."""
    return kind_of(rule.kind).decide(rule, state, samples, now)


def evaluate(rule: RuleSpec, state: RuleState, sample: Sample) -> tuple[RuleState, list[AlertStarted | AlertEnded]]:
    """The new state and the events that one more sample causes."""
    if sample.ts <= state.decided_until:
        return state, []  # too late: that moment was decided already
    samples = list(state.samples)
    if sample not in samples:
        insort(samples, sample)
    watermark = samples[-1].ts - LATENESS_S
    events: list[AlertStarted | AlertEnded] = []
    for index, current in enumerate(samples):
        if state.decided_until < current.ts <= watermark:
            state, new = _decide(rule, state, samples[: index + 1], current.ts)
            state = replace(state, decided_until=current.ts)
            events += new
    keep_from = samples[-1].ts - 2 * rule.duration_s - LATENESS_S  # bounded memory
    return replace(state, samples=tuple(s for s in samples if s.ts >= keep_from)), events


from app.rules.kinds import kind_of  # noqa: E402 - the kinds use this module's types
