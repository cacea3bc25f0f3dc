"""The frames stream across real worker processes: a worker killed mid-batch while frames flow;
another claims its pending frames. No frame is analysed twice or lost, and a rule that should
fire once fires once (distributed mode, PostgreSQL, Redis)."""

from __future__ import annotations

import os
import re
import signal
import socket
import threading
import time

import pytest
import redis
import requests
from sqlalchemy import create_engine, text

from app.services.admission import FRAMES_GROUP, FRAMES_STREAM
from tests.conftest import REDIS_URL, truncate_all
from tests.images import face_jpeg
from tests.processes import ApiClient, Camera, LiveListener, base_env, free_port, start_web, start_worker, wait_ready, wait_worker

pytestmark = pytest.mark.process
JOY = {"emotion": "joy", "threshold": 0.3, "duration_s": 2, "min_share": 0.6, "cooldown_s": 600}


def metric(base: str, name: str) -> int:
    found = re.search(rf"^emotiscan_{name} (\d+)", requests.get(base + "/metrics", timeout=5).text, re.M)
    return int(found.group(1)) if found else 0


def test_worker_killed_mid_batch_its_frames_are_claimed_once(tmp_path, pg_database):
    r = redis.Redis.from_url(REDIS_URL)
    r.flushdb()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # Claimed frames are a second or two old: a wider stale limit lets them be analysed, not dropped.
    env = base_env(tmp_path, port, DATABASE_URL=pg_database, REDIS_URL=REDIS_URL, STALE_FRAME_S="6")
    web = start_web(tmp_path, env, port, threads=64)
    doomed, survivor = start_worker(tmp_path, env, "w1"), start_worker(tmp_path, env, "w2")
    try:
        wait_ready(base, web)
        wait_worker(doomed), wait_worker(survivor)
        tenant = ApiClient(base, "Stream School")
        cams = [tenant.camera(), tenant.camera()]
        rule = tenant.call("POST", "/api/v1/alert-rules", json={**JOY, "camera_id": cams[0]["id"]})
        assert rule.status_code == 201, rule.text
        alerts: list[dict] = []
        live = LiveListener(base, tenant.token)
        live.sio.on("alert", alerts.append, namespace="/live")
        acks: list[dict] = []
        stop = threading.Event()

        def send(token: str) -> None:
            camera = Camera(base, token)
            try:
                while not stop.is_set():
                    acks.append(camera.send(face_jpeg()))
                    time.sleep(0.1)
            finally:
                camera.close()

        senders = [threading.Thread(target=send, args=(c["capture_token"],)) for c in cams]
        for t in senders:
            t.start()
        try:
            # Kill the first worker while it holds a batch: frozen as soon as it has frames
            # pending (read, not yet acknowledged), its pending frames noted, then SIGKILL.
            name = f"{socket.gethostname()}:{doomed.popen.pid}"
            time.sleep(2)
            orphans: list[str] = []
            deadline = time.monotonic() + 15
            while not orphans and time.monotonic() < deadline:
                if r.xpending_range(FRAMES_STREAM, FRAMES_GROUP, "-", "+", 16, consumername=name):
                    os.kill(doomed.popen.pid, signal.SIGSTOP)
                    pending = r.xpending_range(FRAMES_STREAM, FRAMES_GROUP, "-", "+", 16, consumername=name)
                    orphans = [r.xrange(FRAMES_STREAM, p["message_id"], p["message_id"])[0][1][b"f"].decode() for p in pending]
                    doomed.stop(signal.SIGKILL)
                time.sleep(0.002)
            assert orphans, "the first worker never held a frame"
            time.sleep(4)  # frames keep flowing to the survivor
        finally:
            stop.set()
            for t in senders:
                t.join()
        accepted = [a["frame_id"] for a in acks if a["ok"]]
        assert len(accepted) >= 30 and all(a["ok"] or a["error"] in ("busy", "rate_limited") for a in acks), acks
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if metric(base, "frames_analyzed_total") + metric(base, "frames_stale_total") >= len(accepted):
                break
            time.sleep(0.5)
        time.sleep(1)
        live.close()
        engine = create_engine(pg_database)
        with engine.connect() as conn:
            stored = [row[0] for row in conn.execute(text("SELECT frame_id FROM observations"))]
        engine.dispose()
        stale, analysed = metric(base, "frames_stale_total"), metric(base, "frames_analyzed_total")
        # Each accepted frame is stored once or counted stale; none analysed twice, none lost.
        assert len(stored) == len(set(stored)) == len(accepted) - stale == analysed, (len(stored), len(accepted), stale)
        assert set(stored) <= set(accepted)
        assert set(orphans) <= set(stored), (orphans, survivor.output()[-3000:])  # claimed and analysed
        assert re.search(r"\([1-9]\d* redelivered\)", survivor.output()), survivor.output()[-3000:]
        assert not r.xpending_range(FRAMES_STREAM, FRAMES_GROUP, "-", "+", 16, consumername=name)
        assert r.xlen(FRAMES_STREAM) == 0  # nothing left in Redis
        stored_alerts = tenant.call("GET", "/api/v1/alerts").json()["items"]
        assert len(stored_alerts) == 1 and stored_alerts[0]["rule_id"] == rule.json()["id"], stored_alerts
        assert [a["id"] for a in alerts if a["status"] == "open"] == [stored_alerts[0]["id"]]
        assert "Traceback" not in web.output() and "Traceback" not in survivor.output()
    finally:
        survivor.stop()
        doomed.stop()
        web.stop()
        truncate_all(pg_database)
        r.flushdb()
