"""Namespace /capture: a camera browser (or the edge agent) sends JPEG frames; each gets an
acknowledgement. The checks and the dispatch live in app/services/intake.py; this is the adapter.

"ready" tells the client its camera, site and rate at connect, and again with the first
acknowledgement after the rate or site changed (an admin's edit reaches the connection's intake
session at once): the agent and the capture page then sample at the new rate."""

from __future__ import annotations

import logging
import math
import time

from flask import current_app, request
from flask_socketio import Namespace, emit, join_room
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError
from socketio.exceptions import ConnectionRefusedError as Refused

from app.extensions import end_db_session
from app.infra.state import store
from app.models import Camera
from app.realtime.access import registry, subscriber
from app.realtime.guard import guard
from app.services.cameras import camera_for_token, camera_of_capture
from app.services.intake import IntakeSession, accept_frame
from app.services.privacy import site_refusal
from app.tasks import dispatch as _dispatch  # noqa: F401 - registers the frame sender with app.jobs
from app.tenancy import camera_room

log = logging.getLogger(__name__)


# A /capture socket's state is the intake session: the token it connected with and its rate limiter.
CaptureSession = IntakeSession
# What each socket of this process was last told in "ready": (fps, site_id).
_announced: dict[str, tuple[int, int]] = {}


def connected_cameras() -> int:
    """Capture connections held by this process (a gauge for /metrics)."""
    return registry.captures_count()


def client_timestamp(value: object) -> float | None:
    """The camera's own clock for a frame (ms since the epoch), if it is a sane number: NaN,
    infinities and values past year 2286 would reach browsers as invalid JSON or overflow."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, int) and not 0 <= value < 10**13:
        return None  # float() of an integer of hundreds of digits raises
    value = float(value)
    return value if math.isfinite(value) and 0 <= value < 1e13 else None


def ready_message(camera: Camera) -> dict:
    """The "ready" event: which camera and site this is, the rate to send at, and a lawful-use refusal."""
    return {
        "camera_id": camera.id,
        "site_id": camera.site_id,
        "name": camera.name,
        "site_name": camera.site.name,
        "fps": camera.fps,
        "refusal": site_refusal(camera.site),
    }


class CaptureNamespace(Namespace):
    def on_connect(self, auth=None):
        subscriber.ensure(current_app._get_current_object())
        token = auth.get("token") if isinstance(auth, dict) else None
        camera = camera_for_token(token) if token else None
        if camera is None:
            store().count("capture_refused")
            end_db_session()
            # socketio's own ConnectionRefusedError: its message reaches the browser (Python's builtin one
            # arrives as "Connection refused by server", which the page cannot tell from a network fault).
            raise Refused("invalid_token")
        session = IntakeSession.for_camera(camera)
        registry.add_capture(request.sid, session)
        guard.authenticated(request.sid, "/capture")
        join_room(camera_room(camera.id))
        emit("ready", ready_message(camera))
        _announced[request.sid] = (camera.fps, camera.site_id)
        end_db_session()

    def on_disconnect(self, reason=None):
        registry.remove(request.sid)
        _announced.pop(request.sid, None)

    def on_frame(self, data=None):
        try:
            return self._frame(data)  # intake counts the outcome for the camera's status
        except (RedisError, OperationalError) as exc:  # broker or state store down: say so, keep the connection
            log.warning("frame refused: queue or state store unavailable (%s)", type(exc).__name__)
            return {"ok": False, "error": "unavailable"}
        except Exception:  # noqa: BLE001 - a frame must never take the connection down
            log.exception("capture frame failed")
            return {"ok": False, "error": "server_error"}
        finally:
            end_db_session()

    def _frame(self, data) -> dict:
        received_at = time.time()
        session = registry.capture(request.sid)
        if session is None:
            return {"ok": False, "error": "unauthorized"}
        frame = data.get("jpeg") if isinstance(data, dict) else None
        client_ts = client_timestamp(data.get("ts")) if isinstance(data, dict) else None
        ack = accept_frame(session, frame, received_at, client_ts)
        if ack.get("error") in ("token_revoked", "camera_gone"):
            emit("revoked", {"camera_id": session.camera_id})
            return {"ok": False, "error": "token_revoked"}
        if _announced.get(request.sid) != (session.fps, session.site_id):
            self._announce(session)
        return ack

    @staticmethod
    def _announce(session: IntakeSession) -> None:
        """The rate or site changed since the last "ready": say it again (before this ack)."""
        camera = camera_of_capture(session.camera_id, session.token_hash)
        if camera is None:
            return  # revoked meanwhile: the revocation closes the socket
        emit("ready", ready_message(camera))
        _announced[request.sid] = (session.fps, session.site_id)
