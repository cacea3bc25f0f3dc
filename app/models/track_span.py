from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime
from app.models.tenancy import SiteOwned


class TrackSpan(SiteOwned, db.Model):
    """When one anonymous face track was first and last seen by its camera: numbers and the
    track's random opaque id only (never a box, a score or anything of the face), kept current in
    the transaction that stores each observation. Reports count people seen and time in view
    from these rows; they expire with the observations (the tenant's retention)."""

    __tablename__ = "track_spans"
    # Exported page by page like the observations (one row per person passing a camera).
    __export__ = ("id", "site_id", "camera_id", "track_id", "first_seen", "last_seen", "frames")
    __export_paged__ = True
    __table_args__ = (
        # The upsert's conflict target: a track id is unique within its camera.
        UniqueConstraint("camera_id", "track_id", name="uq_track_spans_camera_track"),
        # Reports (spans overlapping a period) and retention scan by the end of the span.
        Index("ix_track_spans_tenant_last_seen", "tenant_id", "last_seen"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    track_id: Mapped[str] = mapped_column(String(32))
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    frames: Mapped[int] = mapped_column(default=1)
