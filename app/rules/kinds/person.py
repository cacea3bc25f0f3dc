"""person: one anonymous track sustains the expression. A track holds when it has been in view for
the window and at least ``min_share`` of its own frames reach the threshold, so that people who
take turns never add up to one alert. The alert carries the track id and the face's last box."""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from app.numformat import number, percent
from app.rules import engine
from app.rules.kinds import register
from app.rules.kinds.base import Kind, emotion_words
from app.rules.registry import score_of


def _tracks(window: list) -> dict[str, list[tuple[float, float, tuple | None]]]:
    by_track: dict[str, list] = {}
    for sample in window:
        for track_id, score, box in sample.tracks:
            by_track.setdefault(track_id, []).append((sample.ts, score, box))
    return by_track


class Person(Kind):
    name = "person"
    position = 2
    label = _l("One person")
    help = _l(
        "Fires when one face, followed by its position only (an anonymous track that expires), stays above the score "
        "for the duration. The alert names the camera and the track number, never who it is."
    )
    uses = ("min_share",)

    def sample(self, rule, ts: float, faces: list[dict]) -> engine.Sample:
        # Faces without a track (older data, untracked callers) cannot sustain anything: left out.
        tracks = tuple(
            (str(f["track_id"]), round(score_of(rule.emotion, f["scores"]), 4), tuple(f["box"]) if f.get("box") else None)
            for f in faces
            if f.get("scores") and f.get("track_id") is not None
        )
        value = max((t[1] for t in tracks), default=0.0)
        return engine.Sample(ts, value >= rule.threshold, value, tracks)

    def describe(self, rule) -> str:
        return gettext(
            "%(emotion)s: one person above %(threshold)s for %(seconds)d s (%(share)s of their frames)",
            emotion=emotion_words(rule.emotion),
            threshold=number(rule.threshold),
            share=percent(rule.min_share),
            seconds=rule.duration_s,
        )

    def explain(self, details: dict | None) -> str:
        track = (details or {}).get("track_id")
        return gettext("anonymous track %(track)s", track=track) if track else ""

    def alert_text(self, emotion: str, value: float, details: dict | None) -> str:
        return gettext(
            "one person's %(emotion)s above the rule's threshold (%(value)d %%, %(track)s)",
            emotion=emotion,
            value=round(value * 100),
            track=self.explain(details) or "?",
        )

    def _share(self, rule, frames: list) -> float:
        return sum(score >= rule.threshold for _, score, _ in frames) / len(frames) if frames else 0.0

    def decide(self, rule, state, samples: list, now: float) -> tuple:
        window, _ = engine.window_of(rule, samples, now)
        tracks = _tracks(window)
        if state.open_since is None:
            if not engine.may_open(rule, state, now):
                return state, []
            held = [
                (self._share(rule, frames), track_id, frames)
                for track_id, frames in tracks.items()
                if engine.spanned([f[0] for f in frames], now) >= engine.COVERAGE * rule.duration_s
            ]
            held = [h for h in held if h[0] >= rule.min_share]
            if held:
                _, track_id, frames = max(held, key=lambda h: (h[0], h[1]))
                value = max(score for _, score, _ in frames if score >= rule.threshold)
                box = frames[-1][2]
                details = {"track_id": track_id, "box": list(box) if box else None}
                return engine.opened(state, rule, now, value, details, {"track_id": track_id})
        else:
            frames = tracks.get((state.detail or {}).get("track_id"), [])
            if self._share(rule, frames) < rule.release or not rule.active_at(now):
                return engine.closed(state, rule, now)
        return state, []


register(Person())
