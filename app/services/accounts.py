"""Organisations, users and passwords."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select, update
from werkzeug.security import generate_password_hash

from app import connections
from app.extensions import db
from app.models import ROLES, ApiToken, ReportSchedule, Site, Tenant, User
from app.models.base import utcnow
from app.models.user import password_hash_method
from app.services import audit
from app.services.errors import ServiceError

MIN_PASSWORD = 10
MAX_LOCK_DOUBLINGS = 16  # 2**16 minutes is far beyond any sane LOCKOUT_MINUTES cap; keeps the power small
KNOWN_DEVICE_DAYS = 180
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parents[1] / "common_passwords.txt"
_TRAILING_NOISE = re.compile(r"[\d\W_]+$")


def check_email(email: str) -> str:
    """The address in its one stored form (lower case, accents normalised), or EmailNotValidError.

    The rule for every form and the API: names that can never be a mailbox anywhere (.invalid, .local,
    .localhost, .onion, .arpa) are refused; the names RFC 2606 reserves for tests and examples
    (.test, .example, example.com) are accepted like any other, as both are undeliverable alike and
    sign-up sends no mail and needs none: people trying the product use them."""
    return validate_email(email.strip(), check_deliverability=False, test_environment=True).normalized.lower()


def normalise_email(email: str) -> str:
    """The one stored form of an address (sign-up, sign-in and reset agree on it, accents too)."""
    try:
        return check_email(email)
    except EmailNotValidError:
        return email.strip().lower()


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def is_common_password(password: str) -> bool:
    """In the list as typed, or once its trailing digits and symbols are removed ("Soleil2024!" is "soleil"),
    or made of one or two characters repeated ("aaaaaaaaaa", "ababababab")."""
    lowered = password.lower()
    listed = common_passwords()
    return lowered in listed or _TRAILING_NOISE.sub("", lowered) in listed or len(set(lowered)) <= 2


def check_password_strength(password: str, email: str | None = None, organisation: str | None = None) -> None:
    """Refuses short and common passwords, and the account's own e-mail or organisation name.

    The password is checked (and later stored) exactly as typed: spaces are part of it, never stripped.
    """
    if len(password) < MIN_PASSWORD:
        raise ServiceError(
            "weak_password", f"The password needs at least {MIN_PASSWORD} characters.", fields={"password": "too_short"}
        )
    if is_common_password(password):
        raise ServiceError("weak_password", "This password is too common: choose another one.", fields={"password": "too_common"})
    typed = password.strip().casefold()  # only to compare: " Alpha School " is still the organisation's name
    personal: set[str] = set()
    if email:
        address = normalise_email(email).casefold()
        personal |= {address, address.split("@", 1)[0]}
    if organisation:
        personal.add(organisation.strip().casefold())
    if typed in personal:
        raise ServiceError(
            "weak_password",
            "The password must not be your e-mail address or your organisation's name.",
            fields={"password": "personal"},
        )


def email_taken(email: str) -> bool:
    return db.session.scalar(select(User.id).where(User.email == normalise_email(email))) is not None


def user_by_email(email: str) -> User | None:
    """The account of an e-mail address (any tenant: addresses are unique), for operator commands."""
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def signup(organisation: str, email: str, password: str, locale: str | None = None) -> tuple[Tenant, User]:
    """A new organisation and its first admin."""
    organisation = organisation.strip()
    if not organisation:
        raise ServiceError("validation_error", "The organisation needs a name.", fields={"organisation": "required"})
    check_password_strength(password, email, organisation)
    if email_taken(email):
        raise ServiceError("email_taken", "An account with this e-mail address already exists.", status=409)
    tenant = Tenant(name=organisation[:120])
    user = User(tenant=tenant, email=normalise_email(email), role="admin", locale=locale)
    user.set_password(password)
    db.session.add_all([tenant, user])
    db.session.commit()
    audit.record(tenant.id, user.id, "tenant.signed_up", "tenant", tenant.id, organisation=tenant.name, email=user.email)
    return tenant, user


def _device_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="known-device")


def known_device_token(user: User) -> str:
    """The signed value of the "known device" cookie a browser gets at a successful sign-in.

    Bound to the password (its fingerprint), not to the session version: signing out keeps the device
    known, a new password forgets every device.
    """
    return _device_serializer().dumps({"u": user.id, "f": user.password_fingerprint()})


def is_known_device(user: User, token: str | None) -> bool:
    if not token:
        return False
    try:
        data = _device_serializer().loads(token, max_age=KNOWN_DEVICE_DAYS * 86400)
    except (BadSignature, SignatureExpired):
        return False
    return isinstance(data, dict) and data.get("u") == user.id and data.get("f") == user.password_fingerprint()


def known_device_user(token: str | None, email: str) -> User | None:
    """The account of this e-mail if the cookie proves that this browser signed in to it before."""
    if not token:
        return None
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    return user if user is not None and is_known_device(user, token) else None


def lock_minutes(lockouts: int) -> int:
    """1, 2, 4 ... minutes for the 1st, 2nd, 3rd ... consecutive lock, capped at LOCKOUT_MINUTES."""
    cap = current_app.config["LOCKOUT_MINUTES"]
    return max(1, min(cap, 2 ** min(max(lockouts, 1) - 1, MAX_LOCK_DOUBLINGS)))


@cache
def _dummy_hash(method: str) -> str:
    """A hash of no one's password, made with the method real ones use, so that checking it costs the same."""
    return generate_password_hash(secrets.token_hex(16), method=method)


