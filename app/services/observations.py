"""Stored observations: numbers per analysed frame, never pixels."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.inference.labels import EMOTIONS
from app.inference.smoothing import frame_mean
from app.models import Observation
from app.models.base import utcnow


def record(tenant_id: int, site_id: int, camera_id: int, ts: datetime, model_version: str, faces: list[dict],
           latency_ms: float) -> Observation | None:
    """Store one frame's result; None when the camera was deleted meanwhile."""
    mean = frame_mean(faces) or {}
    obs = Observation(tenant_id=tenant_id, site_id=site_id, camera_id=camera_id, ts=ts, model_version=model_version,
                      face_count=len(faces), faces=faces, latency_ms=round(latency_ms, 1),
                      **{k: mean.get(k) for k in EMOTIONS})
    db.session.add(obs)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    return obs


def observation_dict(obs: Observation) -> dict:
    return {"id": obs.id, "camera_id": obs.camera_id, "site_id": obs.site_id,
            "ts": obs.ts.astimezone(UTC).isoformat().replace("+00:00", "Z"), "model_version": obs.model_version,
            "faces": obs.faces, "latency_ms": obs.latency_ms}


def query(stmt_base, camera_id: int | None, since: datetime | None, until: datetime | None):
    stmt = stmt_base
    if camera_id is not None:
        stmt = stmt.where(Observation.camera_id == camera_id)
    if since is not None:
        stmt = stmt.where(Observation.ts >= since)
    if until is not None:
        stmt = stmt.where(Observation.ts <= min(until, utcnow()))
    return stmt



