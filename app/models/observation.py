from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime

EMOTION_COLUMNS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


class Observation(db.Model):
    """The numbers of one analysed frame: per face a box and 7 scores; never pixels.

    The per-emotion columns hold the mean over the frame's classified faces (null when none),
    so that reports aggregate with SQL instead of unpacking JSON.
    """

    __tablename__ = "observations"
    # Tenant-wide reports and retention scan by time; camera views by camera then time.
    __table_args__ = (
        Index("ix_observations_tenant_camera_ts", "tenant_id", "camera_id", "ts"),
        Index("ix_observations_tenant_ts", "tenant_id", "ts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    ts: Mapped[datetime] = mapped_column(UTCDateTime())
    model_version: Mapped[str] = mapped_column(String(40))
    face_count: Mapped[int] = mapped_column(default=0)
    faces: Mapped[list] = mapped_column(JSON, default=list)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    angry: Mapped[float | None] = mapped_column(Float)
    disgust: Mapped[float | None] = mapped_column(Float)
    fear: Mapped[float | None] = mapped_column(Float)
    happy: Mapped[float | None] = mapped_column(Float)
    sad: Mapped[float | None] = mapped_column(Float)
    surprise: Mapped[float | None] = mapped_column(Float)
    neutral: Mapped[float | None] = mapped_column(Float)
