from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.inference.labels import EMOTION_COLUMNS
from app.models.base import UTCDateTime
from app.models.tenancy import SiteOwned

__all__ = ["EMOTION_COLUMNS", "Observation", "emotion_score_columns"]


def emotion_score_columns(name: str, *, nullable: bool) -> type:
    """A declarative mixin with one Float column per class of ``EMOTION_COLUMNS``, in class order
    (after the table's own columns, as the migrations created them). ``nullable``: null when the
    frame had no classified face; otherwise NOT NULL with a 0.0 default (the rollups' sums)."""
    kind = Mapped[float | None] if nullable else Mapped[float]
    attrs: dict = {"__annotations__": {column: kind for column in EMOTION_COLUMNS}, "__doc__": emotion_score_columns.__doc__}
    for column in EMOTION_COLUMNS:
        attrs[column] = mapped_column(Float) if nullable else mapped_column(Float, default=0.0)
    return type(name, (), attrs)


class Observation(emotion_score_columns("ObservationScores", nullable=True), SiteOwned, db.Model):
    """The numbers of one analysed frame: per face a box and 7 scores; never pixels.

    The per-emotion columns hold the mean over the frame's classified faces (null when none),
    so that reports aggregate with SQL instead of unpacking JSON.
    """

    __tablename__ = "observations"
    # Exported page by page, as CSV only (app.services.privacy).
    __export__ = ("id", "site_id", "camera_id", "ts", "model_version", "face_count", "faces", "latency_ms", "people")
    __export_paged__ = True
    # Tenant-wide reports and retention scan by time; camera views by camera then time.
    __table_args__ = (
        Index("ix_observations_tenant_camera_ts", "tenant_id", "camera_id", "ts"),
        Index("ix_observations_tenant_ts", "tenant_id", "ts"),
        # A frame is stored once, whichever worker took it (a redelivered frame is skipped).
        Index("uq_observations_camera_frame", "camera_id", "frame_id", unique=True),
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
    # Faces in view (anonymous tracks not yet ended); each face's JSON carries its opaque track_id.
    people: Mapped[int | None] = mapped_column(default=None)
    # The intake's frame id (opaque random hex), never exported: idempotent storage only.
    frame_id: Mapped[str | None] = mapped_column(String(32), default=None)
    # ... then one column per expression class, from emotion_score_columns.
