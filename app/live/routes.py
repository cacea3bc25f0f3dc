from __future__ import annotations

from flask import abort, current_app, jsonify, render_template, request
from flask_login import login_required

from app.api.serializers import camera_dict, site_dict
from app.infra.ids import parse_id
from app.live import bp
from app.models import Site
from app.services import listings, live_trend
from app.tenancy import check_role, get_for_tenant


def _room_cameras() -> tuple[Site | None, list]:
    """The room's site (``?site_id``, another tenant's or a hidden site's is a 404) and the cameras
    the caller may watch there, or everywhere."""
    check_role("admin", "manager", "staff")
    raw = request.args.get("site_id") or None
    site_id = parse_id(raw)
    if raw is not None and site_id is None:
        abort(404)
    site = get_for_tenant(Site, site_id) if site_id else None
    return site, listings.cameras_of(site.id if site is not None else None)


@bp.get("/live")
@login_required
def room():
    site, cams = _room_cameras()
    all_sites = listings.sites_by_name()
    return render_template(
        "live/room.html",
        # Each tile shows its times in its own site's zone (a room may span several sites).
        cameras=[camera_dict(c) | {"site_name": c.site.name, "site_timezone": c.site.timezone or "UTC"} for c in cams],
        sites=[site_dict(s) for s in all_sites],
        site=site,
        offline_after_s=current_app.config["CAMERA_OFFLINE_S"],
    )


@bp.get("/live/trend")
@login_required
def trend():
    """The live room's curves of the last minutes (numbers only), drawn when the page opens."""
    _, cams = _room_cameras()
    body = {"window_s": live_trend.WINDOW_S, "cameras": live_trend.recent_trend([c.id for c in cams])}
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/capture/<id:camera_id>")
def capture(camera_id: int):
    """The camera tablet's page; the token comes in the URL fragment and is checked on connect."""
    return render_template("live/capture.html", camera_id=camera_id)