def authenticate(email: str, password: str, via: str = "form", device_token: str | None = None) -> User | None:
    """The user whose password this is; every attempt on a known account is audited.

    After LOCKOUT_AFTER failures in a row the account is locked for a delay that doubles with each
    consecutive lock: while locked, no password is checked, except from a browser that signed in to this
    account before (``device_token``, the known-device cookie), so that an attacker cannot lock the owner out.
    """
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        # Same work as a real check, so that timing does not reveal which e-mails exist.
        User(password_hash=_dummy_hash(password_hash_method())).check_password(password)
        return None
    now = utcnow()
    _end_past_lock(user, now)
    locked = user.is_locked(now)
    known = is_known_device(user, device_token)
    if locked and not known:
        # Locked: no password is even checked, so that guessing goes nowhere.
        audit.record(user.tenant_id, user.id, "sign_in_refused_locked", "user", user.id, via=via)
        raise ServiceError(
            "account_locked",
            "This account is locked after too many failed sign-ins. Try again later or ask an admin to unlock it.",
            status=423,
        )
    ok = user.check_password(password)
    audit.record(
        user.tenant_id,
        user.id,
        "sign_in" if ok else "sign_in_failed",
        "user",
        user.id,
        commit=False,
        via=via,
        **({"known_device": True} if known else {}),
    )
    if ok:
        user.failed_logins, user.lockouts, user.locked_until = 0, 0, None
    else:
        _count_failure(user, now, locked)
    db.session.commit()
    return user if ok else None


def _end_past_lock(user: User, now: datetime) -> None:
    """A lock that is over: a fresh series of attempts; ``lockouts`` stays, so the next lock is longer."""
    if user.locked_until is not None and user.locked_until <= now:
        user.failed_logins, user.locked_until = 0, None


def _count_failure(user: User, now: datetime, locked: bool) -> None:
    """One more wrong password in a row; the LOCKOUT_AFTER-th locks the account."""
    user.failed_logins += 1
    if not locked and user.failed_logins >= current_app.config["LOCKOUT_AFTER"]:
        user.lockouts += 1
        minutes = lock_minutes(user.lockouts)
        user.locked_until = now + timedelta(minutes=minutes)
        audit.record(
            user.tenant_id,
            None,
            "user.locked",
            "user",
            user.id,
            commit=False,
            failed=user.failed_logins,
            lockouts=user.lockouts,
            minutes=minutes,
        )


