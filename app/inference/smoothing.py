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
