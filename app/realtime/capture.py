"""Namespace /capture: a camera browser sends JPEG frames; each gets an acknowledgement."""

from __future__ import annotations

import logging
import math
import time
import uuid
from contextlib import suppress
from dataclasses import dataclass, field

from flask import current_app, request
from flask_socketio import Namespace, emit, join_room
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError
from socketio.exceptions import ConnectionRefusedError as Refused
from sqlalchemy import select

from app.extensions import db
from app.inference.jpeg import FrameError, check_frame
from app.infra.state import store
from app.models import Camera, Site, Tenant
from app.models.base import utcnow
from app.realtime.access import registry, subscriber
from app.realtime.guard import guard
from app.services import camera_status
from app.services.admission import admit_frame, release_frame
from app.services.cameras import camera_for_token
from app.services.privacy import analysis_refusal, site_refusal
from app.tasks.dispatch import dispatch_frame
from app.tenancy import camera_room

log = logging.getLogger(__name__)


@dataclass
class CaptureSession:
    camera_id: int
    tenant_id: int
    site_id: int
    fps: int
    token_hash: str
    tokens: float = 0.0
    refilled: float = field(default_factory=time.monotonic)
    seen_written: float = 0.0

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


def connected_cameras() -> int:
    """Capture connections held by this process (a gauge for /metrics)."""
    return registry.captures_count()


def client_timestamp(value: object) -> float | None:
    """The camera's own clock for a frame (ms since the epoch), if it is a sane number: NaN,
    infinities and values past year 2286 would reach browsers as invalid JSON or overflow."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) and 0 <= value < 1e13 else None


class CaptureNamespace(Namespace):
    def on_connect(self, auth=None):
        subscriber.ensure(current_app._get_current_object())
        token = auth.get("token") if isinstance(auth, dict) else None
        camera = camera_for_token(token) if token else None
        if camera is None:
            store().count("capture_refused")
            db.session.remove()
            # socketio's own ConnectionRefusedError: its message reaches the browser (Python's builtin one
            # arrives as "Connection refused by server", which the page cannot tell from a network fault).
            raise Refused("invalid_token")
        session = CaptureSession(
            camera.id, camera.tenant_id, camera.site_id, camera.fps, camera.token_hash, tokens=camera.fps * 1.5
        )
        registry.add_capture(request.sid, session)
        guard.authenticated(request.sid, "/capture")
        join_room(camera_room(camera.id))
        emit(
            "ready",
            {
                "camera_id": camera.id,
                "site_id": camera.site_id,
                "name": camera.name,
                "site_name": camera.site.name,
                "fps": camera.fps,
                "refusal": site_refusal(camera.site),
            },
        )
        db.session.remove()

    def on_disconnect(self, reason=None):
        registry.remove(request.sid)

    def on_frame(self, data=None):
        try:
            ack = self._frame(data)
            session = registry.capture(request.sid)
            if session is not None and ack.get("error") != "token_revoked":
                camera_status.record(session.camera_id, "received" if ack.get("ok") else "refused")
            return ack
        except (RedisError, OperationalError) as exc:  # broker or state store down: say so, keep the connection
            log.warning("frame refused: queue or state store unavailable (%s)", type(exc).__name__)
            return {"ok": False, "error": "unavailable"}
        except Exception:  # noqa: BLE001 - a frame must never take the connection down
            log.exception("capture frame failed")
            return {"ok": False, "error": "server_error"}
        finally:
            db.session.remove()

    def _frame(self, data) -> dict:
        received_at = time.time()
        session = registry.capture(request.sid)
        if session is None:
            return {"ok": False, "error": "unauthorized"}
        row = db.session.execute(
            select(Camera.token_hash, Camera.site_id, Site.setting, Site.purpose, Tenant.outside_eu)
            .join(Site, Site.id == Camera.site_id)
            .join(Tenant, Tenant.id == Camera.tenant_id)
            .where(Camera.id == session.camera_id)
        ).first()
        if row is None or row.token_hash != session.token_hash:  # rotated or deleted: the old token stops at once
            emit("revoked", {"camera_id": session.camera_id})
            return {"ok": False, "error": "token_revoked"}
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
        if not isinstance(data, dict) or "jpeg" not in data:
            counters.count("frames_rejected_bad_request")
            return {"ok": False, "error": "bad_request"}
        cfg = current_app.config
        try:
            check_frame(data["jpeg"], cfg["MAX_FRAME_BYTES"], cfg["MAX_FRAME_PIXELS"])
        except FrameError as exc:
            counters.count(f"frames_rejected_{exc.code}")
            return {"ok": False, "error": exc.code}
        if not session.take():
            counters.count("frames_rejected_rate_limited")
            return {"ok": False, "error": "rate_limited"}
        frame_id = uuid.uuid4().hex
        busy = admit_frame(session.tenant_id, session.camera_id, frame_id)
        if busy:
            counters.count(f"frames_rejected_{busy}")
            return {"ok": False, "error": "busy"}
        client_ts = client_timestamp(data.get("ts"))
        counters.count("frames_received")
        if received_at - session.seen_written > 5:
            session.seen_written = received_at
            db.session.execute(Camera.__table__.update().where(Camera.id == session.camera_id).values(last_seen_at=utcnow()))
            db.session.commit()
        try:
            dispatch_frame(
                session.tenant_id, session.site_id, session.camera_id, frame_id, received_at, bytes(data["jpeg"]), client_ts
            )
        except Exception:
            with suppress(Exception):  # give its place back at once when the state store is up
                release_frame(session.tenant_id, session.camera_id, frame_id)
            raise
        return {"ok": True, "frame_id": frame_id}
