"""The onboarding checklist of a new organisation: each step ticks itself from the data (a declared
site, a camera, a frame received, the live room opened, a rule), so it never goes stale."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.extensions import db
from app.models import AlertRule, Camera, Site, Tenant
from app.models.base import utcnow


@dataclass(frozen=True)
class Step:
    key: str  # declare_site, add_camera, open_capture, watch_live, add_rule
    done: bool
    site_id: int | None = None  # where the step is done, when it belongs to a site
    camera_id: int | None = None


@dataclass(frozen=True)
class Checklist:
    steps: tuple[Step, ...]
    dismissed: bool

    @property
    def done_count(self) -> int:
        return sum(step.done for step in self.steps)

    @property
    def complete(self) -> bool:
        return all(step.done for step in self.steps)

    @property
    def visible(self) -> bool:
        return not (self.complete or self.dismissed)


def _first(stmt) -> object | None:
    return db.session.scalars(stmt.limit(1)).first()


def checklist(tenant_id: int) -> Checklist:
    """The five steps of ``tenant_id``, in the order a new admin does them."""
    tenant = db.session.get(Tenant, tenant_id)
    first_site = _first(select(Site).where(Site.tenant_id == tenant_id).order_by(Site.id))
    undeclared = _first(select(Site).where(Site.tenant_id == tenant_id, Site.purpose_declared_at.is_(None)).order_by(Site.id))
    declared = _first(select(Site.id).where(Site.tenant_id == tenant_id, Site.purpose_declared_at.is_not(None)))
    camera = _first(select(Camera).where(Camera.tenant_id == tenant_id).order_by(Camera.id))
    seen = _first(select(Camera.id).where(Camera.tenant_id == tenant_id, Camera.last_seen_at.is_not(None)))
    rule = _first(select(AlertRule.id).where(AlertRule.tenant_id == tenant_id))
    site_id = (undeclared or first_site).id if (undeclared or first_site) else None
    camera_site = camera.site_id if camera else (first_site.id if first_site else None)
    steps = (
        Step("declare_site", declared is not None, site_id=site_id),
        Step("add_camera", camera is not None, site_id=first_site.id if first_site else None),
        Step("open_capture", seen is not None, site_id=camera_site, camera_id=camera.id if camera else None),
        Step("watch_live", tenant is not None and tenant.live_watched_at is not None),
        Step("add_rule", rule is not None),
    )
    return Checklist(steps, dismissed=tenant is not None and tenant.onboarding_dismissed_at is not None)


def note_live_watched(tenant_id: int) -> None:
    """Called on each /live connection; writes only the first time (one indexed primary-key update)."""
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is not None and tenant.live_watched_at is None:
        tenant.live_watched_at = utcnow()
        db.session.commit()


def dismiss(tenant_id: int) -> None:
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is not None and tenant.onboarding_dismissed_at is None:
        tenant.onboarding_dismissed_at = utcnow()
        db.session.commit()
