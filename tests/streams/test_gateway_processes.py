"""The gateway as real processes: inside `make run` (embedded mode, a thread of the web process)
and as two `python -m app.gateway` processes sharing cameras by Redis leases in the
distributed mode, one of them killed mid-stream. Sources: the tests' RTSP server (Debian's
ffmpeg behind a relay, a clip of real photos) and HTTP sources."""

from __future__ import annotations

import signal
import time

import pytest
import redis

import tests.conftest as conftest
from tests.agent.clips import face_clip
from tests.agent.rtsp import RtspServer
from tests.conftest import truncate_all
from tests.processes import (
    BIN,
    ApiClient,
    LiveListener,
    Proc,
    base_env,
    free_port,
    make_run,
    start_web,
    start_worker,
    wait_ready,
    wait_worker,
)
from tests.streams.sources import PASSWORD, SnapshotServer

pytestmark = pytest.mark.process

ALLOW = {"STREAM_SOURCES_ALLOW": "127.0.0.0/8"}


def wait_for(predicate, timeout: float, what: str, *procs: Proc) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    logs = "\n".join(p.output()[-2500:] for p in procs)
    raise AssertionError(f"{what} within {timeout}s:\n{logs}")


def stream_camera(tenant: ApiClient, url: str, **extra) -> dict:
    site = tenant.call("POST", "/api/v1/sites", json={"name": "Hall", "timezone": "Europe/Paris"}).json()
    body = {"site_id": site["id"], "name": "CCTV", "kind": "stream", "source_url": url, "fps": 2, **extra}
    r = tenant.call("POST", "/api/v1/cameras", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def faces_for(live: LiveListener, camera_id: int) -> list[dict]:
    return [o for o in list(live.observations) if o["camera_id"] == camera_id and o["faces"]]


def status(tenant: ApiClient, camera_id: int) -> dict:
    return tenant.call("GET", f"/api/v1/cameras/{camera_id}").json()["stream_status"]


@pytest.fixture
def embedded_allowed(tmp_path):
    with make_run(tmp_path, **ALLOW) as (base, proc, _):
        yield base, proc


def test_make_run_pulls_an_rtsp_camera_into_its_tenants_live_room(embedded_allowed, tmp_path):
    base, web = embedded_allowed
    rtsp = RtspServer(face_clip(tmp_path / "clip.mp4", seconds=3), tmp_path, "viewer", PASSWORD)
    snapshots = SnapshotServer()
    tenant, other = ApiClient(base, "Gateway School"), ApiClient(base, "Other Shop")
    live, live_other = LiveListener(base, tenant.token), LiveListener(base, other.token)
    try:
        cam = stream_camera(tenant, rtsp.url, username="viewer", password=PASSWORD)
        nobody = stream_camera(tenant, f"rtsp://127.0.0.1:{free_port()}/cam")
        wrong = stream_camera(tenant, rtsp.url, username="viewer", password="wrong-" + PASSWORD)
        html = stream_camera(tenant, f"{snapshots.base}/page")
        wait_for(lambda: len(faces_for(live, cam["id"])) >= 3, 60, "no observations with faces", web)
        assert faces_for(live, cam["id"])[0]["faces"][0]["emotion"]
        assert status(tenant, cam["id"])["status"] == "live"
        wait_for(lambda: (status(tenant, nobody["id"])["error"] or "").startswith("unreachable:"), 30, "no unreachable", web)
        wait_for(lambda: (status(tenant, wrong["id"])["error"] or "").startswith("auth_failed:"), 30, "no auth_failed", web)
        wait_for(lambda: (status(tenant, html["id"])["error"] or "").startswith("not_video:"), 30, "no not_video", web)
        assert {o["camera_id"] for o in live.observations} == {cam["id"]}
        assert live_other.observations == []
        assert tenant.call("GET", f"/api/v1/cameras/{cam['id']}").json()["last_seen_at"]
        shown = tenant.call("GET", "/api/v1/cameras").text + tenant.call("GET", f"/api/v1/cameras/{wrong['id']}").text
        assert PASSWORD not in shown
    finally:
        live.close(), live_other.close(), rtsp.stop(), snapshots.stop()
    log = web.output()
    assert PASSWORD not in log and "viewer:" not in log and "Traceback" not in log
    assert f"camera {cam['id']}: live" in log


@pytest.fixture
def distributed_allowed(tmp_path, pg_database):
    r = redis.Redis.from_url(conftest.REDIS_URL)
    r.flushdb()
    port = free_port()
    env = base_env(tmp_path, port, DATABASE_URL=pg_database, REDIS_URL=conftest.REDIS_URL, **ALLOW)
    web = start_web(tmp_path, env, port)
    worker = start_worker(tmp_path, env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, web)
        wait_worker(worker)
        yield base, web, env, r
    finally:
        worker.stop()
        web.stop()
        truncate_all(pg_database)
        r.flushdb()


def gateway(tmp_path, env: dict, name: str) -> Proc:
    return Proc([str(BIN / "python"), "-m", "app.gateway"], env, tmp_path / f"gateway-{name}.log")


def test_two_gateways_share_the_cameras_and_one_killed_hands_its_cameras_over(distributed_allowed, tmp_path):
    base, web, env, r = distributed_allowed
    rtsp = RtspServer(face_clip(tmp_path / "clip.mp4", seconds=3), tmp_path, "viewer", PASSWORD)
    tenant = ApiClient(base, "Shared Gateways")
    live = LiveListener(base, tenant.token)
    cams = [stream_camera(tenant, rtsp.url, username="viewer", password=PASSWORD)["id"] for _ in range(4)]
    one, two = gateway(tmp_path, env, "one"), gateway(tmp_path, env, "two")
    holders: list[dict[int, str | None]] = []

    def owners() -> dict[int, str | None]:
        found = {c: r.get(f"emotiscan:gateway:lease:{c}") for c in cams}
        holders.append(found)
        return found

    try:
        wait_for(lambda: all(len(faces_for(live, c)) >= 2 for c in cams), 90, "not every camera analysed", one, two)
        wait_for(lambda: len(set(owners().values()) - {None}) == 2, 20, "cameras not shared by both gateways", one, two)
        shared = owners()
        assert sorted(list(shared.values()).count(v) for v in set(shared.values())) == [2, 2], shared
        victim_id = shared[cams[0]]
        victim, survivor = (one, two) if f":{one.popen.pid}:".encode() in victim_id else (two, one)
        orphans = [c for c, v in shared.items() if v == victim_id]
        victim.stop(signal.SIGKILL)
        killed = time.monotonic()

        survivor_id = next(v for v in shared.values() if v != victim_id)
        wait_for(lambda: set(owners().values()) == {survivor_id}, 10, "the leases were not taken over", survivor)
        taken, taken_at = time.monotonic(), time.time()

        def resumed() -> bool:
            owners()
            fresh = {o["camera_id"] for o in list(live.observations) if live.arrivals.get(o["frame_id"], 0) > taken_at}
            return all(c in fresh for c in orphans)

        wait_for(resumed, 10 - (taken - killed), "the killed gateway's cameras did not continue", survivor)
        assert time.monotonic() - killed < 10
        assert f"camera {orphans[0]}: pulled by" in survivor.output()
        # Stopped (SIGTERM): it ends its pulls, releases its leases and leaves at once.
        survivor.stop()
        assert survivor.popen.returncode == 0 and "stopped" in survivor.output().splitlines()[-1], survivor.output()[-2000:]
        assert all(r.get(f"emotiscan:gateway:lease:{c}") is None for c in cams)
        assert r.zcard("emotiscan:gateway:members") == 0
    finally:
        live.close(), rtsp.stop(), one.stop(), two.stop()
    # No camera pulled twice: every sampled lease had one of the two gateways or none as holder,
    # and no camera went above its rate (two gateways pulling one camera send twice its 2 frames/s).
    ids = {one.popen.pid, two.popen.pid}
    assert all(v is None or int(v.split(b":")[-2]) in ids for sample in holders for v in sample.values())
    for c in cams:
        times = sorted(live.arrivals[o["frame_id"]] for o in live.observations if o["camera_id"] == c)
        busiest = max(sum(1 for t in times if start <= t < start + 5) for start in times)
        assert busiest <= 2 * 5 * 1.2 + 2, (c, busiest)
    for log in (one.output(), two.output(), web.output()):
        assert PASSWORD not in log and "viewer:" not in log
    assert "Traceback" not in survivor.output()
