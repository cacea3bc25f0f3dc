"""One frame through the pipeline: staleness, inference, storage, smoothing, fan-out.

Runs in a Celery worker, the embedded thread pool, or the test's thread, always inside an app
context. The JPEG bytes exist only in this call's memory.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.inference.jpeg import FrameError
from app.inference.pipeline import FrameAnalysis, analyze_jpegs
from app.inference.preprocessing import QualityLimits
from app.inference.registry import get_models
from app.inference.smoothing import ema, ema_tracks, frame_mean
from app.infra.state import Update, store
from app.services import alerts, camera_status, observations
from app.services.admission import release_keys
from app.tracking.tracker import TrackerConfig, live_tracks
from app.tracking.tracker import update as track_faces

log = logging.getLogger(__name__)


LATENCY_BUCKETS_MS = (25, 50, 100, 150, 250, 500, 1000, 2500, 5000)


def latency_bucket(latency_ms: float) -> str:
    """The smallest histogram bucket that holds this latency ("inf" past the last one)."""
    return next((str(b) for b in LATENCY_BUCKETS_MS if latency_ms <= b), "inf")


def quality_limits() -> QualityLimits:
    cfg = current_app.config
    return QualityLimits(cfg["MIN_FACE_PX"], cfg["MIN_FACE_SHARPNESS"], cfg["MIN_FACE_BRIGHTNESS"])


@dataclass
class FrameOutcome:
    """What analysing one frame produced, for the caller to publish (app.events)."""

    payload: dict | None = None  # the observation event; None when the frame was dropped
    error: str | None = None  # a frame that could not be decoded: its camera is told
    alerts: list[tuple[str, dict]] = field(default_factory=list)  # (event, alert object)


@dataclass(frozen=True)
class Frame:
    """One admitted frame as a worker takes it. ``redelivered``: handed again after the worker that
    first took it died, so it may already be stored (then it is skipped)."""

    tenant_id: int
    site_id: int
    camera_id: int
    frame_id: str
    received_at: float
    jpeg: bytes
    client_ts: float | None = None
    redelivered: bool = False


def _track_step(
    prev: dict | None,
    boxes: list[tuple],
    received_at: float,
    config: TrackerConfig,
    faces: list[dict],
    alpha: float,
    result: dict,
) -> dict:
    tracked, ids = track_faces(prev, boxes, received_at, config)
    live = {t["id"] for t in live_tracks(tracked, tracked["t"], config)}
    readings = [dict(face, track_id=tid) for face, tid in zip(faces, ids, strict=True)]
    tracked["smooth"] = ema_tracks((prev or {}).get("smooth"), readings, alpha, live)
    result.update(
        ids=ids, people=len(live), smooth={tid: tracked["smooth"].get(tid) for tid in set(ids) if tid in tracked["smooth"]}
    )
    return tracked


def track_update(frames: list[tuple[float, list[dict]]], results: list[tuple[dict[str, dict], int]]) -> Update:
    """The update of one camera's track state by several of its frames, in their order: gives
    each face its anonymous ``track_id`` (by box and motion only) and smooths its scores on its
    own track; ``results`` receives, per frame, (its tracks' smoothed scores, people in view =
    live tracks). One small state per camera, updated atomically, so that the workers sharing a
    camera's frames link them the same way."""
    cfg = current_app.config
    config = TrackerConfig(ttl_s=float(cfg["TRACK_TTL_S"]))

    def step(prev: dict | None) -> dict:
        results.clear()  # may run again on a conflict (Redis)
        for received_at, faces in frames:
            result: dict = {}
            prev = _track_step(prev, [tuple(f["box"]) for f in faces], received_at, config, faces, cfg["SMOOTHING_ALPHA"], result)
            for face, tid in zip(faces, result["ids"], strict=True):
                face["track_id"] = tid
            results.append((result["smooth"], result["people"]))
        return prev

    # The state outlives the track's TTL by the lateness bound: a late frame still finds it.
    return step, int(config.ttl_s + cfg["STALE_FRAME_S"]) + 2


