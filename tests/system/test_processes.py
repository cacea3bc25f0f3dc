"""The product as real processes, talked to only over HTTP and Socket.IO (WebSocket transport)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time

import pytest
import requests
import socketio

from tests.images import face_jpeg
from tests.processes import (
    ApiClient,
    Camera,
    LiveListener,
    start_worker,
    wait_worker,
)
from tests.services.test_webhooks import Receiver

pytestmark = pytest.mark.process


def test_embedded_mode_end_to_end(embedded):
    base, proc = embedded
    assert requests.get(base + "/readyz", timeout=5).json()["checks"] == {"database": True}
    page = requests.get(base + "/auth/login", timeout=5)
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    a, b = ApiClient(base, "Ecole A"), ApiClient(base, "Clinique B")
    cam = a.camera()
    live_a, live_b = LiveListener(base, a.token), LiveListener(base, b.token)
    capture = Camera(base, cam["capture_token"])
    try:
        ack = capture.send(face_jpeg())
        assert ack["ok"] is True, ack
        assert live_a.wait(1, timeout=30), proc.output()[-4000:]
        obs = live_a.observations[0]
        assert obs["camera_id"] == cam["id"] and len(obs["faces"]) == 1 and obs["faces"][0]["scores"]
        time.sleep(1)
        assert live_b.observations == []
        assert capture.send(b"garbage") == {"ok": False, "error": "bad_image"}
        # The server stays up and keeps analysing.
        time.sleep(0.5)
        assert capture.send(face_jpeg())["ok"] is True
        assert live_a.wait(2, timeout=30)
        # A 10 MB payload: the server closes that connection (over its message limit)...
        try:
            answer = capture.send(b"\xff\xd8" + b"\x00" * (10 * 1024 * 1024), timeout=5)
            assert answer == {"ok": False, "error": "too_large"}
        except (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError):
            pass
        # ...and a reconnecting camera is analysed again.
        capture.close()
        capture = Camera(base, cam["capture_token"])
        time.sleep(0.5)
        assert capture.send(face_jpeg())["ok"] is True
        assert live_a.wait(3, timeout=30)
    finally:
        capture.close(), live_a.close(), live_b.close()
    # CSRF is on for browser forms in this configuration.
    s = requests.Session()
    assert s.post(base + "/auth/login", data={"email": "x@y.example", "password": "whatever1"}, timeout=5).status_code == 400
    assert "Traceback" not in proc.output()


def test_signup_in_french_in_the_browser_flow(embedded):
    base, _ = embedded
    s = requests.Session()
    page = s.get(base + "/auth/signup", headers={"Accept-Language": "fr"}, timeout=5)
    assert "Créez votre organisation" in page.text
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
    r = s.post(
        base + "/auth/signup",
        data={"csrf_token": csrf, "organisation": "École Pasteur", "email": "d@pasteur.example", "password": "secret-pass-1"},
        headers={"Accept-Language": "fr"},
        timeout=10,
    )
    assert r.status_code == 200 and "Bienvenue" in r.text and "Ajouter un site" in r.text
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', r.text).group(1)
    r = s.post(base + "/admin/sites", data={"csrf_token": csrf, "name": "Portail", "timezone": "Europe/Paris"}, timeout=10)
    assert "Portail" in r.text and "Ajouter une caméra" in r.text
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', r.text).group(1)
    site_id = re.search(r'<option selected value="(\d+)">Portail', r.text) or re.search(r'value="(\d+)"[^>]*>Portail', r.text)
    r = s.post(
        base + "/admin/cameras",
        data={"csrf_token": csrf, "name": "Tablette", "site_id": site_id.group(1), "fps": "5"},
        timeout=10,
    )
    assert "data:image/svg+xml;base64," in r.text and "/capture/" in r.text and "#token=cam_" in r.text
    # Another organisation sees none of it.
    other = ApiClient(base, "Autre")
    assert other.call("GET", "/api/v1/sites").json()["items"] == []
    assert other.call("GET", "/api/v1/cameras").json()["items"] == []


def test_sign_in_throttle_in_run_configuration(embedded):
    base, _ = embedded
    ApiClient(base, "Throttle")
    codes = [
        requests.post(
            base + "/api/v1/tokens", json={"email": "nobody@x.example", "password": "bad-pass-1"}, timeout=5
        ).status_code
        for _ in range(11)
    ]
    assert codes[:10] == [401] * 10 and codes[10] == 429


def test_distributed_mode_with_a_real_worker(distributed, tmp_path):
    base, web, worker, env = distributed
    deadline = time.monotonic() + 30
    while requests.get(base + "/readyz", timeout=5).status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert requests.get(base + "/readyz", timeout=5).json()["checks"] == {"database": True, "redis": True, "workers": True}
    a, b = ApiClient(base, "Tenant A"), ApiClient(base, "Tenant B")
    cam = a.camera()
    live_a, live_b = LiveListener(base, a.token), LiveListener(base, b.token)
    capture = Camera(base, cam["capture_token"])
    try:
        assert capture.send(face_jpeg())["ok"] is True
        assert live_a.wait(1, timeout=30), worker.output()[-4000:]
        assert live_a.observations[0]["faces"][0]["emotion"]
        time.sleep(1)
        assert live_b.observations == []
        stored = a.call("GET", f"/api/v1/observations?camera_id={cam['id']}").json()["items"]
        assert len(stored) == 1 and stored[0]["model_version"] == live_a.observations[0]["model_version"]
        # Without a worker, frames are accepted (queued) but no observation arrives.
        worker.stop()
        seen = len(live_a.observations)
        time.sleep(1)
        assert capture.send(face_jpeg())["ok"] is True
        time.sleep(4)
        assert len(live_a.observations) == seen
        # A worker that comes back drops the queued frame as stale instead of analysing it late.
        worker2 = start_worker(tmp_path, env, "w2")
        try:
            wait_worker(worker2)
            time.sleep(2)
            assert len(live_a.observations) == seen
            metrics = requests.get(base + "/metrics", timeout=5).text
            assert re.search(r"emotiscan_frames_stale_total [1-9]", metrics), metrics
        finally:
            worker2.stop()
    finally:
        capture.close(), live_a.close(), live_b.close()
    assert "Traceback" not in web.output()


def test_bad_token_is_refused_over_websocket(embedded):
    base, _ = embedded
    sio = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        sio.connect(base, namespaces=["/capture"], auth={"token": "cam_nope"}, transports=["websocket"], wait_timeout=5)


def test_alert_through_two_real_workers_reaches_one_tenant_once(distributed, tmp_path):
    """Frames of a real face, analysed by two Celery worker processes sharing the stream, raise
    exactly one alert, on the live room of that tenant only."""
    base, web, worker, env = distributed
    second = start_worker(tmp_path, env, "w2")
    try:
        wait_worker(second)
        a, b = ApiClient(base, "Alert A"), ApiClient(base, "Alert B")
        cam = a.camera()
        rule = a.call(
            "POST",
            "/api/v1/alert-rules",
            json={"camera_id": cam["id"], "emotion": "joy", "threshold": 0.3, "duration_s": 2, "cooldown_s": 600},
        )
        assert rule.status_code == 201, rule.text
        receiver = Receiver(fail_first=1)  # Celery retries the delivery after a failure
        hook = a.call("POST", "/api/v1/webhooks", json={"url": receiver.url}).json()
        alerts_a, alerts_b = [], []
        live_a, live_b = LiveListener(base, a.token), LiveListener(base, b.token)
        live_a.sio.on("alert", alerts_a.append, namespace="/live")
        live_b.sio.on("alert", alerts_b.append, namespace="/live")
        capture = Camera(base, cam["capture_token"])
        try:
            end = time.monotonic() + 7
            while time.monotonic() < end:
                capture.send(face_jpeg())
                time.sleep(0.2)
            time.sleep(3)
        finally:
            capture.close(), live_a.close(), live_b.close()
        assert len(live_a.observations) >= 20
        assert len({o["frame_id"] for o in live_a.observations}) == len(live_a.observations)
        assert [x["status"] for x in alerts_a] == ["open"], alerts_a
        assert alerts_b == []
        stored = a.call("GET", "/api/v1/alerts").json()["items"]
        assert len(stored) == 1 and stored[0]["rule_id"] == rule.json()["id"]
        assert "frames analysed" in second.output()  # both workers' frames consumers took frames
        assert "frames analysed" in worker.output()
        deadline = time.monotonic() + 20
        while len(receiver.requests) < 2 and time.monotonic() < deadline:
            time.sleep(0.3)
        headers, body = receiver.requests[-1]
        signed = "sha256=" + hmac.new(hook["secret"].encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-EmotiScan-Signature"] == signed and json.loads(body)["event"] == "alert.open"
        log = a.call("GET", f"/api/v1/webhooks/{hook['id']}/deliveries").json()["items"]
        assert [(d["attempt"], d["ok"]) for d in log] == [(1, False), (2, True)]
        receiver.close()
    finally:
        second.stop()