def _clear_lock(user: User) -> None:
    user.failed_logins, user.lockouts, user.locked_until = 0, 0, None


def unlock_user(user: User, actor: User | None) -> User:
    """An admin (or an operator with the CLI: no actor) lifts a lock and the counts of failures."""
    _clear_lock(user)
    audit.record(
        user.tenant_id,
        actor.id if actor else None,
        "user.unlocked",
        "user",
        user.id,
        commit=False,
        **({} if actor else {"via": "cli"}),
    )
    db.session.commit()
    return user


def sign_out(user: User) -> None:
    """Ends every session of the user: cookies carry the session version, so copies die too."""
    user.session_version += 1
    db.session.commit()
    connections.revoke("signed_out", user_id=user.id)


def reset_password(user: User, password: str) -> User:
    """A new password from an e-mailed link: also lifts a lock, as the owner proved the address.
    One entry in the trail, by the user: an invitation accepted, or a password reset."""
    action = "user.invitation_accepted" if is_pending(user) else "user.password_reset"
    return update_user(user, password=password, actor_id=user.id, password_action=action)


def change_password(user: User, current: str, new: str) -> User:
    """The user's own change: the current password first (a borrowed open session or a leaked API
    token is not enough). Wrong ones count towards the account's lock, as at sign-in, so that a
    token cannot be used to guess the password either."""
    now = utcnow()
    _end_past_lock(user, now)
    if user.is_locked(now):
        raise ServiceError(
            "account_locked", "This account is locked after too many wrong passwords. Try again later.", status=423
        )
    if not user.check_password(current):
        audit.record(user.tenant_id, user.id, "user.password_change_refused", "user", user.id, commit=False)
        _count_failure(user, now, locked=False)
        db.session.commit()
        raise ServiceError("wrong_password", "The current password is wrong.", status=403, fields={"current_password": "wrong"})
    return update_user(user, password=new, actor_id=user.id)  # which clears the failures


def _sites_of_tenant(tenant_id: int, site_ids: Iterable[int]) -> list[Site]:
    ids = {int(s) for s in site_ids}
    sites = list(db.session.scalars(select(Site).where(Site.tenant_id == tenant_id, Site.id.in_(ids))))
    if len(sites) != len(ids):
        raise ServiceError("unknown_site", "One of the sites does not exist.", fields={"site_ids": "unknown"})
    return sites


def create_user(
    tenant_id: int, email: str, role: str, password: str | None = None, site_ids: Iterable[int] = (), actor_id: int | None = None
) -> User:
    """A user of the tenant; without a password the user sets one from the invitation e-mail."""
    if role not in ROLES:
        raise ServiceError("validation_error", "Unknown role.", fields={"role": "invalid"})
    if email_taken(email):
        raise ServiceError("email_taken", "An account with this e-mail address already exists.", status=409)
    user = User(tenant_id=tenant_id, email=normalise_email(email), role=role)
    if password:
        check_password_strength(password, email, db.session.get(Tenant, tenant_id).name)
        user.set_password(password)
    user.sites = _sites_of_tenant(tenant_id, site_ids) if role != "admin" else []
    user.all_sites = not user.sites  # no site named: all of them (the API's contract)
    db.session.add(user)
    db.session.flush()
    audit.record(tenant_id, actor_id, "user.created", "user", user.id, commit=False, email=user.email, role=role)
    db.session.commit()
    return user


def _admin_count(tenant_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(User).where(User.tenant_id == tenant_id, User.role == "admin")) or 0