def smooth_update(means: list[dict | None], alpha: float, steps: list[dict | None]) -> Update:
    """The update of one camera's smoothed mean by its frames' mean scores, in their order;
    ``steps`` receives the smoothed value after each frame."""

    def step(prev: dict | None) -> dict:
        steps.clear()  # may run again on a conflict
        for mean in means:
            prev = ema(prev or None, mean, alpha) or {}
            steps.append(prev or None)
        return prev

    return step, 30


def process_frame(
    tenant_id: int, site_id: int, camera_id: int, frame_id: str, received_at: float, jpeg: bytes, client_ts: float | None = None
) -> FrameOutcome:
    """One frame: a batch of one."""
    return process_batch([Frame(tenant_id, site_id, camera_id, frame_id, received_at, jpeg, client_ts)])[0]


def _store(new: list[observations.NewObservation]) -> dict[tuple[int, str], int]:
    """The batch's observations in the session's transaction; frame by frame (each committed) when
    a camera was deleted meanwhile or another worker stored one of the frames, so that the other
    frames are kept (and the one stored twice skipped)."""
    try:
        return observations.add_batch(new)
    except IntegrityError:
        db.session.rollback()
    ids = {}
    for item in new:
        obs = observations.record(
            item.tenant_id,
            item.site_id,
            item.camera_id,
            item.ts,
            item.model_version,
            item.faces,
            item.latency_ms,
            item.people,
            item.frame_id,
        )
        if obs is not None:
            ids[item.camera_id, item.frame_id] = obs.id
    return ids


