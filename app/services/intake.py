"""The one path a frame takes into analysis, whatever sent it: a browser or the edge agent over
/capture (a capture token), or the gateway pulling a stream camera (no token).

Every frame goes through the same checks, in this order: the camera still exists with the
caller's token and is enabled; analysis is lawful at its site; size and pixel limits; the
camera's rate; admission to the queue (in the distributed mode, the frames stream in the same
Redis script: app/services/admission.py); then last-seen and, in the other modes, dispatch by
task name (``emotiscan.analyze_frame``, sent by app/tasks/dispatch.py). The acknowledgement is a dict:
``{"ok": True, "frame_id": ...}`` or ``{"ok": False, "error": code[, "message": ...]}``.

The camera, site and tenant facts those checks need are cached on the session, not read per
frame: they are read at the first frame, again on the next frame after any change event that
names the session's camera, site or tenant (:func:`changed`, called for every revocation in
this process: services revoke after the commit of a token rotation, a camera change, a site's
declaration or a tenant's outside-EU flag), and at least every ``REFRESH_S`` seconds in case an
event is lost. In the embedded mode the event is applied inside the committing call, so the next
frame always sees the change; in the distributed mode it arrives by Redis pub/sub (about a
millisecond), and a lost message (Redis restarting) costs at most ``REFRESH_S`` of staleness.
"""

from __future__ import annotations

import threading
import time
import uuid
import weakref
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import select

from app import jobs
from app.extensions import db
from app.inference.jpeg import FrameError, check_frame
from app.models import Camera, Site, Tenant
from app.models.base import utcnow
from app.services import camera_status
from app.services.admission import admit_frame, release_frame, stream_fields, streams_frames
from app.services.privacy import analysis_refusal

ANALYZE_TASK = "emotiscan.analyze_frame"
SEEN_EVERY_S = 5  # last_seen_at is written at most this often per session: one UPDATE, not one per frame
REFRESH_S = 5.0  # the cached camera/site/tenant facts are re-read at least this often (a lost event)
ENCODE_QUALITY = 85  # a decoded image is encoded once, here, to the JPEG analysis takes


@dataclass(frozen=True)
class Facts:
    """What the checks need of the camera, its site and tenant, as of one read."""

    token_hash: str
    enabled: bool
    site_id: int
    refusal: str | None


@dataclass(eq=False)  # identity: sessions live in a weak set
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
    facts: Facts | None = None  # None with ``checked_at`` set: the camera is gone
    checked_at: float = 0.0  # monotonic time of the last read; 0: never read
    changes: int = 0  # bumped by each change event naming this session
    checked_changes: int = -1  # ``changes`` as it was just before the last read

    def __post_init__(self) -> None:
        with _sessions_lock:
            _sessions.add(self)

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


_sessions: weakref.WeakSet[IntakeSession] = weakref.WeakSet()
_sessions_lock = threading.Lock()


def changed(tenant_id: int | None = None, site_id: int | None = None, camera_id: int | None = None) -> int:
    """A committed change of these ids: every matching session of this process re-reads its
    facts on its next frame (no query here; this runs in the event's thread). How many matched."""
    with _sessions_lock:
        matching = [
            s
            for s in _sessions
            if (tenant_id is not None and s.tenant_id == tenant_id)
            or (site_id is not None and s.site_id == site_id)
            or (camera_id is not None and s.camera_id == camera_id)
        ]
        for session in matching:
            session.changes += 1
    return len(matching)


def _facts(session: IntakeSession, now: float) -> Facts | None:
    """The session's cached facts, re-read when an event marked them or they are REFRESH_S old."""
    if session.checked_changes == session.changes and now - session.checked_at < REFRESH_S:
        return session.facts
    marker = session.changes  # taken before the read: an event during it forces another read
    row = db.session.execute(
        select(Camera.token_hash, Camera.site_id, Camera.enabled, Site.setting, Site.purpose, Tenant.outside_eu)
        .join(Site, Site.id == Camera.site_id)
        .join(Tenant, Tenant.id == Camera.tenant_id)
        .where(Camera.id == session.camera_id)
    ).first()
    facts = None
    if row is not None:
        refusal = analysis_refusal(row.setting, row.purpose, row.outside_eu)
        facts = Facts(row.token_hash, bool(row.enabled), row.site_id, refusal)
        session.site_id = row.site_id  # a camera moved to another site streams into the new site at once
    session.facts, session.checked_at, session.checked_changes = facts, now, marker
    return facts


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


def _refused(session: IntakeSession, code: str, message: str | None = None) -> dict:
    camera_status.count_refusal(session.camera_id, code)
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
    facts = _facts(session, time.monotonic())
    if session.token_hash is not None and (facts is None or facts.token_hash != session.token_hash):
        return {"ok": False, "error": "token_revoked"}  # rotated or deleted: the old token stops at once
    if facts is None:
        return {"ok": False, "error": "camera_gone"}
    if not facts.enabled:
        camera_status.record(session.camera_id, "refused")
        return {"ok": False, "error": "camera_disabled"}
    if facts.refusal:  # checked on every frame, like the token
        body = _refused(session, "purpose")
        body.update(error=facts.refusal, message="Emotion analysis is not allowed for this site's declared setting and purpose.")
        return body
    cfg = current_app.config
    try:
        jpeg = frame if isinstance(frame, (bytes, bytearray, memoryview)) or frame is None else encode_image(frame)
        check_frame(jpeg, cfg["MAX_FRAME_BYTES"], cfg["MAX_FRAME_PIXELS"])
    except FrameError as exc:
        return _refused(session, exc.code)
    if not session.take():
        return _refused(session, "rate_limited")
    frame_id = uuid.uuid4().hex
    args = (session.tenant_id, session.site_id, session.camera_id, frame_id, received_at, bytes(jpeg), client_ts)
    # Distributed: the admission script queues the frame too (counted, admitted and queued in one round trip).
    streamed = streams_frames()
    fields = stream_fields(*args) if streamed else None
    if admit_frame(session.tenant_id, session.camera_id, frame_id, counted=True, fields=fields):
        return {"ok": False, "error": "busy"}
    if received_at - session.seen_written > SEEN_EVERY_S:
        session.seen_written = received_at
        db.session.execute(Camera.__table__.update().where(Camera.id == session.camera_id).values(last_seen_at=utcnow()))
        db.session.commit()
    if not streamed:
        try:
            jobs.enqueue(ANALYZE_TASK, *args)
        except Exception:
            with suppress(Exception):  # give its place back at once when the state store is up
                release_frame(session.tenant_id, session.camera_id, frame_id)
            raise
    return {"ok": True, "frame_id": frame_id}
