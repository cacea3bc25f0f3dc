"""Stream cameras over the API: kinds, source URLs checked and allowed only into
STREAM_SOURCES_ALLOW, credentials encrypted and never shown, status set by the gateway."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Camera
from app.services import cameras
from app.services.errors import ServiceError

URL = "/api/v1/cameras"


@pytest.fixture
def site(tenant_a) -> dict:
    return tenant_a.site()


@pytest.fixture
def allow(app):
    app.config["STREAM_SOURCES_ALLOW"] = ["127.0.0.0/8", "192.168.50.0/24"]


def _create(tenant, site, **body):
    return tenant.call("POST", URL, json={"site_id": site["id"], "name": "Hall", "kind": "stream", **body})


def test_without_an_allow_list_a_stream_camera_is_refused_with_the_agent_named(tenant_a, site):
    r = _create(tenant_a, site, source_url="rtsp://127.0.0.1:8554/hall")
    assert r.status_code == 400
    error = r.get_json()["error"]
    assert error["code"] == "source_not_allowed" and "emotiscan-agent" in error["message"]
    assert tenant_a.call("GET", URL).get_json()["items"] == []


def test_a_stream_camera_keeps_its_credentials_encrypted_and_never_shows_them(app, tenant_a, site, allow):
    r = _create(tenant_a, site, source_url="rtsp://admin:s3cr%40t-pw@127.0.0.1:8554/hall")
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["kind"] == "stream" and body["fps"] == 2 and body["enabled"] is True
    assert body["source_url"] == "rtsp://127.0.0.1:8554/hall" and body["has_credentials"] is True
    assert body["stream_status"]["status"] == "connecting" and body["capture_token"].startswith("cam_")
    got = tenant_a.call("GET", f"{URL}/{body['id']}")
    listed = tenant_a.call("GET", URL)
    for text in (r.get_data(as_text=True), got.get_data(as_text=True), listed.get_data(as_text=True)):
        assert "s3cr" not in text and "admin" not in text
    with app.app_context():
        stored = db.session.scalar(select(Camera.credentials).where(Camera.id == body["id"]))
        assert "s3cr@t-pw" not in stored and "admin" not in stored  # a Fernet token
        assert cameras.credentials_of(db.session.get(Camera, body["id"])) == ("admin", "s3cr@t-pw")
        sources = cameras.stream_cameras_enabled()
        assert [(s.id, s.source_url, s.credentials, s.fps) for s in sources] == [
            (body["id"], "rtsp://127.0.0.1:8554/hall", ("admin", "s3cr@t-pw"), 2)
        ]
        assert "s3cr" not in repr(sources)
    assert not {"credentials", "source_url"} & set(Camera.__export__)


def test_credentials_given_as_fields_and_cleared_by_patch(tenant_a, site, allow):
    r = _create(tenant_a, site, source_url="http://192.168.50.7/mjpg/video.mjpg", username="viewer", password="pw-1", fps=4)
    assert r.status_code == 201, r.get_json()
    camera = r.get_json()
    assert camera["has_credentials"] is True and camera["fps"] == 4
    r = tenant_a.call("PATCH", f"{URL}/{camera['id']}", json={"username": "", "password": ""})
    assert r.status_code == 200 and r.get_json()["has_credentials"] is False
    r = tenant_a.call("PATCH", f"{URL}/{camera['id']}", json={"source_url": "rtsps://127.0.0.2/s", "kind": "browser"})
    assert r.status_code == 200 and r.get_json()["source_url"] == "rtsps://127.0.0.2/s" and r.get_json()["kind"] == "stream"


def test_both_credentials_in_the_url_and_as_fields_is_a_clear_400(tenant_a, site, allow):
    r = _create(tenant_a, site, source_url="rtsp://a:b@127.0.0.1/x", username="c", password="d")
    assert r.status_code == 400 and r.get_json()["error"]["fields"] == {"source_url": "credentials_in_url"}


@pytest.mark.parametrize(
    "source",
    [
        "file:///etc/passwd",
        "javascript:alert(1)",
        "gopher://127.0.0.1/x",
        "rtsp://127.0.0.1/a b",
        "rtsp://127.0.0.1/\r\nX-Injected: 1",
        "http://127.0.0.1:99999/",
        "rtsp://[::1/",
        "rtsp:///nohost",
        "rtsp://exa mple.com/",
        "rtsp://127.0.0.1/" + "a" * 2100,
        "",
    ],
)
def test_hostile_source_urls_are_400(tenant_a, site, allow, source):
    r = _create(tenant_a, site, source_url=source)
    assert r.status_code == 400, r.get_json()
    assert r.get_json()["error"]["code"] in ("invalid_source_url", "validation_error")


@pytest.mark.parametrize(
    "source",
    ["rtsp://10.1.2.3/cam", "rtsp://8.8.8.8/cam", "http://no-such-host.invalid/x", "rtsp://0.0.0.0/x", "rtsp://224.0.0.1/x"],
)
def test_sources_outside_the_allowed_networks_are_refused(tenant_a, site, allow, source):
    r = _create(tenant_a, site, source_url=source)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "source_not_allowed"


def test_a_camera_the_gateway_drops_shows_disabled_only_when_it_is(app, tenant_a, site, allow):
    stream = _create(tenant_a, site, source_url="rtsp://127.0.0.1/live").get_json()
    browser = tenant_a.camera(site["id"])
    with app.app_context():
        assert cameras.set_stream_status(stream["id"], "live")
        assert not cameras.mark_stream_disabled(stream["id"])  # still enabled: its status stays
        assert not cameras.mark_stream_disabled(browser["id"])  # not a stream
        assert not cameras.mark_stream_disabled(10**6)  # gone
    assert tenant_a.call("GET", f"{URL}/{stream['id']}").get_json()["stream_status"]["status"] == "live"
    tenant_a.call("PATCH", f"{URL}/{stream['id']}", json={"enabled": False})
    with app.app_context():
        assert cameras.set_stream_status(stream["id"], "live")  # a puller's late write
        assert cameras.mark_stream_disabled(stream["id"])
    assert tenant_a.call("GET", f"{URL}/{stream['id']}").get_json()["stream_status"]["status"] == "disabled"


def test_check_stream_source_resolves_and_checks_at_connect_time(app, allow):
    with app.app_context():
        assert cameras.check_stream_source("rtsp://localhost:8554/x") in ("127.0.0.1", "::1")
        app.config["STREAM_SOURCES_ALLOW"] = "192.168.50.0/24"  # the operator narrowed it since
        with pytest.raises(ServiceError) as exc:
            cameras.check_stream_source("rtsp://127.0.0.1:8554/x")
        assert exc.value.code == "source_not_allowed"


def test_disable_status_and_redacted_errors(app, tenant_a, tenant_b, site, allow):
    camera = _create(tenant_a, site, source_url="rtsp://cam:hunter22@127.0.0.1/live").get_json()
    with app.app_context():
        assert cameras.set_stream_status(camera["id"], "unreachable", "connect rtsp://cam:hunter22@127.0.0.1/live: refused\n")
        with pytest.raises(ValueError):
            cameras.set_stream_status(camera["id"], "bogus")
    status = tenant_a.call("GET", f"{URL}/{camera['id']}").get_json()["stream_status"]
    assert status["status"] == "unreachable" and status["updated_at"]
    assert status["error"] == "connect rtsp://127.0.0.1/live: refused"
    r = tenant_a.call("PATCH", f"{URL}/{camera['id']}", json={"enabled": False})
    assert r.get_json()["enabled"] is False and r.get_json()["stream_status"]["status"] == "disabled"
    with app.app_context():
        assert cameras.stream_cameras_enabled() == []
    assert tenant_b.call("GET", f"{URL}/{camera['id']}").status_code == 404
    assert tenant_b.call("PATCH", f"{URL}/{camera['id']}", json={"enabled": True}).status_code == 404


def test_browser_cameras_are_unchanged_and_take_no_source(tenant_a, site):
    camera = tenant_a.camera(site["id"])
    assert camera["kind"] == "browser" and camera["fps"] == 5 and camera["stream_status"] is None
    assert camera["source_url"] is None and camera["has_credentials"] is False
    r = tenant_a.call("PATCH", f"{URL}/{camera['id']}", json={"source_url": "rtsp://127.0.0.1/x"})
    assert r.status_code == 400 and r.get_json()["error"]["fields"] == {"source_url": "not_for_browser_camera"}
    r = tenant_a.call("POST", URL, json={"site_id": site["id"], "name": "x", "kind": "webcam"})
    assert r.status_code == 400


def test_credentials_whose_key_is_gone_stop_that_camera_only(app, tenant_a, site, allow):
    lost = _create(tenant_a, site, source_url="rtsp://a:b@127.0.0.1:8554/one").get_json()
    kept = _create(tenant_a, site, source_url="rtsp://127.0.0.1:8554/two").get_json()
    with app.app_context():
        camera = db.session.get(Camera, lost["id"])
        camera.credentials = camera.credentials[:-8] + "AAAAAAAA"  # as if written under a key no longer held
        db.session.commit()
        assert [s.id for s in cameras.stream_cameras_enabled()] == [kept["id"]]
    status = tenant_a.call("GET", f"{URL}/{lost['id']}").get_json()["stream_status"]
    assert status["status"] == "unreachable" and status["error"].startswith("credentials_unreadable")
