from datetime import datetime

from sqlalchemy import JSON, Boolean, String, false
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class Tenant(db.Model):
    """An organisation; every other record belongs to exactly one."""

    __tablename__ = "tenants"
    # Exported by app.services.privacy like the TenantOwned models (a tenant is not owned by one).
    __export__ = (
        "id",
        "name",
        "retention_days",
        "audit_retention_days",
        "privacy_contact",
        "outside_eu",
        "timezone",
        "created_at",
    )
    __export_file__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    retention_days: Mapped[int] = mapped_column(default=90)  # observations and alerts
    audit_retention_days: Mapped[int] = mapped_column(default=365, server_default="365")
    privacy_contact: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # Declared by an admin: the organisation operates outside the EU (the AI Act's bans do not apply).
    outside_eu: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Quotas set by the operator: cameras, and frames per second summed over the cameras.
    max_cameras: Mapped[int] = mapped_column(default=50, server_default="50")
    max_total_fps: Mapped[int] = mapped_column(default=250, server_default="250")
    # Where events of no site (sign-ins, audit, webhook deliveries) are shown; set by an admin.
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Onboarding (app/services/onboarding.py): when a user of the organisation first opened the live
    # room, and when an admin hid the checklist; timestamps only.
    live_watched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    onboarding_dismissed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TenantErasure(db.Model):
    """What remains of an erased organisation: its id, when, and how many rows went (no names, no
    e-mail addresses), so that the erasure itself is on record after the tenant's audit log is gone."""

    __tablename__ = "tenant_erasures"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column()  # no foreign key: the tenant is gone
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    deleted_rows: Mapped[dict] = mapped_column(JSON, default=dict)
