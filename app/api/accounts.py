"""Sign-up, tokens and users."""

from __future__ import annotations

from flask import current_app, g, url_for
from flask_babel import force_locale, gettext

from app.api import bp
from app.api import schemas as s
from app.api.contract import operation
from app.api.serializers import iso, tenant_dict, token_dict, user_dict
from app.api.validation import page_of, payload
from app.extensions import limiter
from app.infra.mail import send_mail
from app.models import User
from app.security import account_key, failed_auth
from app.services import accounts, listings, privacy, tokens
from app.services.errors import ServiceError
from app.tenancy import admin_required, check_role, current_actor, get_for_tenant


def _limit(limit_key: str):
    return lambda: current_app.config[limit_key]


@bp.post("/signup")
@operation(
    "Create an organisation and its admin; returns an API token",
    body=s.Signup,
    returns=s.SignedUp,
    status=201,
    errors=(409,),
    public=True,
)
@limiter.limit(_limit("SIGNUP_LIMIT"))
def signup():
    data = payload()
    tenant, user = accounts.signup(data["organisation"], data["email"], data["password"])
    plain, record = tokens.issue_token(user, name="signup")
    return {"tenant": tenant_dict(tenant), "user": user_dict(user), "token": plain, "expires_at": iso(record.expires_at)}, 201


@bp.post("/tokens")
@operation(
    "Exchange e-mail and password for an API token", body=s.Credentials, returns=s.TokenIssued, errors=(401, 423), public=True
)
@limiter.limit(_limit("FAILED_LOGIN_LIMIT"), key_func=account_key, deduct_when=failed_auth, scope="auth-account")
@limiter.limit(_limit("FAILED_LOGIN_LIMIT"), deduct_when=failed_auth, scope="auth-address")
def create_token():
    data = payload()
    user = accounts.authenticate(data["email"], data["password"], via="api")
    if user is None:
        raise ServiceError("invalid_credentials", "E-mail or password is wrong.", status=401)
    plain, record = tokens.issue_token(user, name=data.get("name", ""), ttl_days=data.get("ttl_days"))
    return {"token": plain, "expires_at": iso(record.expires_at), "id": record.id}


@bp.get("/tokens")
@operation("List your live API tokens", returns=s.page(s.Token, cursor=False))
def list_tokens():
    return {"items": [token_dict(t) for t in tokens.tokens_of(current_actor())], "next_cursor": None}


@bp.delete("/tokens/current")
@operation("Revoke the token of this request", errors=(400,), status=204)
def revoke_current_token():
    if g.api_token is None:
        raise ServiceError("no_token", "This request was not made with a bearer token.")
    tokens.revoke(g.api_token)
    return "", 204


@bp.delete("/tokens/<id:token_id>")
@operation("Revoke one of your tokens", status=204)
def revoke_token(token_id: int):
    record = next((t for t in tokens.tokens_of(current_actor()) if t.id == token_id), None)
    if record is None:
        raise ServiceError("not_found", "Not found.", status=404)
    tokens.revoke(record)
    return "", 204


@bp.get("/users")
@operation("List users (admin)", query=s.ListQuery, returns=s.page(s.User), errors=(403,))
@admin_required
def list_users():
    return page_of(listings.users(), User.id, user_dict)


@bp.post("/users")
@operation("Create or invite a user (admin)", body=s.UserIn, returns=s.User, status=201, errors=(403, 409))
@admin_required
def create_user():
    data = payload()
    actor = current_actor()
    user = accounts.create_user(
        actor.tenant_id, data["email"], data["role"], data.get("password") or None, data.get("site_ids") or [], actor_id=actor.id
    )
    if not data.get("password"):
        send_invitation(user)
    return user_dict(user), 201


def send_invitation(user: User) -> None:
    link = url_for("auth.reset_password", token=accounts.password_reset_token(user), _external=True)
    with force_locale(user.locale or "fr"):
        send_mail(
            user.email,
            gettext("You are invited to EmotiScan"),
            gettext("%(org)s invites you to EmotiScan. Choose your password here (valid for one hour):", org=user.tenant.name)
            + "\n"
            + link,
        )


# One user: another tenant's id is a 404 whatever the caller's role, so the lookup comes before the role check.


@bp.get("/users/<id:user_id>")
@operation("A user (admin)", returns=s.User, errors=(403,))
def get_user(user_id: int):
    user = get_for_tenant(User, user_id)
    check_role("admin")
    return user_dict(user)


@bp.patch("/users/<id:user_id>")
@operation("Change a user (admin)", body=s.UserPatch, returns=s.User, errors=(403, 409))
def update_user(user_id: int):
    user = get_for_tenant(User, user_id)
    actor = check_role("admin")
    data = payload()
    if "notify_alerts" in data:
        user.notify_alerts = data["notify_alerts"]
    accounts.update_user(
        user,
        role=data.get("role"),
        password=data.get("password"),
        site_ids=data.get("site_ids"),
        email=data.get("email"),
        actor_id=actor.id,
    )
    return user_dict(user)


@bp.delete("/users/<id:user_id>")
@operation("Remove a user (admin)", status=204, errors=(403, 409))
def delete_user(user_id: int):
    user = get_for_tenant(User, user_id)
    accounts.delete_user(user, check_role("admin"))
    return "", 204


@bp.get("/me")
@operation("The calling user and tenant", returns=s.Me)
def me():
    user = current_actor()
    return {"user": user_dict(user), "tenant": tenant_dict(user.tenant)}


@bp.patch("/organisation")
@operation("Change the organisation's time zone (admin)", body=s.OrganisationPatch, returns=s.Tenant, errors=(403,))
def update_organisation():
    admin = check_role("admin")
    data = payload()
    return tenant_dict(privacy.update_settings(admin.tenant, admin.id, timezone=data.get("timezone")))


@bp.patch("/me")
@operation("Change your language or password", body=s.MePatch, returns=s.User, errors=(403, 423))
def update_me():
    data = payload()
    user = current_actor()
    if "notify_alerts" in data or "locale" in data:
        listings.save_preferences(user, data.get("notify_alerts"), data.get("locale"))
    if "password" in data:
        if not data.get("current_password"):
            raise ServiceError(
                "validation_error", "Give current_password to change the password.", fields={"current_password": "required"}
            )
        accounts.change_password(user, data["current_password"], data["password"])
    return user_dict(user)
