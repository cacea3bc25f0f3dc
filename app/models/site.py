from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow
from app.models.tenancy import SiteOwned


class Site(SiteOwned, db.Model):
    """A place (school gate, clinic waiting room, shop) with its own time zone."""

    __tablename__ = "sites"
    __site_key__ = "id"  # a site is its own site
    __export__ = ("id", "name", "timezone", "setting", "purpose", "purpose_declared_at", "purpose_declared_by", "created_at")

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # What the site is and why it is analysed (EU AI Act): see app.services.privacy.
    setting: Mapped[str] = mapped_column(String(20), default="unspecified", server_default="unspecified")
    purpose: Mapped[str] = mapped_column(String(24), default="unspecified", server_default="unspecified")
    purpose_declared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    purpose_declared_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    cameras = relationship("Camera", back_populates="site", cascade="all, delete-orphan", passive_deletes=True)
