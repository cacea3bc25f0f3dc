from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime, utcnow
from app.models.tenancy import SiteOwned

FREQUENCIES = ("daily", "weekly", "monthly")


class ReportSchedule(SiteOwned, db.Model):
    """ "Send the monthly report of the entrance to these managers": one scope, one frequency."""

    __tablename__ = "report_schedules"
    __export__ = ("id", "site_id", "camera_id", "frequency", "language", "recipient_ids", "enabled", "created_at")

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    camera_id: Mapped[int | None] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    frequency: Mapped[str] = mapped_column(String(8))
    language: Mapped[str] = mapped_column(String(5), default="fr")
    recipient_ids: Mapped[list] = mapped_column(JSON, default=list)  # user ids of the same tenant
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class GeneratedReport(SiteOwned, db.Model):
    """A stored report file (PDF and CSV), kept in the database so that any web process can serve
    what a worker generated. Charts and numbers only: no image of a person."""

    __tablename__ = "generated_reports"
    __export__ = (
        "id",
        "schedule_id",
        "site_id",
        "camera_id",
        "frequency",
        "language",
        "period_from",
        "period_to",
        "scope_label",
        "summary",
        "pdf_bytes",
        "emailed_to",
        "created_at",
    )  # the PDF and CSV themselves go as files of their own
    __table_args__ = (
        UniqueConstraint("schedule_id", "period_from", name="uq_generated_reports_schedule_period"),
        Index("ix_generated_reports_tenant_created", "tenant_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("report_schedules.id", ondelete="SET NULL"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    camera_id: Mapped[int | None] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    frequency: Mapped[str] = mapped_column(String(8))
    language: Mapped[str] = mapped_column(String(5))
    period_from: Mapped[date] = mapped_column(Date)
    period_to: Mapped[date] = mapped_column(Date)
    scope_label: Mapped[str] = mapped_column(String(200))
    summary: Mapped[dict] = mapped_column(JSON, default=dict)  # totals, for the history list
    pdf: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    csv: Mapped[str] = deferred(mapped_column(Text))
    pdf_bytes: Mapped[int] = mapped_column(default=0)
    emailed_to: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
