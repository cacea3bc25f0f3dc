"""`make bench`: how many stream cameras one core of the gateway pulls at 2 frames/s
(python -m benchmarks.gateway alone).

The distributed mode (PostgreSQL, Redis, one Celery worker) with one gateway process
(``python -m app.gateway``) pulling CAMERAS stream cameras, each from the same RTSP
stream (the tests' relay of Debian's ffmpeg, a clip of the committed photos). The gateway's CPU
time (user + system, /proc) over the run is divided by the cameras and the seconds; its inverse
is the cameras per core. It covers what the gateway does per camera: decoding every frame of the
stream (so that the sampled frame is the newest), the JPEG encoding of sampled frames and the
intake checks; the analysis runs in the workers and is not counted.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.agent import clip, cpu_s  # noqa: E402
from tests.agent.rtsp import RtspServer  # noqa: E402
from tests.conftest import PG_URL, REDIS_URL  # noqa: E402
from tests.processes import BIN, ApiClient, Proc, base_env, free_port, start_web, start_worker, wait_ready, wait_worker  # noqa: E402

CAMERAS = 6
SECONDS = 20


def measure(base: str, env: dict, tmp: Path, width: int, height: int, fps: int) -> tuple[float, int]:
    server = RtspServer(clip(tmp / f"clip-{width}.mp4", width, height, fps), tmp)
    tenant = ApiClient(base, f"Gateway bench {width}")
    site = tenant.call("POST", "/api/v1/sites", json={"name": "Hall", "timezone": "Europe/Paris"}).json()
    cameras = []
    for i in range(CAMERAS):
        body = {"site_id": site["id"], "name": f"cam{i}", "kind": "stream", "source_url": server.url, "fps": 2}
        r = tenant.call("POST", "/api/v1/cameras", json=body)
        assert r.status_code == 201, r.text
        cameras.append(r.json()["id"])
    gateway = Proc([str(BIN / "python"), "-m", "app.gateway"], env, tmp / f"gateway-{width}.log")
    counters = redis.Redis.from_url(REDIS_URL)
    try:
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            statuses = [tenant.call("GET", f"/api/v1/cameras/{c}").json()["stream_status"]["status"] for c in cameras]
            if statuses == ["live"] * CAMERAS:
                break
            time.sleep(0.5)
        time.sleep(2)  # connected and streaming: measure the steady state only
        received = int(counters.hget("emotiscan:counters", "frames_received") or 0)
        start = cpu_s(gateway.popen.pid)
        time.sleep(SECONDS)
        used = cpu_s(gateway.popen.pid) - start
        received = int(counters.hget("emotiscan:counters", "frames_received") or 0) - received
    finally:
        gateway.stop()
        server.stop()
        for c in cameras:  # the next measurement's gateway must not pull these
            tenant.call("DELETE", f"/api/v1/cameras/{c}")
    return used / SECONDS / CAMERAS, received


def bench_gateway() -> None:
    print(f"## Gateway, stream cameras per core at 2 frames/s ({CAMERAS} RTSP cameras in one gateway, {SECONDS} s)")
    redis.Redis.from_url(REDIS_URL).flushdb()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        port = free_port()
        env = base_env(tmp, port, DATABASE_URL=PG_URL, REDIS_URL=REDIS_URL, STREAM_SOURCES_ALLOW="127.0.0.0/8")
        web = start_web(tmp, env, port)
        worker = start_worker(tmp, env)
        try:
            wait_ready(f"http://127.0.0.1:{port}", web)
            wait_worker(worker)
            for width, height, fps in ((640, 480, 10), (1280, 720, 25)):
                per_camera, received = measure(f"http://127.0.0.1:{port}", env, tmp, width, height, fps)
                print(
                    f"gateway, {width}x{height} {fps} frames/s MPEG-4 stream: {per_camera * 100:.1f}% of a core per camera, "
                    f"{1 / max(per_camera, 1e-6):.0f} cameras per core ({received} frames taken by intake "
                    f"in {SECONDS} s, {CAMERAS * 2 * SECONDS} sampled at 2/s)"
                )
        finally:
            worker.stop()
            web.stop()


if __name__ == "__main__":
    bench_gateway()