def update_user(
    user: User,
    *,
    role: str | None = None,
    password: str | None = None,
    site_ids: Iterable[int] | None = None,
    email: str | None = None,
    actor_id: int | None = None,
    password_action: str = "user.password_changed",
) -> User:
    """Changes of role, e-mail, sites or password; a new password ends the user's sessions and API
    tokens (audited as ``password_action``)."""
    old_scope = (user.role, user.all_sites, [s.id for s in user.sites])
    if role is not None and role != user.role:
        audit.record(
            user.tenant_id,
            actor_id,
            "user.role_changed",
            "user",
            user.id,
            commit=False,
            email=user.email,
            old=user.role,
            new=role,
        )
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
        check_password_strength(password, user.email, user.tenant.name)
        user.set_password(password)
        # Whoever knew the old password (or holds a copied cookie or token) is out: sessions carry the
        # version, tokens are revoked; guessing the old password is moot, so a lock is lifted too.
        user.session_version += 1
        _clear_lock(user)
        db.session.execute(
            update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)).values(revoked_at=utcnow())
        )
        audit.record(user.tenant_id, actor_id, password_action, "user", user.id, commit=False)
    if site_ids is not None:
        user.sites = _sites_of_tenant(user.tenant_id, site_ids)
        user.all_sites = not user.sites
    if user.role == "admin":
        user.sites, user.all_sites = [], True
    db.session.commit()
    if password is not None:
        connections.revoke("password_changed", user_id=user.id)
    elif (user.role, user.all_sites, [s.id for s in user.sites]) != old_scope:
        connections.revoke("access_changed", user_id=user.id)  # reconnect with the new rooms
    return user


def delete_user(user: User, actor: User) -> None:
    if user.id == actor.id:
        raise ServiceError("self_delete", "You cannot remove your own account.", status=409)
    if user.role == "admin" and _admin_count(user.tenant_id) <= 1:
        raise ServiceError("last_admin", "The organisation needs at least one admin.", status=409)
    audit.record(user.tenant_id, actor.id, "user.removed", "user", user.id, commit=False, email=user.email)
    user_id = user.id
    # recipient_ids is a JSON list (no foreign key can clear it): the user leaves every schedule.
    for schedule in db.session.scalars(select(ReportSchedule).where(ReportSchedule.tenant_id == user.tenant_id)):
        if user_id in (schedule.recipient_ids or []):
            schedule.recipient_ids = [r for r in schedule.recipient_ids if r != user_id]
    db.session.delete(user)
    db.session.commit()
    connections.revoke("user_removed", user_id=user_id)


# Invitations -------------------------------------------------------------------------------------
# An invited user is a user without a password yet; the invitation is a password-reset link. Its
# language: the invitee's own when known (a resend after they chose one), else the inviter's (the
# admin knows who they invite; the organisation has no language of its own).


def is_pending(user: User) -> bool:
    """Invited, and has not chosen a password yet."""
    return not user.password_hash


def mail_configured() -> bool:
    """Whether e-mail leaves the server (app/infra/mail.py logs it instead when MAIL_SERVER is unset)."""
    return bool(current_app.config.get("MAIL_SERVER"))


def invitation_locale(user: User, inviter_locale: str | None) -> str:
    languages = current_app.config["LANGUAGES"]
    for locale in (user.locale, inviter_locale):
        if locale in languages:
            return locale
    return languages[0]


def note_invitation_resent(user: User, actor: User) -> None:
    audit.record(user.tenant_id, actor.id, "user.invitation_resent", "user", user.id, email=user.email)


def revoke_invitation(user: User, actor: User) -> None:
    """Withdraws a pending invitation: the user goes, and every link sent with it dies."""
    if not is_pending(user):
        raise ServiceError("already_accepted", "This invitation was accepted already.", status=409)
    audit.record(user.tenant_id, actor.id, "user.invitation_revoked", "user", user.id, commit=False, email=user.email)
    delete_user(user, actor)


def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-reset")


def password_reset_token(user: User) -> str:
    """Signed, time-limited, and void once used: it carries a fingerprint of the current hash."""
    return _reset_serializer().dumps({"u": user.id, "h": user.password_fingerprint()})


def user_from_reset_token(token: str) -> User | None:
    try:
        data = _reset_serializer().loads(token, max_age=current_app.config["PASSWORD_RESET_TTL_S"])
    except (BadSignature, SignatureExpired):
        return None
    user = db.session.get(User, int(data.get("u", 0)))
    if user is None or user.password_fingerprint() != data.get("h"):
        return None
    return user
