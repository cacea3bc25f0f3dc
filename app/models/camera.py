from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow
from app.models.tenancy import SiteOwned


class Camera(SiteOwned, db.Model):
    """A camera of a site. ``browser``: a browser tab or the edge agent pushes frames over /capture
    with the capture token (stored only as a SHA-256 hash). ``stream``: an RTSP/HTTP source that the
    gateway pulls; its credentials are encrypted at rest (app/infra/secrets.py) and never exported."""

    __tablename__ = "cameras"
    # No source_url (it may name a private host) nor credentials in the privacy export.
    __export__ = ("id", "site_id", "name", "kind", "fps", "enabled", "last_seen_at", "created_at")

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    fps: Mapped[int] = mapped_column(default=5)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_rotated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(16), default="browser", server_default="browser")
    enabled: Mapped[bool] = mapped_column(default=True, server_default=sa_true())
    source_url: Mapped[str | None] = mapped_column(String(2048))
    credentials: Mapped[str | None] = mapped_column(Text)  # Fernet token of {"username", "password"}
    stream_status: Mapped[str | None] = mapped_column(String(16))  # connecting | live | unreachable | disabled
    stream_error: Mapped[str | None] = mapped_column(String(300))
    stream_status_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    site = relationship("Site", back_populates="cameras", lazy="joined")
