from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class Tenant(db.Model):
    """An organisation; every other record belongs to exactly one."""

    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    retention_days: Mapped[int] = mapped_column(default=90)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
