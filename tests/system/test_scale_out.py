"""Scale-out proof: a real NGINX (the deployment template) in front of two gunicorn web processes
and two Celery workers on PostgreSQL and Redis. Cameras stream through NGINX; every observation
reaches its own tenant's live clients on either web process, and no other tenant's."""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
import redis
import requests

from tests.conftest import REDIS_URL, truncate_all
from tests.images import face_jpeg
from tests.processes import (
    ROOT,
    ApiClient,
    Camera,
    LiveListener,
    Proc,
    base_env,
    free_port,
    start_web,
    start_worker,
    wait_ready,
    wait_worker,
)

pytestmark = pytest.mark.process
TEMPLATE = ROOT / "deploy" / "nginx" / "emotiscan.conf.template"
MAIN = ROOT / "deploy" / "nginx" / "test-main.conf"


def render(template: Path, values: dict[str, str]) -> str:
    """envsubst as the nginx image runs it: only the named variables, NGINX's own $vars stay."""
    return re.sub(r"\$\{([A-Z_]+)\}", lambda m: values.get(m.group(1), m.group(0)), template.read_text())


def start_nginx(tmp: Path, port: int, web_ports: list[int]) -> Proc:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(nginx).exists(), "NGINX is not installed (apt-get install nginx; .ci/run does it)"
    prefix = tmp / "nginx"
    prefix.mkdir()
    site = prefix / "emotiscan.conf"
    # WebSocket-only clients need no stickiness, so least_conn spreads them over both processes.
    site.write_text(
        render(
            TEMPLATE,
            {
                "EMOTISCAN_BALANCE": "least_conn;",
                "EMOTISCAN_UPSTREAM_SERVERS": " ".join(f"server 127.0.0.1:{p};" for p in web_ports),
                "EMOTISCAN_LISTEN": f"127.0.0.1:{port}",
                "EMOTISCAN_STATIC": str(ROOT / "app" / "static"),
            },
        )
    )
    main = prefix / "nginx.conf"
    main.write_text(render(MAIN, {"PREFIX": str(prefix), "SITE_CONF": str(site)}))
    check = subprocess.run([nginx, "-t", "-p", str(prefix), "-c", str(main)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    return Proc([nginx, "-p", str(prefix), "-c", str(main)], {}, prefix / "stdout.log")


def gauge(base: str, name: str) -> int:
    text = requests.get(base + "/metrics", timeout=5).text
    return int(float(re.search(rf"^emotiscan_{name} (\S+)$", text, re.M).group(1)))


def test_two_web_processes_and_two_workers_behind_nginx(tmp_path, pg_database):
    redis.Redis.from_url(REDIS_URL).flushdb()
    web_ports, nginx_port = [free_port(), free_port()], free_port()
    front = f"http://127.0.0.1:{nginx_port}"
    direct = [f"http://127.0.0.1:{p}" for p in web_ports]  # the test's extra viewers connect there too
    env = base_env(
        tmp_path,
        nginx_port,
        DATABASE_URL=pg_database,
        REDIS_URL=REDIS_URL,
        PUBLIC_URL=front,
        BEHIND_PROXY="1",
        SOCKETIO_CORS_ALLOWED_ORIGINS=",".join([front, *direct]),
    )
    webs = [start_web(tmp_path, env, port) for port in web_ports]
    workers = [start_worker(tmp_path, env, name) for name in ("w1", "w2")]
    nginx = start_nginx(tmp_path, nginx_port, web_ports)
    listeners, cameras = [], []
    try:
        for web, port in zip(webs, web_ports, strict=True):
            wait_ready(f"http://127.0.0.1:{port}", web)
        for worker in workers:
            wait_worker(worker)
        wait_ready(front, nginx)
        assert "max-age=604800" in requests.get(front + "/static/js/common.js", timeout=5).headers["Cache-Control"]

        tenants = [ApiClient(front, name) for name in ("North School", "South Clinic")]
        cams = {t.tenant_id: [t.camera(), t.camera()] for t in tenants}
        # Four viewers per tenant through NGINX, plus one straight on each web process.
        viewers = {
            t.tenant_id: [LiveListener(front, t.token) for _ in range(4)]
            + [LiveListener(f"http://127.0.0.1:{p}", t.token) for p in web_ports]
            for t in tenants
        }
        listeners = [v for vs in viewers.values() for v in vs]
        per_process = [gauge(f"http://127.0.0.1:{p}", "live_connections") for p in web_ports]
        assert sum(per_process) == len(listeners) and min(per_process) >= 3, per_process  # NGINX used both

        frames = 6
        cameras = [(tid, cam, Camera(front, cam["capture_token"])) for tid, cs in cams.items() for cam in cs]
        assert min(gauge(f"http://127.0.0.1:{p}", "capture_connections") for p in web_ports) >= 1

        def stream(client: Camera) -> None:
            for _ in range(frames):
                assert client.send(face_jpeg())["ok"] is True
                time.sleep(0.25)

        threads = [threading.Thread(target=stream, args=(client,)) for _, _, client in cameras]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        expected = {tid: {c["id"] for c in cs} for tid, cs in cams.items()}
        for tid, tenant_viewers in viewers.items():
            for viewer in tenant_viewers:
                assert viewer.wait(frames * 2, timeout=60), (len(viewer.observations), workers[0].output()[-2000:])
                time.sleep(0.5)
                got = [o["camera_id"] for o in viewer.observations]
                assert set(got) == expected[tid] and len(got) == frames * 2, got  # all of its own, none of the other

        def analysed_by_worker() -> list[int]:
            return [sum(map(int, re.findall(r"(\d+) frames analysed", w.output()))) for w in workers]

        deadline = time.monotonic() + 10  # a worker logs each batch just after its emits
        while sum(analysed_by_worker()) < frames * len(cameras) and time.monotonic() < deadline:
            time.sleep(0.2)
        analysed = analysed_by_worker()
        assert sum(analysed) == frames * len(cameras) and min(analysed) >= 1, analysed  # both workers took frames
        for proc in (*webs, *workers):
            assert "Traceback" not in proc.output()
    finally:
        for client in [c for _, _, c in cameras] + listeners:
            try:
                client.close()
            except Exception:  # noqa: BLE001
                pass
        nginx.stop()
        for proc in (*workers, *webs):
            proc.stop()
        truncate_all(pg_database)
        redis.Redis.from_url(REDIS_URL).flushdb()
