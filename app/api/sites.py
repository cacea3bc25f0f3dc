"""Sites."""

from app.api import bp
from app.api import schemas as s
from app.api.contract import operation
from app.api.serializers import site_dict
from app.api.validation import page_of, payload
from app.models import Site
from app.services import listings, privacy, sites
from app.tenancy import admin_required, check_role, current_actor, get_for_tenant, member_required


def _declare(site, data: dict) -> None:
    """Setting and purpose go together: the declaration is recorded with who made it and when."""
    if "setting" in data or "purpose" in data:
        privacy.declare_purpose(site, data.get("setting", site.setting), data.get("purpose", site.purpose), current_actor().id)


@bp.get("/sites")
@operation("List sites", query=s.ListQuery, returns=s.page(s.Site))
@member_required
def list_sites():
    return page_of(listings.sites(), Site.id, site_dict)


@bp.post("/sites")
@operation("Create a site (admin)", body=s.SiteIn, returns=s.Site, status=201, errors=(403,))
@admin_required
def create_site():
    data = payload()
    site = sites.create_site(
        current_actor().tenant_id, data["name"], data.get("timezone") or "Europe/Paris", actor_id=current_actor().id
    )
    _declare(site, data)
    return site_dict(site), 201


@bp.get("/sites/<id:site_id>")
@operation("A site", returns=s.Site)
@member_required
def get_site(site_id: int):
    return site_dict(get_for_tenant(Site, site_id))


@bp.patch("/sites/<id:site_id>")
@operation("Rename a site, declare its setting and purpose (admin)", body=s.SitePatch, returns=s.Site, errors=(403,))
def update_site(site_id: int):
    site = get_for_tenant(Site, site_id)
    check_role("admin")
    data = payload()
    _declare(site, data)
    return site_dict(sites.update_site(site, data.get("name"), data.get("timezone"), actor_id=current_actor().id))


@bp.delete("/sites/<id:site_id>")
@operation("Delete a site and its cameras (admin)", status=204, errors=(403,))
def delete_site(site_id: int):
    site = get_for_tenant(Site, site_id)
    check_role("admin")
    sites.delete_site(site, current_actor().id)
    return "", 204
