"""share: a frame is a hit when its highest face reaches the threshold; the rule holds when
``min_share`` of the window's frames are hits (the rule as it always was)."""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from app.numformat import number, percent
from app.rules import engine
from app.rules.kinds import register
from app.rules.kinds.base import Kind, emotion_words
from app.rules.registry import score_of


class Share(Kind):
    name = "share"
    position = 1
    label = _l("Most frames")
    help = _l("Fires when enough frames of the window have a face above the score, whoever it is: people taking turns add up.")
    uses = ("min_share", "min_faces")

    def sample(self, rule, ts: float, faces: list[dict]) -> engine.Sample:
        scored = [score_of(rule.emotion, f["scores"]) for f in faces if f.get("scores")]
        value = max(scored, default=0.0)
        return engine.Sample(ts, len(scored) >= rule.min_faces and value >= rule.threshold, round(value, 4))

    def describe(self, rule) -> str:
        return gettext(
            "%(emotion)s: any face above %(threshold)s in %(share)s of the frames of %(seconds)d s",
            emotion=emotion_words(rule.emotion),
            threshold=number(rule.threshold),
            share=percent(rule.min_share),
            seconds=rule.duration_s,
        )

    def alert_text(self, emotion: str, value: float, details: dict | None) -> str:
        return gettext("%(emotion)s above the rule's threshold (%(value)d %%)", emotion=emotion, value=round(value * 100))

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
