"""Stored observations (numbers only)."""

from sqlalchemy import select

from app.api import bp
from app.api.validation import page_of, query_datetime, query_int
from app.models import Camera, Observation
from app.services import observations
from app.tenancy import get_for_tenant, member_required, scoped


@bp.get("/observations")
@member_required
def list_observations():
    camera_id = query_int("camera_id")
    if camera_id is not None:
        get_for_tenant(Camera, camera_id)
    stmt = observations.query(scoped(select(Observation), Observation), camera_id, query_datetime("since"),
                              query_datetime("until"))
    return page_of(stmt, Observation.id, observations.observation_dict)
