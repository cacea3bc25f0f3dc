"""Stored observations (numbers only)."""

from app.api import bp
from app.api import schemas as s
from app.api.contract import operation
from app.api.validation import page_of, params
from app.models import Camera, Observation
from app.services import listings, observations
from app.tenancy import get_for_tenant, member_required


@bp.get("/observations")
@operation(
    "Stored observations (?camera_id=&since=&until=)", query=s.ObservationQuery, returns=s.page(s.Observation), errors=(404,)
)
@member_required
def list_observations():
    args = params()
    camera_id = args.get("camera_id")
    if camera_id is not None:
        get_for_tenant(Camera, camera_id)
    return page_of(
        listings.observations_of(camera_id, args.get("since"), args.get("until")), Observation.id, observations.observation_dict
    )
