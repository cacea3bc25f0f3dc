"""Per-camera status for the admin pages: last frame, analysed frames per second over the last
minute, and today's (UTC) counts of frames analysed, refused and dropped as stale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.infra.state import PREFIX, RedisStore, store
from app.models import Camera, Observation

TTL_S = 2 * 86400


def stats_key(camera_id: int, day: str | None = None) -> str:
    return f"camstats:{camera_id}:{day or datetime.now(UTC).strftime('%Y%m%d')}"


def record(camera_id: int, outcome: str) -> None:
    """Count one frame outcome: received, refused, stale or analysed. Never fails the caller."""
    try:
        store().tally(stats_key(camera_id), outcome, TTL_S)
    except Exception:  # noqa: BLE001 - statistics must not cost a frame
        pass


def count_refusal(camera_id: int, code: str) -> None:
    """A frame refused before admission: ``frames_rejected_<code>`` for /metrics and the camera's
    refused count, in one round trip. Raises when the state store is down, as a counter does."""
    state = store()
    if isinstance(state, RedisStore):
        key = PREFIX + stats_key(camera_id)
        pipe = state.redis.pipeline(transaction=False)
        pipe.hincrby(PREFIX + "counters", f"frames_rejected_{code}", 1)
        pipe.hincrby(key, "refused", 1)
        pipe.expire(key, TTL_S)
        pipe.execute()
        return
    state.count(f"frames_rejected_{code}")
    state.tally(stats_key(camera_id), "refused", TTL_S)


def status_of(cameras: list[Camera]) -> dict[int, dict]:
    """Camera id -> {last_seen_at, fps, received, refused, stale, analysed} (one grouped query)."""
    since = datetime.now(UTC) - timedelta(seconds=60)
    ids = [c.id for c in cameras]
    recent = dict(
        db.session.execute(
            select(Observation.camera_id, func.count())
            .where(Observation.camera_id.in_(ids or [-1]), Observation.ts >= since)
            .group_by(Observation.camera_id)
        ).all()
    )
    out = {}
    for camera in cameras:
        counts = store().tallies(stats_key(camera.id))
        out[camera.id] = {
            "last_seen_at": camera.last_seen_at,
            "fps": round(recent.get(camera.id, 0) / 60, 2),
            **{k: counts.get(k, 0) for k in ("received", "refused", "stale", "analysed")},
        }
    return out
