"""share: a frame is a hit when its highest face reaches the threshold; the rule holds when
``min_share`` of the window's frames are hits (the rule as it always was)."""

from __future__ import annotations

from app.rules import engine
from app.rules.kinds import register
from app.rules.kinds.base import Kind
from app.rules.registry import score_of


class Share(Kind):
    name = "share"

    def sample(self, rule, ts: float, faces: list[dict]) -> engine.Sample:
        scored = [score_of(rule.emotion, f["scores"]) for f in faces if f.get("scores")]
        value = max(scored, default=0.0)
        return engine.Sample(ts, len(scored) >= rule.min_faces and value >= rule.threshold, round(value, 4))

    def decide(self, rule, state, samples: list, now: float) -> tuple:
        window, covered = engine.window_of(rule, samples, now)
        share = sum(s.hit for s in window) / len(window) if window else 0.0
        if state.open_since is None:
            if covered and share >= rule.min_share and engine.may_open(rule, state, now):
                return engine.opened(state, rule, now, max((s.value for s in window if s.hit), default=0.0))
        elif share < rule.release or not rule.active_at(now):
            return engine.closed(state, rule, now)
        return state, []


register(Share())
