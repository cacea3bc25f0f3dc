"""Who holds which open socket in this process, and what a revocation does to them.

``/live`` and ``/capture`` are authorised at connect; :func:`apply` re-checks every socket that a
revocation names against the database (user, token, session version, camera token, site) and
then disconnects it, or moves it to the rooms its access now allows. Revocations reach this
process through :mod:`app.connections` (Redis pub/sub in the distributed mode).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Protocol

import redis
from flask import Flask

from app import connections
from app.connections import Revocation
from app.extensions import end_db_session, socketio
from app.models import User
from app.realtime.guard import close_connection
from app.services import intake
from app.services.socket_access import capture_access, viewer_user
from app.tenancy import live_rooms_for

log = logging.getLogger(__name__)


@dataclass
class Viewer:
    """A /live socket: whose it is and how it was authorised."""

    user_id: int
    tenant_id: int
    token_id: int | None  # None: the session cookie, checked by its version
    session_version: int
    rooms: tuple[str, ...]


class Capture(Protocol):
    """A /capture socket (``capture.CaptureSession``): one camera, its site and rate as of the last check."""

    camera_id: int
    tenant_id: int
    site_id: int
    fps: int
    token_hash: str


class Registry:
    """Sockets of one process by sid, per namespace."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.viewers: dict[str, Viewer] = {}
        self.captures: dict[str, Capture] = {}

    def add_viewer(self, sid: str, viewer: Viewer) -> None:
        with self._lock:
            self.viewers[sid] = viewer

    def add_capture(self, sid: str, capture: Capture) -> None:
        with self._lock:
            self.captures[sid] = capture

    def remove(self, sid: str) -> None:
        with self._lock:
            self.viewers.pop(sid, None)
            self.captures.pop(sid, None)

    def captures_count(self) -> int:
        return len(self.captures)

    def viewers_count(self) -> int:
        return len(self.viewers)

    def capture(self, sid: str) -> Capture | None:
        return self.captures.get(sid)

    def matching_viewers(self, rev: Revocation) -> list[tuple[str, Viewer]]:
        with self._lock:
            return [
                (sid, v)
                for sid, v in self.viewers.items()
                if v.tenant_id == rev.tenant_id
                or v.user_id == rev.user_id
                or (rev.token_id is not None and v.token_id == rev.token_id)
            ]

    def matching_captures(self, rev: Revocation) -> list[tuple[str, Capture]]:
        with self._lock:
            return [
                (sid, c)
                for sid, c in self.captures.items()
                if c.tenant_id == rev.tenant_id or c.camera_id == rev.camera_id or c.site_id == rev.site_id
            ]


registry = Registry()


def viewer_still_allowed(viewer: Viewer) -> User | None:
    """The viewer's user if its access still holds, else None."""
    return viewer_user(viewer.user_id, viewer.tenant_id, viewer.token_id, viewer.session_version)


def _close(sid: str, namespace: str, event: str, payload: dict) -> None:
    server = socketio.server
    try:
        # Straight to this process's client, not through the queue: the disconnect follows at once.
        server.emit(event, payload, to=sid, namespace=namespace, ignore_queue=True)
        eio_sid = server.manager.eio_sid_from_sid(sid, namespace)
        server.disconnect(sid, namespace=namespace, ignore_queue=True)
        if eio_sid is not None:
            close_connection(server, eio_sid)  # the whole connection: a revoked client keeps no thread
    except Exception:  # noqa: BLE001 - the client may have gone already
        log.debug("closing %s failed", sid, exc_info=True)
    registry.remove(sid)


def _recheck_viewer(sid: str, viewer: Viewer) -> None:
    user = viewer_still_allowed(viewer)
    if user is None:
        _close(sid, "/live", "revoked", {"reason": "access_revoked"})
        return
    rooms = tuple(live_rooms_for(user))
    if rooms != viewer.rooms:  # role or site scope changed: the server moves the socket
        server = socketio.server
        for room in set(viewer.rooms) - set(rooms):
            server.leave_room(sid, room, namespace="/live")
        for room in set(rooms) - set(viewer.rooms):
            server.enter_room(sid, room, namespace="/live")
        viewer.rooms = rooms
        server.emit("welcome", {"tenant_id": user.tenant_id, "role": user.role}, to=sid, namespace="/live", ignore_queue=True)


def _recheck_capture(sid: str, capture: Capture) -> None:
    access = capture_access(capture.camera_id, capture.tenant_id, capture.token_hash)
    if access is None:
        _close(sid, "/capture", "revoked", {"camera_id": capture.camera_id})
        return
    # Moved to another site or a new rate: later frames go to the new site's rows and rooms.
    capture.site_id, capture.fps = access.site_id, access.fps


def apply(app: Flask, rev: Revocation) -> None:
    """Re-check every socket of this process that the revocation names."""
    # Intake sessions (sockets and pulled streams) re-read their cached facts on their next frame.
    intake.changed(rev.tenant_id, rev.site_id, rev.camera_id)
    viewers, captures = registry.matching_viewers(rev), registry.matching_captures(rev)
    if not viewers and not captures:
        return
    with app.app_context():
        try:
            for sid, viewer in viewers:
                _recheck_viewer(sid, viewer)
            for sid, capture in captures:
                _recheck_capture(sid, capture)
        finally:
            end_db_session()
    log.info("revocation %s: %d viewer(s), %d capture(s) re-checked", rev.reason, len(viewers), len(captures))


class _Subscriber:
    """One thread per web process that applies revocations published by any process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._started = False
        self._client: redis.Redis | None = None

    def ensure(self, app: Flask) -> None:
        if self._started or app.config["TASK_MODE"] != "celery":
            return
        with self._lock:
            if self._started:
                return
            # Kept on self: a collected client closes its pool, and the subscription with it.
            self._client = client = redis.Redis.from_url(app.config["REDIS_URL"], health_check_interval=30)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            pubsub.subscribe(_channel(app))  # subscribed before the first socket is accepted
            threading.Thread(target=self._run, args=(app, pubsub), name="revocations", daemon=True).start()
            self._started = True

    @staticmethod
    def _run(app: Flask, pubsub) -> None:
        while True:
            try:
                message = pubsub.get_message(timeout=1.0)
                if message and message.get("type") == "message":
                    apply(app, Revocation.from_json(message["data"]))
            except redis.RedisError as exc:  # Redis restarting: the faults tests expect no traceback
                log.warning("revocation channel lost (%s); resubscribing", type(exc).__name__)
                threading.Event().wait(1.0)
                try:
                    pubsub.subscribe(_channel(app))
                except redis.RedisError:
                    continue
            except Exception:  # noqa: BLE001 - a bad message must not end the thread
                log.exception("revocation failed")


subscriber = _Subscriber()


def _channel(app: Flask) -> str:
    from app.infra.state import PREFIX

    return PREFIX + connections.CHANNEL


def init_access(app: Flask) -> None:
    """Revocations apply here; in the distributed mode they are published to every process."""
    connections.on_revocation(lambda rev: apply(app, rev))  # replaces the handler of an earlier app (tests)
    if app.config["TASK_MODE"] == "celery":
        client = redis.Redis.from_url(app.config["REDIS_URL"])
        channel = _channel(app)
        connections.set_publisher(lambda rev: client.publish(channel, rev.to_json()))
    else:
        connections.set_publisher(None)
