"""The one path a frame takes into analysis, whatever sent it: a browser or the edge agent over
/capture (a capture token), or the gateway pulling a stream camera (no token).

Every frame goes through the same checks, in this order: the camera still exists with the
caller's token and is enabled; analysis is lawful at its site; size and pixel limits; the
camera's rate; admission to the queue; then last-seen and dispatch by task name
(``emotiscan.analyze_frame``, sent by app/tasks/dispatch.py). The acknowledgement is a dict:
``{"ok": True, "frame_id": ...}`` or ``{"ok": False, "error": code[, "message": ...]}``.
"""

from __future__ import annotations

import time
import uuid
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import select

from app import jobs
from app.extensions import db
from app.inference.jpeg import FrameError, check_frame
from app.infra.state import store
from app.models import Camera, Site, Tenant
from app.models.base import utcnow
from app.services.admission import admit_frame, release_frame
from app.services.privacy import analysis_refusal

ANALYZE_TASK = "emotiscan.analyze_frame"
SEEN_EVERY_S = 5  # last_seen_at is written at most this often per session: one UPDATE, not one per frame
ENCODE_QUALITY = 85  # a decoded image is encoded once, here, to the JPEG analysis takes


@dataclass
class IntakeSession:
    """What a caller keeps per connection (a socket, a pulled stream): the camera as of the last
    check and its rate limiter. ``token_hash`` None: a server-side caller, no token to verify."""

    camera_id: int
    tenant_id: int
    site_id: int
    fps: int
    token_hash: str | None = None
    tokens: float = 0.0
    refilled: float = field(default_factory=time.monotonic)
    seen_written: float = 0.0

    @classmethod
    def for_camera(cls, camera: Camera, with_token: bool = True) -> IntakeSession:
        """A session with a full bucket (one second of frames)."""
        token = camera.token_hash if with_token else None
        return cls(camera.id, camera.tenant_id, camera.site_id, camera.fps, token, tokens=camera.fps * 1.5)

    def take(self) -> bool:
        """Token bucket: the camera's rate with 50% slack and a burst of one second."""
        now = time.monotonic()
        rate = self.fps * 1.5
        self.tokens = min(rate, self.tokens + (now - self.refilled) * rate)
        self.refilled = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


def encode_image(image: Any) -> bytes:
    """A decoded BGR image (numpy array) as JPEG bytes; anything else is refused as bad_request."""
    import cv2
    import numpy as np

    if not isinstance(image, np.ndarray) or image.ndim not in (2, 3) or image.size == 0 or image.dtype != np.uint8:
        raise FrameError("bad_request", "the frame must be JPEG bytes or an 8-bit BGR image")
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, ENCODE_QUALITY])
    if not ok:
        raise FrameError("bad_image", "the image could not be encoded")
    return buffer.tobytes()


def _refused(code: str, message: str | None = None) -> dict:
    store().count(f"frames_rejected_{code}")
    body: dict = {"ok": False, "error": code}
    if message:
        body["message"] = message
    return body


def accept_frame(session: IntakeSession, frame: Any, received_at: float | None = None, client_ts: float | None = None) -> dict:
    """Check one frame of ``session``'s camera and hand it to analysis; the acknowledgement.

    ``frame``: JPEG bytes, or a decoded BGR ndarray (encoded once, here). ``received_at``: when
    the frame arrived (``time.time()``), by default now. Errors ``token_revoked`` (token
    rotated, camera deleted) and ``camera_gone`` / ``camera_disabled`` tell the caller to stop.
    """
    received_at = time.time() if received_at is None else received_at
    row = db.session.execute(
        select(Camera.token_hash, Camera.site_id, Camera.enabled, Site.setting, Site.purpose, Tenant.outside_eu)
        .join(Site, Site.id == Camera.site_id)
        .join(Tenant, Tenant.id == Camera.tenant_id)
        .where(Camera.id == session.camera_id)
    ).first()
    if session.token_hash is not None and (row is None or row.token_hash != session.token_hash):
        return {"ok": False, "error": "token_revoked"}  # rotated or deleted: the old token stops at once
    if row is None:
        return {"ok": False, "error": "camera_gone"}
    if not row.enabled:
        return {"ok": False, "error": "camera_disabled"}
    session.site_id = row.site_id  # a camera moved to another site streams into the new site at once
    refusal = analysis_refusal(row.setting, row.purpose, row.outside_eu)  # checked on every frame, like the token
    if refusal:
        store().count("frames_rejected_purpose")
        return {
            "ok": False,
            "error": refusal,
            "message": "Emotion analysis is not allowed for this site's declared setting and purpose.",
        }
    counters = store()
    cfg = current_app.config
    try:
        jpeg = frame if isinstance(frame, (bytes, bytearray, memoryview)) or frame is None else encode_image(frame)
        check_frame(jpeg, cfg["MAX_FRAME_BYTES"], cfg["MAX_FRAME_PIXELS"])
    except FrameError as exc:
        counters.count(f"frames_rejected_{exc.code}")
        return {"ok": False, "error": exc.code}
    if not session.take():
        return _refused("rate_limited")
    frame_id = uuid.uuid4().hex
    busy = admit_frame(session.tenant_id, session.camera_id, frame_id)
    if busy:
        counters.count(f"frames_rejected_{busy}")
        return {"ok": False, "error": "busy"}
    counters.count("frames_received")
    if received_at - session.seen_written > SEEN_EVERY_S:
        session.seen_written = received_at
        db.session.execute(Camera.__table__.update().where(Camera.id == session.camera_id).values(last_seen_at=utcnow()))
        db.session.commit()
    try:
        args = (session.tenant_id, session.site_id, session.camera_id, frame_id, received_at, bytes(jpeg), client_ts)
        jobs.enqueue(ANALYZE_TASK, *args)
    except Exception:
        with suppress(Exception):  # give its place back at once when the state store is up
            release_frame(session.tenant_id, session.camera_id, frame_id)
        raise
    return {"ok": True, "frame_id": frame_id}
