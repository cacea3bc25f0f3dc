from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime, utcnow
from app.models.tenancy import SiteOwned

# The settings of a rule that the API and the forms read and write.
RULE_FIELDS = (
    "name",
    "emotion",
    "threshold",
    "duration_s",
    "min_share",
    "min_faces",
    "cooldown_s",
    "active_from",
    "active_to",
    "severity",
    "enabled",
    "escalate_after_s",
)


class AlertRule(SiteOwned, db.Model):
    """ "Distress above 0.6 for 20 s at the gate": a camera's or a whole site's rule."""

    __tablename__ = "alert_rules"
    __export__ = ("id", "site_id", "camera_id", *RULE_FIELDS, "kind", "params", "created_at", "updated_at")

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    camera_id: Mapped[int | None] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    emotion: Mapped[str] = mapped_column(String(16))
    threshold: Mapped[float] = mapped_column(Float)
    duration_s: Mapped[int] = mapped_column()
    min_share: Mapped[float] = mapped_column(Float, default=0.6)
    min_faces: Mapped[int] = mapped_column(default=1)
    cooldown_s: Mapped[int] = mapped_column(default=300)
    active_from: Mapped[str | None] = mapped_column(String(5))
    active_to: Mapped[str | None] = mapped_column(String(5))
    severity: Mapped[str] = mapped_column(String(8), default="warning")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    escalate_after_s: Mapped[int | None] = mapped_column()  # unacknowledged this long: tell managers
    kind: Mapped[str] = mapped_column(String(16), default="share", server_default="share")  # app/rules/kinds
    params: Mapped[dict | None] = mapped_column(JSON)  # the kind's own parameters, cleaned by validate_params
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Alert(SiteOwned, db.Model):
    """One episode of a rule holding on a camera: open, acknowledged (who, when, note), resolved."""

    __tablename__ = "alerts"
    __export__ = (
        "id",
        "rule_id",
        "site_id",
        "camera_id",
        "emotion",
        "severity",
        "value",
        "status",
        "started_at",
        "acknowledged_at",
        "acknowledged_by",
        "note",
        "resolved_at",
        "escalated_at",
        "details",
    )
    __table_args__ = (Index("ix_alerts_tenant_status", "tenant_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    # None for a camera-offline alert, which no expression rule raises.
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("alert_rules.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), index=True)
    emotion: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(8), default="warning")
    value: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default="open")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What the rule kind says of the episode: numbers and opaque ids only (track_id and box, rise, level).
    details: Mapped[dict | None] = mapped_column(JSON)
