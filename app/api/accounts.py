"""Sign-up, tokens and users."""

from __future__ import annotations

from flask import current_app, g, url_for
from flask_babel import force_locale, gettext
from sqlalchemy import select

from app.api import bp
from app.api.serializers import iso, tenant_dict, token_dict, user_dict
from app.api.validation import Field, json_body, page_of, validate
from app.extensions import db, limiter
from app.models import User
from app.security import account_key, failed_auth
from app.services import accounts, tokens
from app.services.errors import ServiceError
from app.services.mail import send_mail
from app.tenancy import admin_required, current_actor, get_for_tenant, scoped

SIGNUP = {"organisation": Field(str, required=True, max_len=120), "email": Field(str, required=True, email=True),
          "password": Field(str, required=True, max_len=200)}
CREDENTIALS = {"email": Field(str, required=True, max_len=254), "password": Field(str, required=True, max_len=200),
               "name": Field(str, max_len=80), "ttl_days": Field(int, minimum=1, maximum=365)}
NEW_USER = {"email": Field(str, required=True, email=True), "password": Field(str, max_len=200),
            "role": Field(str, required=True, choices=("admin", "manager", "staff")),
            "site_ids": Field(list, item_kind=int)}


def _limit(limit_key: str):
    return lambda: current_app.config[limit_key]


@bp.post("/signup")
@limiter.limit(_limit("SIGNUP_LIMIT"))
def signup():
    data = validate(json_body(), SIGNUP)
    tenant, user = accounts.signup(data["organisation"], data["email"], data["password"])
    plain, record = tokens.issue_token(user, name="signup")
    return {"tenant": tenant_dict(tenant), "user": user_dict(user), "token": plain,
            "expires_at": iso(record.expires_at)}, 201


@bp.post("/tokens")
@limiter.limit(_limit("FAILED_LOGIN_LIMIT"), key_func=account_key, deduct_when=failed_auth, scope="auth-account")
@limiter.limit(_limit("FAILED_LOGIN_LIMIT"), deduct_when=failed_auth, scope="auth-address")
def create_token():
    data = validate(json_body(), CREDENTIALS)
    user = accounts.authenticate(data["email"], data["password"], via="api")
    if user is None:
        raise ServiceError("invalid_credentials", "E-mail or password is wrong.", status=401)
    plain, record = tokens.issue_token(user, name=data.get("name", ""), ttl_days=data.get("ttl_days"))
    return {"token": plain, "expires_at": iso(record.expires_at), "id": record.id}


@bp.get("/tokens")
def list_tokens():
    return {"items": [token_dict(t) for t in tokens.tokens_of(current_actor())], "next_cursor": None}


@bp.delete("/tokens/current")
def revoke_current_token():
    if g.api_token is None:
        raise ServiceError("no_token", "This request was not made with a bearer token.")
    tokens.revoke(g.api_token)
    return "", 204


@bp.delete("/tokens/<int:token_id>")
def revoke_token(token_id: int):
    record = next((t for t in tokens.tokens_of(current_actor()) if t.id == token_id), None)
    if record is None:
        raise ServiceError("not_found", "Not found.", status=404)
    tokens.revoke(record)
    return "", 204


@bp.get("/users")
@admin_required
def list_users():
    return page_of(scoped(select(User), User), User.id, user_dict)


@bp.post("/users")
@admin_required
def create_user():
    data = validate(json_body(), NEW_USER)
    actor = current_actor()
    user = accounts.create_user(actor.tenant_id, data["email"], data["role"], data.get("password") or None,
                                data.get("site_ids") or [], actor_id=actor.id)
    if not data.get("password"):
        send_invitation(user)
    return user_dict(user), 201


def send_invitation(user: User) -> None:
    link = url_for("auth.reset_password", token=accounts.password_reset_token(user), _external=True)
    with force_locale(user.locale or "fr"):
        send_mail(user.email, gettext("You are invited to EmotiScan"),
                  gettext("%(org)s invites you to EmotiScan. Choose your password here (valid for one hour):",
                          org=user.tenant.name) + "\n" + link)


@bp.get("/users/<user_id>")
@admin_required
def get_user(user_id):
    return user_dict(get_for_tenant(User, user_id))


@bp.patch("/users/<user_id>")
@admin_required
def update_user(user_id):
    user = get_for_tenant(User, user_id)
    spec = {**NEW_USER, "email": Field(str, email=True), "role": Field(str, choices=("admin", "manager", "staff")),
            "notify_alerts": Field(bool)}
    data = validate(json_body(), spec, partial=True)
    if "notify_alerts" in data:
        user.notify_alerts = data["notify_alerts"]
    accounts.update_user(user, role=data.get("role"), password=data.get("password"),
                         site_ids=data.get("site_ids"), email=data.get("email"), actor_id=current_actor().id)
    return user_dict(user)


@bp.delete("/users/<user_id>")
@admin_required
def delete_user(user_id):
    accounts.delete_user(get_for_tenant(User, user_id), current_actor())
    return "", 204


@bp.get("/me")
def me():
    user = current_actor()
    return {"user": user_dict(user), "tenant": tenant_dict(user.tenant)}


@bp.patch("/me")
def update_me():
    data = validate(json_body(), {"locale": Field(str, choices=tuple(current_app.config["LANGUAGES"]), nullable=True),
                                  "password": Field(str, max_len=200), "notify_alerts": Field(bool)}, partial=True)
    user = current_actor()
    if "notify_alerts" in data:
        user.notify_alerts = data["notify_alerts"]
        db.session.commit()
    if "locale" in data:
        user.locale = data["locale"]
        db.session.commit()
    if "password" in data:
        accounts.update_user(user, password=data["password"])
    return user_dict(user)
