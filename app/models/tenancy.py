"""Which models belong to a tenant, and to a site: declared, never guessed from column names.

A model that holds one tenant's data inherits :class:`TenantOwned` (it has a ``tenant_id``
column); one that also belongs to a site inherits :class:`SiteOwned`. :func:`app.tenancy.scoped`
refuses any other model, restricts by site only for :class:`SiteOwned` ones, and the privacy
export and erasure walk :func:`tenant_owned_models`, so a new table cannot be left out silently.

Each tenant-owned model declares what the export holds of it: ``__export__``, a tuple of column
names (secrets never listed), or ``()`` with a comment saying why nothing (e.g. recomputable
sums). ``__export_file__`` names the exported file when it is not the table's name.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from app.extensions import db

M = TypeVar("M")


class TenantOwned:
    """Mixin (no columns): rows of this model belong to one tenant, by its ``tenant_id`` column."""

    # Columns exported by the privacy export; each subclass declares its own (tests check it).
    __export__: ClassVar[tuple[str, ...]]
    # Exported file stem; None: the table's name.
    __export_file__: ClassVar[str | None] = None
    # True: exported page by page as CSV only (a table too large to hold in memory).
    __export_paged__: ClassVar[bool] = False


class SiteOwned(TenantOwned):
    """Mixin (no columns): rows of this model also belong to one site of the tenant."""

    # The column that holds the site's id (``id`` for the Site model itself).
    __site_key__: ClassVar[str] = "site_id"


def is_tenant_owned(model: Any) -> bool:
    return isinstance(model, type) and issubclass(model, TenantOwned)


def is_site_owned(model: Any) -> bool:
    return isinstance(model, type) and issubclass(model, SiteOwned)


def require_tenant_owned(model: Any) -> None:
    if not is_tenant_owned(model):
        raise TypeError(f"{model!r} is not a TenantOwned model")


def site_column(model: type[SiteOwned]):
    return getattr(model, model.__site_key__)


def tenant_owned_models() -> list[type]:
    """Every mapped TenantOwned model, in the dependency order of db.metadata.sorted_tables
    (parents first)."""
    by_table: dict[str, list[type]] = {}
    for mapper in db.Model.registry.mappers:
        if is_tenant_owned(mapper.class_):
            by_table.setdefault(mapper.local_table.name, []).append(mapper.class_)
    return [model for table in db.metadata.sorted_tables for model in by_table.get(table.name, [])]


def export_file(model: type[TenantOwned]) -> str:
    return model.__export_file__ or model.__table__.name


def get_owned(model: type[M], object_id: Any, tenant_id: int) -> M | None:
    """The object with this id if it belongs to this tenant, else None: for workers and services,
    which have a tenant id but no request user (views use :func:`app.tenancy.get_for_tenant`)."""
    require_tenant_owned(model)
    if object_id is None:
        return None
    obj = db.session.get(model, object_id)
    if obj is None or obj.tenant_id != tenant_id:
        return None
    return obj
