"""Namespace /live: staff screens. The server alone decides the rooms."""

from __future__ import annotations

from flask import g
from flask_login import current_user
from flask_socketio import Namespace, emit, join_room

from app.extensions import db
from app.services.tokens import resolve_token
from app.tenancy import live_rooms_for


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
            emit("welcome", {"tenant_id": user.tenant_id, "role": user.role})
        finally:
            db.session.remove()
