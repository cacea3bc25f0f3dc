"""Stored observations: numbers per analysed frame, never pixels."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.inference.labels import EMOTION_COLUMNS, EMOTIONS
from app.inference.smoothing import frame_mean
from app.models import Observation, ObservationRollup, TrackSpan
from app.models.base import utcnow
from app.reporting.aggregate import SLOT_S
from app.timefmt import iso_utc


def record(
    tenant_id: int,
    site_id: int,
    camera_id: int,
    ts: datetime,
    model_version: str,
    faces: list[dict],
    latency_ms: float,
    people: int | None = None,
) -> Observation | None:
    """Store one frame's result; None when the camera was deleted meanwhile."""
    mean = frame_mean(faces) or {}
    obs = Observation(
        tenant_id=tenant_id,
        site_id=site_id,
        camera_id=camera_id,
        ts=ts,
        model_version=model_version,
        face_count=len(faces),
        faces=faces,
        latency_ms=round(latency_ms, 1),
        people=people,
        **{k: mean.get(k) for k in EMOTIONS},
    )
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    if postgresql:
        # A frame's numbers need not wait for the WAL flush: a database crash may forget the last
        # fraction of a second of observations, never leave them half-written; a camera stream
        # no longer stalls behind a checkpoint's disk sync. Alerts keep synchronous commits.
        db.session.execute(text("SET LOCAL synchronous_commit TO OFF"))
    db.session.add(obs)
    try:
        db.session.flush()
        db.session.execute(rollup_upsert(obs, postgresql))
        spans = track_span_upsert(obs, postgresql)
        if spans is not None:
            db.session.execute(spans)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    return obs


def rollup_upsert(obs: Observation, postgresql: bool):
    """Add one observation to its camera's 15-minute slot (insert or update in one statement, so
    that concurrent workers never lose a count)."""
    epoch = int(obs.ts.timestamp())
    values = {
        "camera_id": obs.camera_id,
        "slot": epoch // SLOT_S,
        "tenant_id": obs.tenant_id,
        "site_id": obs.site_id,
        "observations": 1,
        "faces": obs.face_count,
        "classified": int(getattr(obs, EMOTION_COLUMNS[-1]) is not None),  # all scores are null or none
        "minutes": 1 << ((epoch // 60) % (SLOT_S // 60)),
        **{e: getattr(obs, e) or 0.0 for e in EMOTIONS},
    }
    insert = (pg_insert if postgresql else sqlite_insert)(ObservationRollup)
    stmt = insert.values(**values)
    table = ObservationRollup.__table__.c
    added = {k: table[k] + stmt.excluded[k] for k in ("observations", "faces", "classified", *EMOTIONS)}
    return stmt.on_conflict_do_update(
        index_elements=["camera_id", "slot"], set_={**added, "minutes": table.minutes.op("|")(stmt.excluded.minutes)}
    )


def track_span_upsert(obs: Observation, postgresql: bool):
    """Widen each face track's span to this frame (one statement for all the frame's tracks, or
    None when no face carries a track id). Rows in track id order, so that two workers of one
    camera lock them in the same order."""
    ids = sorted({str(f["track_id"]) for f in obs.faces if isinstance(f, dict) and f.get("track_id")})
    if not ids:
        return None
    rows = [
        {
            "tenant_id": obs.tenant_id,
            "site_id": obs.site_id,
            "camera_id": obs.camera_id,
            "track_id": tid,
            "first_seen": obs.ts,
            "last_seen": obs.ts,
            "frames": 1,
        }
        for tid in ids
    ]
    stmt = (pg_insert if postgresql else sqlite_insert)(TrackSpan).values(rows)
    table = TrackSpan.__table__.c
    # Frames of one camera may be stored out of order by its workers: min/max, not "latest".
    least, greatest = (func.least, func.greatest) if postgresql else (func.min, func.max)
    return stmt.on_conflict_do_update(
        index_elements=["camera_id", "track_id"],
        set_={
            "first_seen": least(table.first_seen, stmt.excluded.first_seen),
            "last_seen": greatest(table.last_seen, stmt.excluded.last_seen),
            "frames": table.frames + 1,
        },
    )


def observation_dict(obs: Observation) -> dict:
    return {
        "id": obs.id,
        "camera_id": obs.camera_id,
        "site_id": obs.site_id,
        "ts": iso_utc(obs.ts),
        "model_version": obs.model_version,
        "faces": obs.faces,
        "latency_ms": obs.latency_ms,
        "people": obs.people,
    }


def query(stmt_base, camera_id: int | None, since: datetime | None, until: datetime | None):
    stmt = stmt_base
    if camera_id is not None:
        stmt = stmt.where(Observation.camera_id == camera_id)
    if since is not None:
        stmt = stmt.where(Observation.ts >= since)
    if until is not None:
        stmt = stmt.where(Observation.ts <= min(until, utcnow()))
    return stmt
