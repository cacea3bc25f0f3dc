"""Stored observations: numbers per analysed frame, never pixels."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, TextClause, bindparam, func, select, text
from sqlalchemy import insert as sa_insert
from sqlalchemy.dialects.postgresql import dialect as pg_dialect
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect
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
    frame_id: str | None = None,
) -> Observation | None:
    """Store one frame's result; None when the camera was deleted meanwhile."""
    row = _row(tenant_id, site_id, camera_id, ts, model_version, faces, latency_ms, people, frame_id)
    obs = Observation(**row)
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    if postgresql:
        # A frame's numbers need not wait for the WAL flush: a database crash may forget the last
        # fraction of a second of observations, never leave them half-written; a camera stream
        # no longer stalls behind a checkpoint's disk sync. Alerts keep synchronous commits.
        db.session.execute(text("SET LOCAL synchronous_commit TO OFF"))
    db.session.add(obs)
    try:
        db.session.flush()
        db.session.execute(*rollups_upsert([row], postgresql))
        spans = track_spans_upsert([row], postgresql)
        if spans is not None:
            db.session.execute(*spans)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    return obs


def _row(
    tenant_id: int,
    site_id: int,
    camera_id: int,
    ts: datetime,
    model_version: str,
    faces: list[dict],
    latency_ms: float,
    people: int | None,
    frame_id: str | None,
) -> dict:
    mean = frame_mean(faces) or {}
    return {
        "tenant_id": tenant_id,
        "site_id": site_id,
        "camera_id": camera_id,
        "ts": ts,
        "model_version": model_version,
        "face_count": len(faces),
        "faces": faces,
        "latency_ms": round(latency_ms, 1),
        "people": people,
        "frame_id": frame_id,
        **{k: mean.get(k) for k in EMOTIONS},
    }


@dataclass
class NewObservation:
    """One analysed frame to store (``frame_id``: the intake's id, stored once)."""

    tenant_id: int
    site_id: int
    camera_id: int
    ts: datetime
    model_version: str
    faces: list[dict]
    latency_ms: float
    people: int | None
    frame_id: str


def stored_frames(frames: list[tuple[int, str]]) -> set[tuple[int, str]]:
    """Which of these (camera id, frame id) are already stored (a frame handed again after its
    worker died)."""
    if not frames:
        return set()
    rows = db.session.execute(
        select(Observation.camera_id, Observation.frame_id).where(Observation.frame_id.in_([f for _, f in frames]))
    )
    return {tuple(r) for r in rows} & set(frames)


def add_batch(items: list[NewObservation]) -> dict[tuple[int, str], int]:
    """Insert several frames' observations, their rollup slots and track spans in the current
    transaction, three statements in all (the caller commits, with the batch's alerts). Returns
    (camera id, frame id) -> observation id for the frames stored.

    Raises IntegrityError when a camera was deleted meanwhile or a frame was stored by another
    worker (the caller then stores frame by frame)."""
    if not items:
        return {}
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    if postgresql:
        # As in record(): a frame's numbers need not wait for the WAL flush; the caller turns it
        # back on when the batch carries an alert.
        db.session.execute(text("SET LOCAL synchronous_commit TO OFF"))
    rows = [
        _row(i.tenant_id, i.site_id, i.camera_id, i.ts, i.model_version, i.faces, i.latency_ms, i.people, i.frame_id)
        for i in items
    ]
    # A plain INSERT, which SQLAlchemy compiles once (an ON CONFLICT one is compiled on every
    # call): a frame stored meanwhile by another worker raises IntegrityError like a deleted
    # camera, and the caller's frame-by-frame path skips it.
    table = Observation.__table__
    stmt = sa_insert(table).returning(table.c.id, table.c.camera_id, table.c.frame_id)
    ids = {(camera_id, frame_id): obs_id for obs_id, camera_id, frame_id in db.session.execute(stmt, rows).all()}
    stored = [row for row in rows if (row["camera_id"], row["frame_id"]) in ids]
    if stored:
        db.session.execute(*rollups_upsert(stored, postgresql))
        spans = track_spans_upsert(stored, postgresql)
        if spans is not None:
            db.session.execute(*spans)
    return ids


