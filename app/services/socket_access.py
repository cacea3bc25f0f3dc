"""Whether an open socket's access still holds: the database side of a revocation re-check.

The realtime layer keeps who holds which socket; these lookups tell it whether a viewer's user,
token and session, or a camera's token, are still what they were at connect.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.extensions import db
from app.models import ApiToken, Camera, User
from app.models.base import utcnow


@dataclass(frozen=True)
class CaptureAccess:
    site_id: int
    fps: int


def viewer_user(user_id: int, tenant_id: int, token_id: int | None, session_version: int | None) -> User | None:
    """The viewer's user if its access still holds (same tenant; its API token live, or its
    sign-in session not ended by a sign-out or password reset), else None."""
    user = db.session.get(User, user_id)
    if user is None or user.tenant_id != tenant_id:
        return None
    if token_id is not None:
        token = db.session.get(ApiToken, token_id)
        if token is None or token.revoked_at is not None or token.expires_at <= utcnow() or token.user_id != user.id:
            return None
    elif user.session_version != session_version:
        return None
    return user


def capture_access(camera_id: int, tenant_id: int, token_hash: str) -> CaptureAccess | None:
    """The camera's current site and rate if its capture token still holds, else None."""
    camera = db.session.get(Camera, camera_id)
    if camera is None or camera.token_hash != token_hash or camera.tenant_id != tenant_id:
        return None
    return CaptureAccess(camera.site_id, camera.fps)
