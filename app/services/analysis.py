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

from app.extensions import db
from app.inference.jpeg import FrameError
from app.inference.pipeline import analyze_jpeg
from app.inference.preprocessing import QualityLimits
from app.inference.registry import get_models
from app.inference.smoothing import ema, ema_tracks, frame_mean
from app.infra.state import StateStore, store
from app.services import alerts, camera_status, observations
from app.services.admission import release_frame
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


def assign_tracks(state: StateStore, camera_id: int, received_at: float, faces: list[dict]) -> tuple[dict[str, dict], int]:
    """Give each face its camera's anonymous ``track_id`` (by box and motion only) and smooth its
    scores on its own track. Returns (per-track smoothed scores, people in view = live tracks).

    One atomic update of one small state per camera, so that the workers sharing a camera's
    frames link them the same way; ``fn`` may run again on a conflict (Redis), hence the closure."""
    cfg = current_app.config
    config = TrackerConfig(ttl_s=float(cfg["TRACK_TTL_S"]))
    boxes = [tuple(face["box"]) for face in faces]
    result: dict = {}

    def step(prev: dict | None) -> dict:
        tracked, ids = track_faces(prev, boxes, received_at, config)
        live = {t["id"] for t in live_tracks(tracked, tracked["t"], config)}
        readings = [dict(face, track_id=tid) for face, tid in zip(faces, ids, strict=True)]
        tracked["smooth"] = ema_tracks((prev or {}).get("smooth"), readings, cfg["SMOOTHING_ALPHA"], live)
        result.update(ids=ids, people=len(live))
        return tracked

    # The state outlives the track's TTL by the lateness bound: a late frame still finds it.
    saved = state.update_json(f"tracks:{camera_id}", step, ttl_s=int(config.ttl_s + cfg["STALE_FRAME_S"]) + 2)
    for face, tid in zip(faces, result["ids"], strict=True):
        face["track_id"] = tid
    return {tid: s for tid, s in saved.get("smooth", {}).items() if tid in set(result["ids"])}, result["people"]


def process_frame(
    tenant_id: int, site_id: int, camera_id: int, frame_id: str, received_at: float, jpeg: bytes, client_ts: float | None = None
) -> FrameOutcome:
    """Analyse, store, smooth and evaluate the rules; publishing is the caller's (app.events)."""
    state = store()
    cfg = current_app.config
    try:
        age = time.time() - received_at
        if age > cfg["STALE_FRAME_S"]:
            state.count("frames_stale")
            camera_status.record(camera_id, "stale")
            return FrameOutcome()
        models = get_models(cfg["MODEL_DIR"])
        try:
            analysis = analyze_jpeg(jpeg, models.detector, models.classifier, quality_limits())
        except FrameError as exc:
            state.count(f"frames_failed_{exc.code}")
            return FrameOutcome(error=exc.code)
        del jpeg
        faces = [face.as_dict() for face in analysis.faces]
        tracks, people = assign_tracks(state, camera_id, received_at, faces)
        latency_ms = (time.time() - received_at) * 1000.0
        ts = datetime.fromtimestamp(received_at, UTC)
        obs = observations.record(tenant_id, site_id, camera_id, ts, models.version, faces, latency_ms, people)
        if obs is None:
            return FrameOutcome()
        mean, alpha = frame_mean(faces), cfg["SMOOTHING_ALPHA"]
        # Atomic like the rule state: two workers on one camera never lose each other's frames.
        smoothed = state.update_json(f"smooth:{camera_id}", lambda prev: ema(prev or None, mean, alpha) or {}, ttl_s=30) or None
        payload = {
            "observation_id": obs.id,
            "frame_id": frame_id,
            "camera_id": camera_id,
            "site_id": site_id,
            "ts": int(received_at * 1000),
            "client_ts": client_ts,
            "model_version": models.version,
            # Each face: box, scores and its anonymous track_id, as stored; its track's smoothed
            # scores are in "tracks".
            "faces": faces,
            "latency_ms": round(latency_ms, 1),
            "smoothed": smoothed,  # the camera's mean over all faces (kept for older clients)
            "tracks": tracks,  # track_id -> smoothed scores, for the faces of this frame
            "people": people,  # faces in view: tracks not yet ended (seen within TRACK_TTL_S)
            "width": analysis.width,
            "height": analysis.height,
        }
        outcome = FrameOutcome(payload=payload)
        for alert in alerts.evaluate_observation(tenant_id, site_id, camera_id, received_at, faces):
            outcome.alerts.append((f"alert.{alert.status}", alerts.alert_dict(alert)))
        state.count("frames_analyzed")
        camera_status.record(camera_id, "analysed")
        state.count("analysis_ms_total", int(latency_ms))
        state.count(f"latency_bucket_{latency_bucket(latency_ms)}")
        return outcome
    finally:
        release_frame(tenant_id, camera_id, frame_id)
        db.session.remove()