def _rollup_values(row: dict) -> dict:
    epoch = int(row["ts"].timestamp())
    return {
        "camera_id": row["camera_id"],
        "slot": epoch // SLOT_S,
        "tenant_id": row["tenant_id"],
        "site_id": row["site_id"],
        "observations": 1,
        "faces": row["face_count"],
        "classified": int(row[EMOTION_COLUMNS[-1]] is not None),  # all scores are null or none
        "minutes": 1 << ((epoch // 60) % (SLOT_S // 60)),
        **{e: row[e] or 0.0 for e in EMOTIONS},
    }


def rollups_upsert(rows: list[dict], postgresql: bool) -> tuple[Any, list[dict]]:
    """Add observations to their cameras' 15-minute slots: added up here per (camera, slot) first,
    then one upsert with its rows in key order, so that two workers lock slots in the same order.
    (statement, rows) to execute: the statement holds no values, so that it is compiled once
    per process, not once per batch."""
    slots: dict[tuple[int, int], dict] = {}
    for row in rows:
        values = _rollup_values(row)
        key = (values["camera_id"], values["slot"])
        if key not in slots:
            slots[key] = values
            continue
        total = slots[key]
        for name in ("observations", "faces", "classified", *EMOTIONS):
            total[name] += values[name]
        total["minutes"] |= values["minutes"]
        total["site_id"] = values["site_id"]
    return _compiled_once(_build_rollup_upsert, ObservationRollup.__table__, [slots[k] for k in sorted(slots)], postgresql)


_upserts: dict[tuple[Callable, bool, tuple[str, ...]], TextClause] = {}


def _compiled_once(build: Callable[[bool], Any], table: Table, values: list[dict], postgresql: bool) -> tuple[Any, list[dict]]:
    """(statement, rows) for the INSERT .. ON CONFLICT built by ``build``, as SQL text compiled
    once per process for these columns. SQLAlchemy does not cache the compilation of ON CONFLICT
    statements (about 1 ms per statement, a third of a one-frame batch's storage); a text
    statement is cached by its text. Its parameters keep their columns' types, so that values are
    converted as the ORM would."""
    keys = tuple(values[0])
    clause = _upserts.get((build, postgresql, keys))
    if clause is None:
        dialect = (pg_dialect if postgresql else sqlite_dialect)(paramstyle="named")
        compiled = build(postgresql).compile(dialect=dialect, column_keys=list(keys))
        if set(compiled.params) - set(keys):  # a column left to a Python default: text has none
            raise ValueError(f"{table.name}: values for {sorted(set(compiled.params) - set(keys))} are needed")
        clause = text(str(compiled)).bindparams(*(bindparam(k, type_=table.c[k].type) for k in keys))
        _upserts[(build, postgresql, keys)] = clause
    return clause, values


def _build_rollup_upsert(postgresql: bool) -> Any:
    stmt = (pg_insert if postgresql else sqlite_insert)(ObservationRollup.__table__)
    table = ObservationRollup.__table__.c
    added = {k: table[k] + stmt.excluded[k] for k in ("observations", "faces", "classified", *EMOTIONS)}
    return stmt.on_conflict_do_update(
        index_elements=["camera_id", "slot"], set_={**added, "minutes": table.minutes.op("|")(stmt.excluded.minutes)}
    )


def track_spans_upsert(rows: list[dict], postgresql: bool) -> tuple[Any, list[dict]] | None:
    """Widen each face track's span to the frames of ``rows`` (one statement, rows in (camera,
    track) order, as (statement, rows); None when no face carries a track id)."""
    spans: dict[tuple[int, str], dict] = {}
    for row in rows:
        for tid in {str(f["track_id"]) for f in row["faces"] if isinstance(f, dict) and f.get("track_id")}:
            span = spans.get((row["camera_id"], tid))
            if span is None:
                spans[(row["camera_id"], tid)] = {
                    "tenant_id": row["tenant_id"],
                    "site_id": row["site_id"],
                    "camera_id": row["camera_id"],
                    "track_id": tid,
                    "first_seen": row["ts"],
                    "last_seen": row["ts"],
                    "frames": 1,
                }
            else:
                span.update(
                    first_seen=min(span["first_seen"], row["ts"]),
                    last_seen=max(span["last_seen"], row["ts"]),
                    frames=span["frames"] + 1,
                )
    if not spans:
        return None
    return _compiled_once(_build_span_upsert, TrackSpan.__table__, [spans[k] for k in sorted(spans)], postgresql)


def _build_span_upsert(postgresql: bool) -> Any:
    stmt = (pg_insert if postgresql else sqlite_insert)(TrackSpan.__table__)
    table = TrackSpan.__table__.c
    # Frames of one camera may be stored out of order by its workers: min/max, not "latest".
    least, greatest = (func.least, func.greatest) if postgresql else (func.min, func.max)
    return stmt.on_conflict_do_update(
        index_elements=["camera_id", "track_id"],
        set_={
            "first_seen": least(table.first_seen, stmt.excluded.first_seen),
            "last_seen": greatest(table.last_seen, stmt.excluded.last_seen),
            "frames": table.frames + stmt.excluded.frames,
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
