"""Sites."""

from sqlalchemy import select

from app.api import bp
from app.api.serializers import site_dict
from app.api.validation import Field, json_body, page_of, validate
from app.models import Site
from app.services import privacy, sites
from app.tenancy import admin_required, check_role, current_actor, get_for_tenant, member_required, scoped

SITE = {"name": Field(str, required=True, max_len=120), "timezone": Field(str, max_len=64),
        "setting": Field(str, choices=privacy.SETTINGS[1:]), "purpose": Field(str, choices=privacy.PURPOSES[1:])}


def _declare(site, data: dict) -> None:
    """Setting and purpose go together: the declaration is recorded with who made it and when."""
    if "setting" in data or "purpose" in data:
        privacy.declare_purpose(site, data.get("setting", site.setting), data.get("purpose", site.purpose),
                                current_actor().id)


@bp.get("/sites")
@member_required
def list_sites():
    return page_of(scoped(select(Site), Site), Site.id, site_dict)


@bp.post("/sites")
@admin_required
def create_site():
    data = validate(json_body(), SITE)
    site = sites.create_site(current_actor().tenant_id, data["name"], data.get("timezone") or "Europe/Paris")
    _declare(site, data)
    return site_dict(site), 201


@bp.get("/sites/<site_id>")
@member_required
def get_site(site_id):
    return site_dict(get_for_tenant(Site, site_id))


@bp.patch("/sites/<site_id>")
def update_site(site_id):
    site = get_for_tenant(Site, site_id)
    check_role("admin")
    data = validate(json_body(), SITE, partial=True)
    _declare(site, data)
    return site_dict(sites.update_site(site, data.get("name"), data.get("timezone")))


@bp.delete("/sites/<site_id>")
def delete_site(site_id):
    site = get_for_tenant(Site, site_id)
    check_role("admin")
    sites.delete_site(site, current_actor().id)
    return "", 204
