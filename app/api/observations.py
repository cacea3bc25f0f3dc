"""Stored observations (numbers only)."""

from flask import current_app, request
from sqlalchemy import select

from app.api import bp
from app.api.validation import query_datetime, query_int
from app.models import Camera, Observation
from app.services import observations
from app.services.pagination import paginate
from app.tenancy import get_for_tenant, member_required, scoped


@bp.get("/observations")
@member_required
def list_observations():
    limit = query_int("limit", current_app.config["PAGE_SIZE"], maximum=current_app.config["PAGE_SIZE_MAX"])
    camera_id = query_int("camera_id")
    if camera_id is not None:
        get_for_tenant(Camera, camera_id)
    stmt = observations.query(scoped(select(Observation), Observation), camera_id, query_datetime("since"),
                              query_datetime("until"))
    items, cursor = paginate(stmt, Observation.id, request.args.get("cursor"), limit)
    return {"items": [observations.observation_dict(o) for o in items], "next_cursor": cursor}
