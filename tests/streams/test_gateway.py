"""The gateway in this process: stream cameras pulled into the one intake path (eager analysis),
statuses of bad sources, camera changes noticed, and leases shared by two gateways over Redis."""

from __future__ import annotations

import io
import logging
import threading
import time
import zipfile

import pytest
import redis

import tests.conftest as conftest
from app.extensions import db
from app.gateway import coordinator as gw
from app.gateway.leases import MemoryLeases, RedisLeases
from app.models import Tenant as TenantRow
from app.services import privacy
from tests.conftest import Tenant
from tests.processes import free_port
from tests.streams.sources import PASSWORD, SnapshotServer

pytestmark = pytest.mark.parametrize("app", ["sqlite"], indirect=True)


@pytest.fixture
def snapshots():
    server = SnapshotServer()
    yield server.base
    server.stop()


@pytest.fixture
def allowed(app):
    app.config["STREAM_SOURCES_ALLOW"] = ["127.0.0.0/8"]
    return app


def stream_camera(tenant: Tenant, site_id: int, url: str, **extra) -> dict:
    body = {"site_id": site_id, "name": "CCTV", "kind": "stream", "source_url": url, **extra}
    r = tenant.call("POST", "/api/v1/cameras", json=body)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def run_gateway(app, leases=None) -> tuple[gw.Gateway, threading.Thread]:
    gateway = gw.Gateway(app, leases or MemoryLeases("test", gw.LEASE_S), poll_s=0.3, tick_s=0.3)
    thread = threading.Thread(target=gateway.run, daemon=True)
    thread.start()
    return gateway, thread


def stop_gateway(gateway: gw.Gateway, thread: threading.Thread) -> None:
    gateway.stop_event.set()
    thread.join(timeout=30)
    assert not thread.is_alive()


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} within {timeout}s")


def status(tenant: Tenant, camera_id: int) -> dict:
    return tenant.call("GET", f"/api/v1/cameras/{camera_id}").get_json()["stream_status"]


def test_a_stream_camera_is_pulled_into_its_tenant_only_and_credentials_never_show(allowed, client, snapshots, caplog):
    caplog.set_level(logging.INFO)
    logging.getLogger("emotiscan.gateway").disabled = False  # alembic's fileConfig (migrations) disables loggers
    tenant, other = Tenant(client, "Gateway School"), Tenant(client, "Other Clinic")
    site = tenant.site()
    cam = stream_camera(tenant, site["id"], f"{snapshots}/snap.jpg", username="viewer", password=PASSWORD, fps=2)
    gateway, thread = run_gateway(allowed)
    try:
        wait_for(lambda: status(tenant, cam["id"])["status"] == "live", 20, "camera not live")
        started = time.monotonic()
        observations = lambda: tenant.call("GET", f"/api/v1/observations?camera_id={cam['id']}").get_json()["items"]  # noqa: E731
        wait_for(lambda: any(o["faces"] for o in observations()), 30, "no observation with a face")
        time.sleep(2)
        puller = gateway.pullers[cam["id"]]
        span = time.monotonic() - started + 3  # live was seen up to a few frames before
        assert 2 <= puller.accepted <= 2 * span * 1.5 + 1, (puller.accepted, span)
        assert puller.refused == {}
    finally:
        stop_gateway(gateway, thread)
    assert all(o["camera_id"] == cam["id"] for o in observations())
    assert other.call("GET", "/api/v1/observations").get_json()["items"] == []
    shown = tenant.call("GET", f"/api/v1/cameras/{cam['id']}").get_data(as_text=True)
    assert PASSWORD not in shown and "viewer" not in shown
    assert PASSWORD not in tenant.call("GET", "/api/v1/cameras").get_data(as_text=True)
    with allowed.app_context():
        archive = zipfile.ZipFile(io.BytesIO(privacy.export_tenant(db.session.get(TenantRow, tenant.id), tenant.admin_id)))
        exported = b"".join(archive.read(name) for name in archive.namelist())
    assert PASSWORD.encode() not in exported and b"viewer:" not in exported
    assert PASSWORD not in caplog.text and f"camera {cam['id']}: live" in caplog.text


