"""Namespace /live: staff screens. The server alone decides the rooms."""

from __future__ import annotations

import threading

from flask import g, request
from flask_login import current_user
from flask_socketio import Namespace, emit, join_room

from app.extensions import db
from app.services.tokens import resolve_token
from app.tenancy import live_rooms_for

_viewers: set[str] = set()
_viewers_lock = threading.Lock()


def connected_viewers() -> int:
    """Live-room connections held by this process (a gauge for /metrics)."""
    return len(_viewers)


class LiveNamespace(Namespace):
    def on_connect(self, auth=None):
        try:
            user = None
            token = auth.get("token") if isinstance(auth, dict) else None
            if isinstance(token, str) and token:
                record = resolve_token(token)
                user = record.user if record else None
            elif current_user.is_authenticated:
                user = current_user._get_current_object()
            if user is None:
                raise ConnectionRefusedError("unauthorized")
            rooms = live_rooms_for(user)
            for room in rooms:
                join_room(room)
            g.live_user_id = user.id
            with _viewers_lock:
                _viewers.add(request.sid)
            emit("welcome", {"tenant_id": user.tenant_id, "role": user.role})
        finally:
            db.session.remove()

    def on_disconnect(self, reason=None):
        with _viewers_lock:
            _viewers.discard(request.sid)
