"""API bearer tokens."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from app import connections
from app.extensions import db
from app.infra.secrets import new_token, token_hash
from app.models import ApiToken, User
from app.models.base import utcnow


def issue_token(user: User, name: str = "", ttl_days: int | None = None) -> tuple[str, ApiToken]:
    """A new token; the plain value is returned once and never stored."""
    plain = new_token("es")
    days = ttl_days or current_app.config["API_TOKEN_TTL_DAYS"]
    record = ApiToken(
        tenant_id=user.tenant_id,
        user_id=user.id,
        token_hash=token_hash(plain),
        name=name[:80],
        expires_at=utcnow() + timedelta(days=days),
    )
    db.session.add(record)
    db.session.commit()
    return plain, record


def resolve_token(plain: str) -> ApiToken | None:
    """The live token record for a bearer value, or None (unknown, expired or revoked)."""
    record = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(plain)))
    now = utcnow()
    if record is None or record.revoked_at is not None or record.expires_at <= now:
        return None
    if record.last_used_at is None or now - record.last_used_at > timedelta(minutes=1):
        record.last_used_at = now  # at most one write a minute per token
        db.session.commit()
    return record


def revoke(record: ApiToken, when: datetime | None = None) -> None:
    record.revoked_at = when or utcnow()
    db.session.commit()
    connections.revoke("token_revoked", token_id=record.id)  # its open sockets close too


def tokens_of(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None), ApiToken.expires_at > utcnow())
            .order_by(ApiToken.id)
        )
    )