def process_batch(frames: list[Frame]) -> list[FrameOutcome]:
    """Analyse, store, smooth and evaluate the rules for several frames at once; one outcome per
    frame, in order. Publishing is the caller's (app.events).

    Per frame: the stale rule, decoding and detection; for the batch: one classification of all
    its faces, one state-store update per camera for tracks, smoothing and each rule, and one
    database transaction for all observations, rollups, track spans and alerts. The result per
    frame is what analysing the frames one by one, in this order, gives."""
    state = store()
    cfg = current_app.config
    outcomes = [FrameOutcome() for _ in frames]
    counts: dict[str, int] = {}
    tallies: dict[str, dict[str, int]] = {}

    def count(name: str, amount: int = 1) -> None:
        counts[name] = counts.get(name, 0) + amount

    def tally(camera_id: int, outcome: str) -> None:
        fields = tallies.setdefault(camera_status.stats_key(camera_id), {})
        fields[outcome] = fields.get(outcome, 0) + 1

    try:
        now = time.time()
        live = []
        for i, frame in enumerate(frames):
            if now - frame.received_at > cfg["STALE_FRAME_S"]:
                count("frames_stale")
                tally(frame.camera_id, "stale")
            else:
                live.append(i)
        if any(frames[i].redelivered for i in live):  # never analyse a frame twice
            done = observations.stored_frames([(frames[i].camera_id, frames[i].frame_id) for i in live if frames[i].redelivered])
            live = [i for i in live if (frames[i].camera_id, frames[i].frame_id) not in done]
        if not live:
            return outcomes
        models = get_models(cfg["MODEL_DIR"])
        results = analyze_jpegs([frames[i].jpeg for i in live], models.detector, models.classifier, quality_limits())
        analysed: list[tuple[int, FrameAnalysis]] = []
        for i, result in zip(live, results, strict=True):
            if isinstance(result, FrameError):
                count(f"frames_failed_{result.code}")
                outcomes[i].error = result.code
            else:
                analysed.append((i, result))
        if not analysed:
            return outcomes
        faces = {i: [face.as_dict() for face in result.faces] for i, result in analysed}
        by_camera: dict[int, list[int]] = {}
        for i, _ in analysed:
            by_camera.setdefault(frames[i].camera_id, []).append(i)
        # All of the batch's shared state in one transaction: per camera its tracks (first: the
        # rules read the track ids they give) and smoothed mean, then each (rule, camera).
        updates: dict[str, Update] = {}
        found: dict[int, list[tuple[dict, int]]] = {}
        steps: dict[int, list[dict | None]] = {}
        for camera_id, indexes in by_camera.items():
            found[camera_id], steps[camera_id] = [], []
            updates[f"tracks:{camera_id}"] = track_update([(frames[i].received_at, faces[i]) for i in indexes], found[camera_id])
            means = [frame_mean(faces[i]) for i in indexes]
            updates[f"smooth:{camera_id}"] = smooth_update(means, cfg["SMOOTHING_ALPHA"], steps[camera_id])
        readings = [
            alerts.Reading(frames[i].tenant_id, frames[i].site_id, frames[i].camera_id, frames[i].received_at, faces[i])
            for i, _ in analysed
        ]
        rules = alerts.rule_updates(readings)
        updates.update(rules.updates)
        state.update_json_many(updates)
        tracks: dict[int, tuple[dict, int]] = {}
        smoothed: dict[int, dict | None] = {}
        for camera_id, indexes in by_camera.items():
            tracks.update(zip(indexes, found[camera_id], strict=True))
            smoothed.update(zip(indexes, steps[camera_id], strict=True))
        latency_ms = {i: (time.time() - frames[i].received_at) * 1000.0 for i, _ in analysed}
        new = [
            observations.NewObservation(
                f.tenant_id,
                f.site_id,
                f.camera_id,
                datetime.fromtimestamp(f.received_at, UTC),
                models.version,
                faces[i],
                latency_ms[i],
                tracks[i][1],
                f.frame_id,
            )
            for i, _ in analysed
            for f in (frames[i],)
        ]
        ids = _store(new)
        kept = {n for n, (i, _) in enumerate(analysed) if (frames[i].camera_id, frames[i].frame_id) in ids}
        stored = [analysed[n] for n in sorted(kept)]
        changed = [c for n, c in enumerate(alerts.batch_alerts(rules, kept)) if n in kept]
        if any(changed) and db.session.get_bind().dialect.name == "postgresql":
            db.session.execute(text("SET LOCAL synchronous_commit TO ON"))  # alerts are kept synchronous
        db.session.commit()
        for (i, result), produced in zip(stored, changed, strict=True):
            f = frames[i]
            outcomes[i].payload = {
                "observation_id": ids[f.camera_id, f.frame_id],
                "frame_id": f.frame_id,
                "camera_id": f.camera_id,
                "site_id": f.site_id,
                "ts": int(f.received_at * 1000),
                "client_ts": f.client_ts,
                "model_version": models.version,
                # Each face: box, scores and its anonymous track_id, as stored; its track's smoothed
                # scores are in "tracks".
                "faces": faces[i],
                "latency_ms": round(latency_ms[i], 1),
                "smoothed": smoothed.get(i),  # the camera's mean over all faces (kept for older clients)
                "tracks": tracks[i][0],  # track_id -> smoothed scores, for the faces of this frame
                "people": tracks[i][1],  # faces in view: tracks not yet ended (seen within TRACK_TTL_S)
                "width": result.width,
                "height": result.height,
            }
            outcomes[i].alerts = [(f"alert.{a.status}", alerts.alert_dict(a)) for a in produced]
            count("frames_analyzed")
            tally(f.camera_id, "analysed")
            count("analysis_ms_total", int(latency_ms[i]))
            count(f"latency_bucket_{latency_bucket(latency_ms[i])}")
        return outcomes
    finally:
        try:
            releases = [(release_keys(f.tenant_id, f.camera_id), f.frame_id) for f in frames]
            state.settle(counts, tallies, camera_status.TTL_S, releases)
        finally:
            db.session.remove()
