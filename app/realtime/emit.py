"""The only module that emits Socket.IO events. Works in web processes and, through the Redis
message queue, in Celery workers."""

from __future__ import annotations

import logging

from app.extensions import socketio
from app.tenancy import camera_room, site_room, tenant_room

log = logging.getLogger(__name__)


def emit_observations(tenant_id: int, site_id: int, payloads: list[dict]) -> None:
    """A batch's observations of one site: one event to the tenant's live room and the site's
    (site-limited users), ``observation`` for one frame, ``observations`` (the list) for several,
    so that a batch costs one message per site, not per frame; each frame's ``result`` still goes
    back to its camera (the capture page and the edge agent acknowledge frame by frame)."""
    rooms = [tenant_room(tenant_id), site_room(site_id)]  # one emit: a socket in both gets it once
    if len(payloads) == 1:
        socketio.emit("observation", payloads[0], namespace="/live", to=rooms)
    elif payloads:
        socketio.emit("observations", payloads, namespace="/live", to=rooms)
    for payload in payloads:
        socketio.emit("result", payload, namespace="/capture", to=camera_room(payload["camera_id"]))


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