def test_bad_sources_get_a_clear_status_and_the_good_one_streams_meanwhile(allowed, client, snapshots):
    tenant = Tenant(client, "Bad Sources")
    site = tenant.site()
    nobody = stream_camera(tenant, site["id"], f"rtsp://127.0.0.1:{free_port()}/cam")
    html = stream_camera(tenant, site["id"], f"{snapshots}/page")
    wrong = stream_camera(tenant, site["id"], f"{snapshots}/snap.jpg", username="viewer", password="not-" + PASSWORD)
    good = stream_camera(tenant, site["id"], f"{snapshots}/snap.jpg", username="viewer", password=PASSWORD)
    gateway, thread = run_gateway(allowed)
    try:
        wait_for(lambda: status(tenant, nobody["id"])["status"] == "unreachable", 30, "no unreachable")
        wait_for(lambda: status(tenant, html["id"])["status"] == "unreachable", 30, "no not_video")
        wait_for(lambda: status(tenant, wrong["id"])["status"] == "unreachable", 30, "no auth_failed")
        wait_for(lambda: status(tenant, good["id"])["status"] == "live", 30, "good camera not live")
        assert status(tenant, nobody["id"])["error"].startswith("unreachable: cannot connect to rtsp://127.0.0.1")
        assert status(tenant, html["id"])["error"].startswith("not_video:")
        assert status(tenant, wrong["id"])["error"].startswith("auth_failed:")
        assert PASSWORD not in status(tenant, wrong["id"])["error"]
        assert thread.is_alive() and len(gateway.pullers) == 4  # retrying, none crashed
        # The operator narrows STREAM_SOURCES_ALLOW: checked again at the next connection.
        allowed.config["STREAM_SOURCES_ALLOW"] = ["10.0.0.0/8"]
        wait_for(lambda: (status(tenant, nobody["id"])["error"] or "").startswith("source_not_allowed"), 40, "not refused")
    finally:
        stop_gateway(gateway, thread)


def test_disabled_deleted_and_changed_cameras_are_noticed_within_seconds(allowed, client, snapshots):
    tenant = Tenant(client, "Changes")
    site = tenant.site()
    a = stream_camera(tenant, site["id"], f"{snapshots}/snap.jpg", username="viewer", password=PASSWORD)
    b = stream_camera(tenant, site["id"], f"{snapshots}/snap.jpg", username="viewer", password=PASSWORD)
    gateway, thread = run_gateway(allowed)
    try:
        wait_for(lambda: status(tenant, a["id"])["status"] == "live" and status(tenant, b["id"])["status"] == "live", 20, "live")
        assert tenant.call("PATCH", f"/api/v1/cameras/{a['id']}", json={"enabled": False}).status_code == 200
        wait_for(lambda: a["id"] not in gateway.pullers, 5, "disabled camera still pulled")
        time.sleep(1)
        assert status(tenant, a["id"])["status"] == "disabled"
        old = gateway.pullers[b["id"]]
        r = tenant.call("PATCH", f"/api/v1/cameras/{b['id']}", json={"password": "changed-" + PASSWORD})
        assert r.status_code == 200, r.get_json()
        wait_for(lambda: gateway.pullers.get(b["id"]) not in (None, old), 5, "new credentials not used")
        wait_for(lambda: (status(tenant, b["id"])["error"] or "").startswith("auth_failed"), 20, "new password not tried")
        assert tenant.call("DELETE", f"/api/v1/cameras/{b['id']}").status_code in (200, 204)
        wait_for(lambda: not gateway.pullers, 5, "deleted camera still pulled")
    finally:
        stop_gateway(gateway, thread)


def test_two_gateways_share_the_cameras_and_take_over_a_dead_ones(allowed, client, snapshots):
    client_redis = redis.Redis.from_url(conftest.REDIS_URL)
    for key in client_redis.scan_iter(match="emotiscan:gateway:*"):
        client_redis.delete(key)
    tenant = Tenant(client, "Shared")
    site = tenant.site()
    cams = [stream_camera(tenant, site["id"], f"{snapshots}/snap.jpg", username="viewer", password=PASSWORD) for _ in range(4)]
    one, t1 = run_gateway(allowed, RedisLeases(client_redis, "gw-1", gw.LEASE_S))
    two, t2 = run_gateway(allowed, RedisLeases(client_redis, "gw-2", gw.LEASE_S))
    overlaps = []

    def feeding(g: gw.Gateway) -> set[int]:
        return {cid for cid, p in list(g.pullers.items()) if not p.stop_event.is_set() and p.lease_valid()}

    try:
        wait_for(lambda: len(one.pullers) == 2 and len(two.pullers) == 2, 20, "cameras not shared 2 and 2")
        for _ in range(20):
            overlaps.append(feeding(one) & feeding(two))
            time.sleep(0.05)
        # gw-1 dies: it stops ticking (no renewal, no release) and its pullers are stopped without a word.
        one.stop_event.set()
        one.shutdown = lambda: None  # type: ignore[method-assign]
        t1.join(timeout=10)
        for p in one.pullers.values():
            p.stop_event.set()
        died = time.monotonic()
        while len(two.pullers) < 4 and time.monotonic() - died < 10:
            overlaps.append(feeding(one) & feeding(two))
            time.sleep(0.05)
        assert len(two.pullers) == 4, two.pullers.keys()
        assert time.monotonic() - died < gw.LEASE_S + 3
        assert {c["id"] for c in cams} == set(two.pullers)
        assert all(client_redis.get(f"emotiscan:gateway:lease:{c['id']}") == b"gw-2" for c in cams)
    finally:
        stop_gateway(two, t2)
    assert not any(overlaps)
