"""Anonymous face tracks: per camera, faces are linked across frames by box position and motion.

Nothing about a face's appearance is used or kept: a track is a box, its velocity, when it was
last seen and a random id. The state is a small JSON-able dict (numbers and ids only), so that
it can live in the shared state store and be updated atomically by whichever worker holds a
camera's frame. Frames may arrive out of order within the lateness bound: a late frame is
matched against the tracks' boxes extrapolated back to its time and never moves them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

Box = tuple[float, float, float, float]  # x, y, w, h in pixels

#: Below this IoU between a track's predicted box and a detection they are not the same face.
MIN_IOU = 0.2
#: Velocity is extrapolated at most this long (a long gap would fling the box off the face).
MAX_PREDICT_S = 1.0
#: Weight of the newest velocity measurement (the rest is the previous estimate).
VELOCITY_ALPHA = 0.5


@dataclass(frozen=True)
class TrackerConfig:
    ttl_s: float = 3.0  # a track ends after it is unseen this long
    min_iou: float = MIN_IOU


def new_track_id() -> str:
    """64 random bits: unique in practice, carries no camera, day, counter or order."""
    return secrets.token_hex(8)


def iou(a: Box, b: Box) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = min(ax + aw, bx + bw) - max(ax, bx)
    ih = min(ay + ah, by + bh) - max(ay, by)
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


def predict(track: dict, ts: float) -> Box:
    """The track's box at ``ts`` under constant velocity (backwards too, for a late frame)."""
    dt = max(-MAX_PREDICT_S, min(MAX_PREDICT_S, ts - track["t"]))
    x, y, w, h = track["box"]
    vx, vy, vw, vh = track["v"]
    return (x + vx * dt, y + vy * dt, max(1.0, w + vw * dt), max(1.0, h + vh * dt))


def update(state: dict | None, boxes: list[Box], ts: float, config: TrackerConfig | None = None) -> tuple[dict, list[str]]:
    """Link this frame's face ``boxes`` (taken at ``ts``, seconds) to the camera's tracks.

    Returns the new state and one track id per box, in order. ``state`` is not modified.
    Matching is greedy by IoU of the predicted boxes (SORT-style, without appearance), each
    track and each box used at most once; a box left over starts a new track.
    """
    config = config or TrackerConfig()
    state = state or {}
    now = max(float(state.get("t", ts)), ts)
    # Expire on the newest time seen, so that a late frame never revives an ended track.
    tracks = [dict(t) for t in state.get("tracks", []) if now - t["t"] <= config.ttl_s]
    pairs = []
    for ti, track in enumerate(tracks):
        guess = predict(track, ts)
        for bi, box in enumerate(boxes):
            score = iou(guess, box)
            if score >= config.min_iou:
                pairs.append((score, ti, bi))
    pairs.sort(key=lambda p: -p[0])
    ids: list[str | None] = [None] * len(boxes)
    used: set[int] = set()
    for _score, ti, bi in pairs:
        if ti in used or ids[bi] is not None:
            continue
        used.add(ti)
        track, box = tracks[ti], tuple(float(v) for v in boxes[bi])
        ids[bi] = track["id"]
        dt = ts - track["t"]
        if dt > 0:  # a newer frame moves the track; a late one (dt <= 0) only gets its id
            if dt >= 0.01:
                measured = [(n - o) / dt for n, o in zip(box, track["box"], strict=True)]
                track["v"] = [
                    round(VELOCITY_ALPHA * m + (1 - VELOCITY_ALPHA) * v, 3) for m, v in zip(measured, track["v"], strict=True)
                ]
            track["box"] = [round(v, 1) for v in box]
            track["t"] = ts
        track["first"] = min(track.get("first", ts), ts)
        track["n"] = track.get("n", 1) + 1
    for bi, box in enumerate(boxes):
        if ids[bi] is None:
            track = {"id": new_track_id(), "box": [round(float(v), 1) for v in box], "v": [0.0] * 4, "t": ts, "first": ts, "n": 1}
            tracks.append(track)
            ids[bi] = track["id"]
    return {"t": now, "tracks": tracks}, [i for i in ids if i is not None]


def live_tracks(state: dict | None, now: float, config: TrackerConfig | None = None) -> list[dict]:
    """Tracks not yet ended at ``now``: the people in view."""
    config = config or TrackerConfig()
    return [t for t in (state or {}).get("tracks", []) if now - t["t"] <= config.ttl_s]
