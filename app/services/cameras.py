"""Cameras and their capture tokens."""

from __future__ import annotations

import base64
import io

import segno
from flask import current_app
from sqlalchemy import func, select

from app.connections import revoke
from app.extensions import db
from app.infra.secrets import new_token, token_hash
from app.models import Camera, Site, Tenant
from app.models.base import utcnow
from app.services import audit
from app.services.errors import ServiceError

MAX_FPS = 15


def capture_url(camera: Camera, token: str) -> str:
    """The capture page's address; the token rides in the fragment, which browsers never send
    to the server nor put in Referer headers or access logs."""
    return f"{current_app.config['PUBLIC_URL']}/capture/{camera.id}#token={token}"


def qr_data_uri(url: str) -> str:
    """The capture link as an SVG QR code in a data: URI. A standalone SVG (with its xmlns and a
    white quiet zone): the inline form that HTML embeds has no xmlns, and as an <img> it drew
    nothing, so no tablet could scan it."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=6, border=4, light="#fff", xmldecl=False)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def _check(name: str | None, fps: int | None) -> None:
    if name is not None and not name.strip():
        raise ServiceError("validation_error", "The camera needs a name.", fields={"name": "required"})
    if fps is not None and not 1 <= fps <= MAX_FPS:
        raise ServiceError(
            "validation_error", f"Frames per second must be between 1 and {MAX_FPS}.", fields={"fps": "out_of_range"}
        )


def _check_quota(tenant_id: int, add_cameras: int, add_fps: int) -> None:
    """The tenant's quotas: how many cameras, and their frames per second in total."""
    tenant = db.session.get(Tenant, tenant_id)
    count, total = db.session.execute(
        select(func.count(), func.coalesce(func.sum(Camera.fps), 0)).where(Camera.tenant_id == tenant_id)
    ).one()
    if count + add_cameras > tenant.max_cameras:
        raise ServiceError(
            "quota_exceeded", f"Your plan allows {tenant.max_cameras} cameras.", status=409, fields={"cameras": "quota_exceeded"}
        )
    if total + add_fps > tenant.max_total_fps:
        raise ServiceError(
            "quota_exceeded",
            f"Your plan allows {tenant.max_total_fps} frames per second over all cameras.",
            status=409,
            fields={"fps": "quota_exceeded"},
        )


def create_camera(site: Site, name: str, fps: int = 5) -> tuple[Camera, str]:
    """A camera and its capture token (plain, returned only now)."""
    _check(name, fps)
    _check_quota(site.tenant_id, 1, fps)
    token = new_token("cam")
    camera = Camera(tenant_id=site.tenant_id, site_id=site.id, name=name.strip()[:120], fps=fps, token_hash=token_hash(token))
    db.session.add(camera)
    db.session.commit()
    return camera, token


def update_camera(camera: Camera, name: str | None = None, fps: int | None = None, site: Site | None = None) -> Camera:
    _check(name, fps)
    if fps is not None and fps > camera.fps:
        _check_quota(camera.tenant_id, 0, fps - camera.fps)
    if name is not None:
        camera.name = name.strip()[:120]
    if fps is not None:
        camera.fps = fps
    moved = site is not None and site.id != camera.site_id
    if site is not None:
        camera.site_id = site.id
    db.session.commit()
    if moved or fps is not None:  # open captures take the new site (rooms, rows) and rate at once
        revoke("camera_changed", camera_id=camera.id)
    return camera


def rotate_token(camera: Camera) -> str:
    """A new token; the old one stops at once (connected captures are dropped by the caller)."""
    token = new_token("cam")
    camera.token_hash = token_hash(token)
    camera.token_rotated_at = utcnow()
    db.session.commit()
    revoke("camera_token_rotated", camera_id=camera.id)
    return token


def delete_camera(camera: Camera, actor_id: int | None = None) -> None:
    """Delete a camera and its data (audit logged)."""
    audit.record(camera.tenant_id, actor_id, "camera.deleted", "camera", camera.id, commit=False, name=camera.name)
    camera_id = camera.id
    db.session.delete(camera)
    db.session.commit()
    revoke("camera_deleted", camera_id=camera_id)


def camera_for_token(token: str) -> Camera | None:
    if not isinstance(token, str) or not token.startswith("cam_") or len(token) > 100:
        return None
    return db.session.scalar(select(Camera).where(Camera.token_hash == token_hash(token)))
