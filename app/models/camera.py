from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow
from app.models.tenancy import SiteOwned


class Camera(SiteOwned, db.Model):
    """A browser that streams its webcam. Its capture token is stored only as a SHA-256 hash."""

    __tablename__ = "cameras"
    __export__ = ("id", "site_id", "name", "fps", "last_seen_at", "created_at")

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    fps: Mapped[int] = mapped_column(default=5)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_rotated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    site = relationship("Site", back_populates="cameras", lazy="joined")
