"""Cameras and capture tokens."""

from werkzeug.exceptions import NotFound

from app.api import bp
from app.api import schemas as s
from app.api.contract import operation
from app.api.serializers import camera_dict
from app.api.validation import page_of, params, payload
from app.models import Camera, Site
from app.services import cameras
from app.services.errors import ServiceError
from app.tenancy import admin_required, check_role, current_actor, get_for_tenant, member_required


def _site(site_id: int) -> Site:
    try:
        return get_for_tenant(Site, site_id)
    except NotFound:  # a site of another tenant is a bad field, not a missing camera
        raise ServiceError("unknown_site", "The site does not exist.", fields={"site_id": "unknown"}) from None


def _with_token(camera: Camera, token: str) -> dict:
    url = cameras.capture_url(camera, token)
    return {**camera_dict(camera), "capture_token": token, "capture_url": url, "qr_svg": cameras.qr_data_uri(url)}


@bp.get("/cameras")
@operation("List cameras (?site_id=)", query=s.CameraQuery, returns=s.page(s.Camera))
@member_required
def list_cameras():
    return page_of(cameras.cameras_query(params().get("site_id")), Camera.id, camera_dict)


@bp.post("/cameras")
@operation(
    "Create a camera (browser or stream kind); the capture token is shown only now (admin)",
    body=s.CameraIn,
    returns=s.CameraCreated,
    status=201,
    errors=(403, 409),
)
@admin_required
def create_camera():
    data = payload()
    camera, token = cameras.create_camera(
        _site(data["site_id"]),
        data["name"],
        data.get("fps"),
        data.get("kind") or "browser",
        data.get("source_url"),
        data.get("username"),
        data.get("password"),
        actor_id=current_actor().id,
    )
    return _with_token(camera, token), 201


@bp.get("/cameras/<id:camera_id>")
@operation("A camera", returns=s.Camera)
@member_required
def get_camera(camera_id: int):
    return camera_dict(get_for_tenant(Camera, camera_id))


@bp.patch("/cameras/<id:camera_id>")
@operation("Change a camera (admin)", body=s.CameraPatch, returns=s.Camera, errors=(403, 409))
def update_camera(camera_id: int):
    camera = get_for_tenant(Camera, camera_id)
    check_role("admin")
    data = payload()
    site = _site(data["site_id"]) if "site_id" in data else None
    changed = cameras.update_camera(
        camera,
        data.get("name"),
        data.get("fps"),
        site,
        source_url=data.get("source_url"),
        username=data.get("username"),
        password=data.get("password"),
        enabled=data.get("enabled"),
        actor_id=current_actor().id,
    )
    return camera_dict(changed)


@bp.post("/cameras/<id:camera_id>/rotate-token")
@operation("New capture token; the old one stops at once (admin)", returns=s.CaptureToken, errors=(403,))
def rotate_token(camera_id: int):
    camera = get_for_tenant(Camera, camera_id)
    check_role("admin")
    token = cameras.rotate_token(camera, actor_id=current_actor().id)
    body = _with_token(camera, token)
    return {"capture_token": body["capture_token"], "capture_url": body["capture_url"], "qr_svg": body["qr_svg"]}


@bp.delete("/cameras/<id:camera_id>")
@operation("Delete a camera (admin)", status=204, errors=(403,))
def delete_camera(camera_id: int):
    camera = get_for_tenant(Camera, camera_id)
    check_role("admin")
    camera_id = camera.id
    cameras.delete_camera(camera, current_actor().id)
    return "", 204
