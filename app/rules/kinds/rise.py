"""rise: the camera's mean score rises by at least ``threshold`` between two consecutive windows
of ``duration_s`` (a sudden change, whatever the usual level)."""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from app.numformat import number
from app.rules import engine
from app.rules.kinds import register
from app.rules.kinds.base import Kind, emotion_words, points
from app.rules.registry import score_of


def _mean(samples: list) -> float | None:
    values = [s.value for s in samples if s.hit]  # hit: the frame had a classified face
    return sum(values) / len(values) if values else None


class Rise(Kind):
    name = "rise"
    position = 3
    label = _l("Sudden rise")
    help = _l("Fires when the camera's mean score rises by at least the score given above from one window to the next.")
    threshold_label = _l("Rise of at least (0 to 1)")

    def sample(self, rule, ts: float, faces: list[dict]) -> engine.Sample:
        scored = [score_of(rule.emotion, f["scores"]) for f in faces if f.get("scores")]
        return engine.Sample(ts, bool(scored), round(sum(scored) / len(scored), 4) if scored else 0.0)

    def describe(self, rule) -> str:
        return gettext(
            "%(emotion)s: the camera's mean rises by %(threshold)s or more between two %(seconds)d s windows",
            emotion=emotion_words(rule.emotion),
            threshold=number(rule.threshold),
            seconds=rule.duration_s,
        )

    def explain(self, details: dict | None) -> str:
        if not details or details.get("rise") is None:
            return ""
        return gettext(
            "up %(rise)d points from %(previous)d %%", rise=points(details["rise"]), previous=points(details["previous_mean"])
        )

    def alert_text(self, emotion: str, value: float, details: dict | None) -> str:
        return gettext(
            "%(emotion)s rose suddenly to %(value)d %% (%(change)s)",
            emotion=emotion,
            value=round(value * 100),
            change=self.explain(details) or "?",
        )

    def change(self, rule, samples: list, now: float) -> tuple[float, float] | None:
        """(previous mean, current mean) when both windows are covered, else None."""
        d = rule.duration_s
        times = [s.ts for s in samples if now - 2 * d <= s.ts <= now]
        if engine.spanned(times, now) < (1 + engine.COVERAGE) * d:
            return None
        current = [s for s in samples if now - d < s.ts <= now]
        previous = [s for s in samples if now - 2 * d < s.ts <= now - d]
        before, after = _mean(previous), _mean(current)
        return None if before is None or after is None else (before, after)

    def decide(self, rule, state, samples: list, now: float) -> tuple:
        change = self.change(rule, samples, now)
        rise = change[1] - change[0] if change else 0.0
        if state.open_since is None:
            if change and rise >= rule.threshold and engine.may_open(rule, state, now):
                details = {"previous_mean": round(change[0], 4), "rise": round(rise, 4)}
                return engine.opened(state, rule, now, round(change[1], 4), details)
        elif rise < rule.threshold / 2 or not rule.active_at(now):
            return engine.closed(state, rule, now)
        return state, []


register(Rise())
