"""Namespace /live: staff screens. The server alone decides the rooms, and moves or drops a
socket when its user's access changes (:mod:`app.realtime.access`)."""

from __future__ import annotations

from flask import current_app, request
from flask_login import current_user
from flask_socketio import Namespace, emit, join_room
from socketio.exceptions import ConnectionRefusedError as Refused

from app.extensions import end_db_session
from app.realtime.access import Viewer, registry, subscriber
from app.realtime.guard import guard
from app.services import onboarding
from app.services.tokens import resolve_token
from app.tenancy import live_rooms_for


def connected_viewers() -> int:
    """Live-room connections held by this process (a gauge for /metrics)."""
    return registry.viewers_count()


class LiveNamespace(Namespace):
    def on_connect(self, auth=None):
        try:
            subscriber.ensure(current_app._get_current_object())
            user, token_id = None, None
            token = auth.get("token") if isinstance(auth, dict) else None
            if isinstance(token, str) and token:
                record = resolve_token(token)
                if record is not None:
                    user, token_id = record.user, record.id
            elif current_user.is_authenticated:
                user = current_user._get_current_object()
            if user is None:
                raise Refused("unauthorized")  # socketio's own: its message reaches the browser
            rooms = tuple(live_rooms_for(user))
            for room in rooms:
                join_room(room)
            registry.add_viewer(request.sid, Viewer(user.id, user.tenant_id, token_id, user.session_version, rooms))
            guard.authenticated(request.sid, "/live")
            onboarding.note_live_watched(user.tenant_id)  # ticks the checklist's "watch the live room"
            emit("welcome", {"tenant_id": user.tenant_id, "role": user.role})
        finally:
            end_db_session()

    def on_disconnect(self, reason=None):
        registry.remove(request.sid)
