from sqlalchemy import BigInteger, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.observation import emotion_score_columns
from app.models.tenancy import SiteOwned


class ObservationRollup(emotion_score_columns("RollupScores", nullable=False), SiteOwned, db.Model):
    """Per camera and 15-minute UTC slot: counts and score sums of its observations, kept current
    in the transaction that stores each observation. Reports group these instead of raw rows, so
    that a month of a busy tenant is thousands of rows, not hundreds of millions.

    ``minutes`` has one bit per minute of the slot in which a frame was analysed (coverage).
    """

    __tablename__ = "observation_rollups"
    __export__ = ()  # sums of the exported observations: recomputable, not exported
    __table_args__ = (Index("ix_observation_rollups_tenant_slot", "tenant_id", "slot"),)

    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True)
    slot: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)  # epoch seconds // 900
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    observations: Mapped[int] = mapped_column(default=0)
    faces: Mapped[int] = mapped_column(default=0)
    classified: Mapped[int] = mapped_column(default=0)
    minutes: Mapped[int] = mapped_column(default=0)
    # ... then one score sum per expression class, from emotion_score_columns.
