"""JSON shapes of the API's objects; ids are integers here and in Socket.IO events alike."""

from __future__ import annotations

from app.models import ApiToken, Camera, Site, Tenant, User
from app.models.base import utcnow
from app.services import cameras
from app.timefmt import iso_utc as iso

__all__ = ["iso"]  # the API's one time format, re-exported for the blueprints


def tenant_dict(tenant: Tenant) -> dict:
    return {"id": tenant.id, "name": tenant.name, "timezone": tenant.timezone}


def user_dict(user: User) -> dict:
    return {
        "id": user.id,
        "email": user.email,
        "role": user.role,
        "site_ids": [s.id for s in user.sites],
        "all_sites": user.all_sites,
        "locale": user.locale,
        "notify_alerts": user.notify_alerts,
        "created_at": iso(user.created_at),
        "locked_until": iso(user.locked_until) if user.locked_until and user.locked_until > utcnow() else None,
    }


def site_dict(site: Site) -> dict:
    from app.services.privacy import site_refusal

    return {
        "id": site.id,
        "name": site.name,
        "timezone": site.timezone,
        "created_at": iso(site.created_at),
        "setting": site.setting,
        "purpose": site.purpose,
        "purpose_declared_at": iso(site.purpose_declared_at),
        "analysis_refused": site_refusal(site),
    }


def camera_dict(camera: Camera) -> dict:
    stream = cameras.stream_status_of(camera)
    return {
        "id": camera.id,
        "site_id": camera.site_id,
        "name": camera.name,
        "fps": camera.fps,
        "last_seen_at": iso(camera.last_seen_at),
        "created_at": iso(camera.created_at),
        "kind": camera.kind,
        "enabled": camera.enabled,
        "source_url": cameras.public_source_url(camera.source_url),
        "has_credentials": bool(camera.credentials),  # the credentials themselves never leave the server
        "stream_status": stream and {**stream, "updated_at": iso(stream["updated_at"])},
    }


def token_dict(token: ApiToken) -> dict:
    return {
        "id": token.id,
        "name": token.name,
        "created_at": iso(token.created_at),
        "expires_at": iso(token.expires_at),
        "last_used_at": iso(token.last_used_at),
    }
