"""Organisations, users and passwords."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from app.extensions import db
from app.models import ROLES, Site, Tenant, User
from app.models.base import utcnow
from app.services import audit
from app.services.errors import ServiceError

MIN_PASSWORD = 8


def normalise_email(email: str) -> str:
    """The one stored form of an address (sign-up, sign-in and reset agree on it, accents too)."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return email.strip().lower()


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ServiceError("weak_password", f"The password needs at least {MIN_PASSWORD} characters.",
                           fields={"password": "too_short"})


def email_taken(email: str) -> bool:
    return db.session.scalar(select(User.id).where(User.email == normalise_email(email))) is not None


def signup(organisation: str, email: str, password: str, locale: str | None = None) -> tuple[Tenant, User]:
    """A new organisation and its first admin."""
    organisation = organisation.strip()
    if not organisation:
        raise ServiceError("validation_error", "The organisation needs a name.", fields={"organisation": "required"})
    check_password_strength(password)
    if email_taken(email):
        raise ServiceError("email_taken", "An account with this e-mail address already exists.", status=409)
    tenant = Tenant(name=organisation[:120])
    user = User(tenant=tenant, email=normalise_email(email), role="admin", locale=locale)
    user.set_password(password)
    db.session.add_all([tenant, user])
    db.session.commit()
    return tenant, user


def authenticate(email: str, password: str, via: str = "form") -> User | None:
    """The user whose password this is; every attempt on a known account is audited."""
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        # Same work as a real check, so that timing does not reveal which e-mails exist.
        User(password_hash="scrypt:32768:8:1$x$" + "0" * 128).check_password(password)
        return None
    now = utcnow()
    if user.locked_until is not None and user.locked_until > now:
        # Locked: no password is even checked, so that guessing goes nowhere.
        audit.record(user.tenant_id, user.id, "sign_in_refused_locked", "user", user.id, via=via)
        raise ServiceError("account_locked", "This account is locked after too many failed sign-ins. Try again later or "
                           "ask an admin to unlock it.", status=423)
    ok = user.check_password(password)
    audit.record(user.tenant_id, user.id, "sign_in" if ok else "sign_in_failed", "user", user.id, commit=False, via=via)
    if ok:
        user.failed_logins, user.locked_until = 0, None
    else:
        user.failed_logins += 1
        cfg = current_app.config
        if user.failed_logins >= cfg["LOCKOUT_AFTER"]:
            user.locked_until = now + timedelta(minutes=cfg["LOCKOUT_MINUTES"])
            audit.record(user.tenant_id, None, "user.locked", "user", user.id, commit=False, failed=user.failed_logins)
    db.session.commit()
    return user if ok else None


def unlock_user(user: User, actor: User) -> User:
    """An admin lifts a lock (and the count of failures)."""
    user.failed_logins, user.locked_until = 0, None
    audit.record(user.tenant_id, actor.id, "user.unlocked", "user", user.id, commit=False)
    db.session.commit()
    return user


def _sites_of_tenant(tenant_id: int, site_ids: Iterable[int]) -> list[Site]:
    ids = {int(s) for s in site_ids}
    sites = list(db.session.scalars(select(Site).where(Site.tenant_id == tenant_id, Site.id.in_(ids))))
    if len(sites) != len(ids):
        raise ServiceError("unknown_site", "One of the sites does not exist.", fields={"site_ids": "unknown"})
    return sites


def create_user(tenant_id: int, email: str, role: str, password: str | None = None,
                site_ids: Iterable[int] = (), actor_id: int | None = None) -> User:
    """A user of the tenant; without a password the user sets one from the invitation e-mail."""
    if role not in ROLES:
        raise ServiceError("validation_error", "Unknown role.", fields={"role": "invalid"})
    if email_taken(email):
        raise ServiceError("email_taken", "An account with this e-mail address already exists.", status=409)
    user = User(tenant_id=tenant_id, email=normalise_email(email), role=role)
    if password:
        check_password_strength(password)
        user.set_password(password)
    user.sites = _sites_of_tenant(tenant_id, site_ids) if role != "admin" else []
    user.all_sites = not user.sites  # no site named: all of them (the API's contract)
    db.session.add(user)
    db.session.flush()
    audit.record(tenant_id, actor_id, "user.created", "user", user.id, commit=False, email=user.email, role=role)
    db.session.commit()
    return user


def _admin_count(tenant_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(User).where(User.tenant_id == tenant_id,
                                                                           User.role == "admin")) or 0


def update_user(user: User, *, role: str | None = None, password: str | None = None,
                site_ids: Iterable[int] | None = None, email: str | None = None, actor_id: int | None = None) -> User:
    if role is not None and role != user.role:
        audit.record(user.tenant_id, actor_id, "user.role_changed", "user", user.id, commit=False,
                     email=user.email, old=user.role, new=role)
    if role is not None:
        if role not in ROLES:
            raise ServiceError("validation_error", "Unknown role.", fields={"role": "invalid"})
        if user.role == "admin" and role != "admin" and _admin_count(user.tenant_id) <= 1:
            raise ServiceError("last_admin", "The organisation needs at least one admin.", status=409)
        user.role = role
    if email is not None and normalise_email(email) != user.email:
        if email_taken(email):
            raise ServiceError("email_taken", "An account with this e-mail address already exists.", status=409)
        user.email = normalise_email(email)
    if password is not None:
        check_password_strength(password)
        user.set_password(password)
    if site_ids is not None:
        user.sites = _sites_of_tenant(user.tenant_id, site_ids)
        user.all_sites = not user.sites
    if user.role == "admin":
        user.sites, user.all_sites = [], True
    db.session.commit()
    return user


def delete_user(user: User, actor: User) -> None:
    if user.id == actor.id:
        raise ServiceError("self_delete", "You cannot remove your own account.", status=409)
    if user.role == "admin" and _admin_count(user.tenant_id) <= 1:
        raise ServiceError("last_admin", "The organisation needs at least one admin.", status=409)
    audit.record(user.tenant_id, actor.id, "user.removed", "user", user.id, commit=False, email=user.email)
    db.session.delete(user)
    db.session.commit()


def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-reset")


def password_reset_token(user: User) -> str:
    """Signed, time-limited, and void once used: it carries a fingerprint of the current hash."""
    return _reset_serializer().dumps({"u": user.id, "h": user.password_hash[-12:]})


def user_from_reset_token(token: str) -> User | None:
    try:
        data = _reset_serializer().loads(token, max_age=current_app.config["PASSWORD_RESET_TTL_S"])
    except (BadSignature, SignatureExpired):
        return None
    user = db.session.get(User, int(data.get("u", 0)))
    if user is None or user.password_hash[-12:] != data.get("h"):
        return None
    return user
