"""The only module that emits Socket.IO events. Works in web processes and, through the Redis
message queue, in Celery workers."""

from __future__ import annotations

import logging

from app.extensions import socketio
from app.tenancy import camera_room, site_room, tenant_room

log = logging.getLogger(__name__)


def emit_observation(tenant_id: int, site_id: int, camera_id: int, payload: dict) -> None:
    """To the tenant's live room and the site's (site-limited users), and back to the camera."""
    socketio.emit("observation", payload, namespace="/live", to=[tenant_room(tenant_id), site_room(site_id)])
    socketio.emit("result", payload, namespace="/capture", to=camera_room(camera_id))


def emit_alert(tenant_id: int, site_id: int, payload: dict) -> None:
    socketio.emit("alert", payload, namespace="/live", to=[tenant_room(tenant_id), site_room(site_id)])


def emit_frame_error(camera_id: int, frame_id: str, code: str) -> None:
    socketio.emit("frame_error", {"frame_id": frame_id, "error": code}, namespace="/capture", to=camera_room(camera_id))


def emit_camera_status(tenant_id: int, site_id: int, camera_id: int, online: bool) -> None:
    socketio.emit(
        "camera_status",
        {"camera_id": camera_id, "site_id": site_id, "online": online},
        namespace="/live",
        to=[tenant_room(tenant_id), site_room(site_id)],
    )
