"""Temporal smoothing of what the live page shows (raw scores stay stored and emitted)."""

from __future__ import annotations

from app.inference.labels import EMOTIONS


def ema(previous: dict[str, float] | None, current: dict[str, float] | None, alpha: float) -> dict[str, float] | None:
    """Exponential moving average of two score dicts; ``alpha`` weighs the current frame."""
    if current is None:
        return previous
    if previous is None:
        return dict(current)
    return {k: round(alpha * current[k] + (1.0 - alpha) * previous[k], 4) for k in EMOTIONS}


def frame_mean(faces: list[dict]) -> dict[str, float] | None:
    """Mean scores over a frame's classified faces, or None when none was classified."""
    scored = [f["scores"] for f in faces if f.get("scores")]
    if not scored:
        return None
    return {k: round(sum(s[k] for s in scored) / len(scored), 4) for k in EMOTIONS}


def ema_tracks(
    previous: dict[str, dict[str, float]] | None, faces: list[dict], alpha: float, live: set[str]
) -> dict[str, dict[str, float]]:
    """Per-track EMA: each face's scores blend only with its own track's history (two people are
    never averaged together). Tracks not in ``live`` are dropped, so that a reading ends with its
    track. A track with two faces in one frame cannot happen (the tracker gives each box its own)."""
    smoothed = {tid: scores for tid, scores in (previous or {}).items() if tid in live}
    for face in faces:
        tid = face.get("track_id")
        if tid is not None and face.get("scores"):
            smoothed[tid] = ema(smoothed.get(tid), face["scores"], alpha) or {}
    return smoothed
