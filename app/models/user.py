import hashlib
from datetime import datetime

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy import false as sa_false
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models.base import UTCDateTime, utcnow
from app.models.tenancy import TenantOwned

ROLES = ("admin", "manager", "staff")


def password_hash_method() -> str:
    """The configured hash for new passwords (scrypt unless the app says otherwise)."""
    return current_app.config.get("PASSWORD_HASH_METHOD", "scrypt") if has_app_context() else "scrypt"


user_sites = Table(
    "user_sites",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("site_id", ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, TenantOwned, db.Model):
    """A person of one tenant, who sees all its sites or only ``sites`` (``all_sites``)."""

    __tablename__ = "users"
    __export__ = ("id", "email", "role", "all_sites", "locale", "notify_alerts", "created_at", "locked_until")  # no password hash

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    role: Mapped[str] = mapped_column(String(16), default="staff")
    locale: Mapped[str | None] = mapped_column(String(8))
    # E-mail on new alerts of the user's sites.
    notify_alerts: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Consecutive failed sign-ins; past the limit the account is locked until locked_until
    # (or until an admin unlocks it), whatever password is tried.
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lockouts: Mapped[int] = mapped_column(default=0, server_default="0")  # consecutive locks: longer each time
    # Bumped by sign-out and password reset: session cookies carry it and die with the old value.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")
    # True: every site of the tenant. False: only ``sites`` (none once its last site is deleted).
    all_sites: Mapped[bool] = mapped_column(default=True, server_default=sa_true())

    sites = relationship("Site", secondary=user_sites, lazy="selectin", order_by="Site.id")
    tenant = relationship("Tenant", lazy="joined")

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method=password_hash_method())

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        # The session cookie carries the version: bumping it (sign-out, new password) voids every copy.
        return f"{self.id}:{self.session_version}"

    def is_locked(self, now: datetime | None = None) -> bool:
        return self.locked_until is not None and self.locked_until > (now or utcnow())

    def password_fingerprint(self) -> str:
        """Changes with every new password (the hash is salted); reveals nothing of the hash itself."""
        return hashlib.sha256(self.password_hash.encode()).hexdigest()[:16]
