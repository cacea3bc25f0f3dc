from __future__ import annotations

from flask import current_app, render_template, request
from flask_login import login_required
from sqlalchemy import select

from app.api.serializers import camera_dict, site_dict
from app.extensions import db
from app.live import bp
from app.models import Camera, Site
from app.tenancy import check_role, get_for_tenant, scoped


@bp.get("/live")
@login_required
def room():
    check_role("admin", "manager", "staff")
    site_id = request.args.get("site_id", type=int)
    site = get_for_tenant(Site, site_id) if site_id else None
    stmt = scoped(select(Camera), Camera).order_by(Camera.site_id, Camera.id)
    if site is not None:
        stmt = stmt.where(Camera.site_id == site.id)
    cams = list(db.session.scalars(stmt))
    all_sites = list(db.session.scalars(scoped(select(Site), Site).order_by(Site.name)))
    return render_template(
        "live/room.html",
        cameras=[camera_dict(c) | {"site_name": c.site.name} for c in cams],
        sites=[site_dict(s) for s in all_sites],
        site=site,
        offline_after_s=current_app.config["CAMERA_OFFLINE_S"],
    )


@bp.get("/capture/<int:camera_id>")
def capture(camera_id: int):
    """The camera tablet's page; the token comes in the URL fragment and is checked on connect."""
    return render_template("live/capture.html", camera_id=camera_id)
