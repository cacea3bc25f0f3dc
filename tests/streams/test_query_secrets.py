"""A password or token in a source URL's query string (``?pwd=``, ``?password=``, ``?token=``) is
never shown by the API, in the stream status nor in the gateway's log: query values read ``***``."""

from __future__ import annotations

import logging

import pytest

from app.services.cameras import public_source_url
from app.streams.source import redact
from tests.conftest import Tenant
from tests.streams.sources import SnapshotServer
from tests.streams.test_gateway import run_gateway, status, stop_gateway, stream_camera, wait_for

pytestmark = pytest.mark.parametrize("app", ["sqlite"], indirect=True)
SECRET = "Qs-s3cret-in-query"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"rtsp://10.0.0.5/live?password={SECRET}", "rtsp://10.0.0.5/live?password=***"),
        (f"http://cam.local/snap.jpg?user=admin&pwd={SECRET}&x=", "http://cam.local/snap.jpg?user=***&pwd=***&x=***"),
        (f"http://a:{SECRET}@cam.local:8080/cgi?{SECRET}", "http://cam.local:8080/cgi?***"),
        ("rtsp://10.0.0.5/live", "rtsp://10.0.0.5/live"),
    ],
)
def test_public_source_url_hides_credentials_and_query_values(app, url, shown):
    assert public_source_url(url) == shown
    assert SECRET not in redact(url)


def test_query_secrets_never_reach_the_api_the_status_or_the_log(app, client, caplog):
    app.config["STREAM_SOURCES_ALLOW"] = ["127.0.0.0/8"]
    caplog.set_level(logging.DEBUG)
    for name in ("emotiscan.gateway", "urllib3.connectionpool"):
        logging.getLogger(name).disabled = False  # alembic's fileConfig (migrations) disables loggers
    server = SnapshotServer()  # wants Basic auth: a query password is refused, with the URL quoted in the error
    tenant = Tenant(client, "Query Secrets")
    cam = stream_camera(tenant, tenant.site()["id"], f"{server.base}/snap.jpg?user=viewer&pwd={SECRET}")
    assert cam["source_url"] == f"{server.base}/snap.jpg?user=***&pwd=***"
    gateway, thread = run_gateway(app)
    try:
        wait_for(lambda: (status(tenant, cam["id"])["error"] or "").startswith("auth_failed"), 20, "no auth_failed")
    finally:
        stop_gateway(gateway, thread)
        server.stop()
    assert server.served and all(SECRET in path for path in server.served)  # the camera itself got it
    error = status(tenant, cam["id"])["error"]
    assert "pwd=***" in error
    for path in ("/api/v1/cameras", f"/api/v1/cameras/{cam['id']}"):
        assert SECRET not in tenant.call("GET", path).get_data(as_text=True)
    r = tenant.call("PATCH", f"/api/v1/cameras/{cam['id']}", json={"source_url": f"{server.base}/other.jpg?token={SECRET}"})
    assert r.status_code == 200 and r.get_json()["source_url"] == f"{server.base}/other.jpg?token=***"
    assert SECRET not in caplog.text and f"camera {cam['id']}: unreachable" in caplog.text
