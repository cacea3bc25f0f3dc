"""The one place that scopes data to a tenant and to the user's sites.

Every tenant-owned lookup goes through :func:`get_for_tenant` or :func:`scoped`; another
tenant's object, or a site the user may not see, is reported as absent (404), never as
forbidden, so that ids of other tenants leak nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, g
from flask_login import current_user
from sqlalchemy import Select, select

from app.extensions import db
from app.models import Tenant, User
from app.models.tenancy import is_site_owned, require_tenant_owned, site_column

M = TypeVar("M")


def current_actor() -> User | None:
    """The authenticated user of this request: API token first, then the session."""
    user = g.get("api_user")
    if user is not None:
        return user
    if current_user and current_user.is_authenticated:
        return current_user._get_current_object()
    return None


def current_tenant() -> Tenant:
    user = current_actor()
    if user is None:
        abort(401)
    return user.tenant


def allowed_site_ids(user: User) -> set[int] | None:
    """None: every site of the tenant; else the only site ids the user may see."""
    if user.role == "admin" or user.all_sites:
        return None
    return {site.id for site in user.sites}


def scoped(stmt: Select, model: type, user: User | None = None) -> Select:
    """Restrict a select on a tenant-owned model to the actor's tenant and, for a
    :class:`~app.models.tenancy.SiteOwned` model, to the actor's sites. Any other model is a
    TypeError: what belongs to a tenant is declared, never guessed from its columns."""
    require_tenant_owned(model)
    user = user or current_actor()
    if user is None:
        abort(401)
    stmt = stmt.where(model.tenant_id == user.tenant_id)
    sites = allowed_site_ids(user)
    if sites is not None and is_site_owned(model):
        stmt = stmt.where(site_column(model).in_(sites))
    return stmt


def get_for_tenant(model: type[M], object_id: Any, user: User | None = None) -> M:
    """The object with this id if the actor may see it, else 404 (TypeError for a model that is
    not TenantOwned)."""
    require_tenant_owned(model)
    try:
        object_id = int(object_id)
    except (TypeError, ValueError):
        abort(404)
    obj = db.session.scalar(scoped(select(model).where(model.id == object_id), model, user))
    if obj is None:
        abort(404)
    return obj


def tenant_room(tenant_id: int) -> str:
    return f"tenant:{tenant_id}"


def site_room(site_id: int) -> str:
    return f"site:{site_id}"


def camera_room(camera_id: int) -> str:
    return f"camera:{camera_id}"


def live_rooms_for(user: User) -> list[str]:
    """The /live rooms a user joins: the server decides, never the client."""
    sites = allowed_site_ids(user)
    if sites is None:
        return [tenant_room(user.tenant_id)]
    return [site_room(site_id) for site_id in sorted(sites)]


def check_role(*roles: str) -> User:
    """The actor, after 401 without one and 403 when its role is not one of ``roles``. Views on
    one object call it after :func:`get_for_tenant`, so that another tenant's id is a 404."""
    user = current_actor()
    if user is None:
        abort(401)
    if user.role not in roles:
        abort(403)
    return user


def require_roles(*roles: str) -> Callable:
    """Decorator form of :func:`check_role`."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            check_role(*roles)
            return view(*args, **kwargs)

        return wrapper

    return decorator


admin_required = require_roles("admin")
manager_required = require_roles("admin", "manager")
member_required = require_roles("admin", "manager", "staff")
