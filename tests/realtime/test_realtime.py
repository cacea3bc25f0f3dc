"""/capture and /live in one process (eager analysis): socket -> task -> store -> emit."""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import func, select

from app.extensions import db, socketio
from app.models import Observation
from tests.images import blank_jpeg, face_jpeg


def capture_client(app, token: str | None):
    return socketio.test_client(app, namespace="/capture", auth={"token": token} if token else None)


def live_client(app, api_token: str):
    return socketio.test_client(app, namespace="/live", auth={"token": api_token})


def events(client, name: str, namespace: str = "/live") -> list[dict]:
    return [e["args"][0] for e in client.get_received(namespace) if e["name"] == name]


@pytest.fixture
def camera(tenant_a):
    site = tenant_a.site()
    return tenant_a.camera(site["id"])


def send(cap, jpeg, ts=None):
    return cap.emit("frame", {"ts": ts or int(time.time() * 1000), "jpeg": jpeg}, namespace="/capture", callback=True)


def test_frame_reaches_own_tenant_live_room_only(app, tenant_a, tenant_b, camera):
    live_a, live_b = live_client(app, tenant_a.token), live_client(app, tenant_b.token)
    assert live_a.is_connected("/live") and live_b.is_connected("/live")
    cap = capture_client(app, camera["capture_token"])
    assert cap.is_connected("/capture")
    ack = send(cap, face_jpeg())
    assert ack["ok"] is True and ack["frame_id"]
    received = events(live_a, "observation")
    assert len(received) == 1
    obs = received[0]
    assert obs["camera_id"] == camera["id"] and obs["site_id"] == camera["site_id"]
    assert obs["model_version"] and obs["latency_ms"] >= 0
    assert len(obs["faces"]) == 1
    face = obs["faces"][0]
    assert set(face["scores"]) == {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"}
    assert len(face["box"]) == 4 and face["emotion"] in face["scores"]
    assert events(live_b, "observation") == []
    # The camera's own page gets the result to draw its boxes.
    assert [e["frame_id"] for e in events(cap, "result", "/capture")] == [ack["frame_id"]]
    with app.app_context():
        stored = db.session.scalars(select(Observation)).all()
        assert len(stored) == 1 and stored[0].faces == obs["faces"] and stored[0].happy is not None


def test_site_limited_staff_gets_only_its_site(app, tenant_a):
    gate, hall = tenant_a.site("Gate"), tenant_a.site("Hall")
    cam_gate, cam_hall = tenant_a.camera(gate["id"]), tenant_a.camera(hall["id"])
    _, staff_token = tenant_a.user("staff", site_ids=[hall["id"]])
    live = live_client(app, staff_token)
    send(capture_client(app, cam_gate["capture_token"]), face_jpeg())
    send(capture_client(app, cam_hall["capture_token"]), face_jpeg())
    assert [o["camera_id"] for o in events(live, "observation")] == [cam_hall["id"]]


def test_live_refuses_without_credentials(app):
    assert not socketio.test_client(app, namespace="/live").is_connected("/live")
    assert not live_client(app, "es_wrong").is_connected("/live")


def test_capture_refuses_missing_wrong_and_rotated_tokens(app, tenant_a, camera):
    assert not capture_client(app, None).is_connected("/capture")
    assert not capture_client(app, "cam_forged").is_connected("/capture")
    cap = capture_client(app, camera["capture_token"])
    assert send(cap, face_jpeg())["ok"] is True
    tenant_a.call("POST", f"/api/v1/cameras/{camera['id']}/rotate-token")
    # The open capture is told and closed at once (it used to learn only at its next frame).
    assert not cap.is_connected("/capture")
    assert [e["name"] for e in cap.queue if e["namespace"] == "/capture"][-1:] == ["revoked"]
    assert not capture_client(app, camera["capture_token"]).is_connected("/capture")


def test_bad_input_gets_error_acks_and_next_good_frame_is_analysed(app, tenant_a, camera):
    live = live_client(app, tenant_a.token)
    cap = capture_client(app, camera["capture_token"])
    good = face_jpeg()
    cases = {
        "bad_image": [b"this is no image", good[: len(good) // 2]],
        "too_large": [b"\xff\xd8" + b"\x00" * (10 * 1024 * 1024)],
        "bad_request": [None, "text", {"ts": 1}],
    }
    for code, payloads in cases.items():
        for payload in payloads:
            data = payload if isinstance(payload, (dict, type(None), str)) else {"ts": 1, "jpeg": payload}
            ack = cap.emit("frame", data, namespace="/capture", callback=True)
            assert ack == {"ok": False, "error": code}, (code, ack)
    assert cap.is_connected("/capture")
    assert send(cap, good)["ok"] is True
    assert len(events(live, "observation")) == 1


def test_flood_above_frame_rate_is_refused(app, tenant_a, camera):
    cap = capture_client(app, camera["capture_token"])
    started = time.monotonic()
    acks = [send(cap, blank_jpeg()) for _ in range(40)]
    elapsed = time.monotonic() - started
    refused = [a for a in acks if not a["ok"]]
    assert refused and {a["error"] for a in refused} == {"rate_limited"}
    # The camera's rate with 50% slack: a full bucket (one second's burst) plus what the flood's own
    # duration earns (frames are analysed inline here, so a slow machine takes longer, earns more).
    assert sum(a["ok"] for a in acks) <= camera["fps"] * 1.5 * (1 + elapsed) + 1


def test_stale_frames_are_dropped_and_counted(app, tenant_a, camera):
    from app.infra.state import store
    from app.tasks.analyze import analyze_and_publish

    live = live_client(app, tenant_a.token)
    with app.app_context():
        before = store().counters().get("frames_stale", 0)
        result = analyze_and_publish(tenant_a.id, camera["site_id"], camera["id"], "f1", time.time() - 5, face_jpeg())
        assert result is None
        assert store().counters()["frames_stale"] == before + 1
        assert db.session.scalar(select(func.count()).select_from(Observation)) == 0
    assert events(live, "observation") == []


def test_observations_api_lists_numbers_only(app, tenant_a, tenant_b, camera):
    send(capture_client(app, camera["capture_token"]), face_jpeg())
    items = tenant_a.call("GET", f"/api/v1/observations?camera_id={camera['id']}").get_json()["items"]
    assert len(items) == 1 and items[0]["faces"][0]["scores"]
    assert tenant_b.call("GET", f"/api/v1/observations?camera_id={camera['id']}").status_code == 404
    assert tenant_b.call("GET", "/api/v1/observations").get_json()["items"] == []
    assert tenant_a.call("GET", "/api/v1/observations?since=not-a-date").status_code == 400


def test_site_page_shows_each_cameras_status(app, client, tenant_a, camera):
    from app.services.camera_status import status_of

    cap = capture_client(app, camera["capture_token"])
    assert send(cap, face_jpeg())["ok"] and send(cap, face_jpeg())["ok"]
    assert send(cap, b"\xff\xd8 not a jpeg")["ok"] is False
    with app.app_context():
        from app.models import Camera

        status = status_of([db.session.get(Camera, camera["id"])])[camera["id"]]
    assert (status["received"], status["analysed"], status["refused"], status["stale"]) == (2, 2, 1, 0)
    assert status["fps"] == round(2 / 60, 2) and status["last_seen_at"] is not None
    client.post("/auth/login", data={"email": tenant_a.email, "password": "secret-pass-1"})
    page = client.get(f"/admin/sites/{camera['site_id']}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    cells = re.sub(r' data-label="[^"]*"', "", page)  # each cell names its column for phones
    assert "Analysed frames/s (last minute)" in page and "<td>0.03</td><td>2</td><td>1</td><td>0</td>" in cells


@pytest.mark.parametrize("ts", [float("nan"), float("inf"), 10**30, -5, True, "12"])
def test_insane_client_timestamps_are_dropped_not_sent_on(app, tenant_a, camera, ts):
    import json

    live = live_client(app, tenant_a.token)
    cap = capture_client(app, camera["capture_token"])
    ack = cap.emit("frame", {"ts": ts, "jpeg": face_jpeg()}, namespace="/capture", callback=True)
    assert ack["ok"] is True
    (observation,) = events(live, "observation")
    assert observation["client_ts"] is None
    json.loads(json.dumps(observation, allow_nan=False))  # what browsers parse: strict JSON


def test_a_batch_is_one_live_event_per_site_and_a_result_per_frame(app, tenant_a):
    """Frames analysed together reach /live as one ``observations`` list per site (one frame:
    ``observation``), and each camera still gets a ``result`` per frame."""
    from app.services.analysis import Frame
    from app.tasks.analyze import analyze_batch_and_publish

    hall, gate = tenant_a.site("Hall"), tenant_a.site("Gate")
    cam_hall, cam_gate = tenant_a.camera(hall["id"]), tenant_a.camera(gate["id"], "Door")
    live = live_client(app, tenant_a.token)
    cap = capture_client(app, cam_hall["capture_token"])
    live.get_received("/live"), cap.get_received("/capture")
    now, jpeg = time.time(), face_jpeg()
    frames = [Frame(tenant_a.id, hall["id"], cam_hall["id"], f"hall{i}", now + i * 0.1, jpeg) for i in range(3)]
    frames.insert(1, Frame(tenant_a.id, gate["id"], cam_gate["id"], "gate0", now + 0.05, jpeg))
    with app.app_context():
        analyze_batch_and_publish(frames)
    received = live.get_received("/live")
    assert [e["name"] for e in received] == ["observations", "observation"]
    assert [o["frame_id"] for o in received[0]["args"][0]] == ["hall0", "hall1", "hall2"]
    assert received[1]["args"][0]["frame_id"] == "gate0"
    assert [e["frame_id"] for e in events(cap, "result", "/capture")] == ["hall0", "hall1", "hall2"]


def test_a_client_timestamp_of_hundreds_of_digits_is_dropped_not_an_error():
    """A JSON integer of 400 digits reaches the handler as a Python int: float() of it raised
    OverflowError, and the connection closed without an answer."""
    from app.realtime.capture import client_timestamp

    assert client_timestamp(10**400) is None and client_timestamp(-(10**400)) is None
    assert client_timestamp(1_796_656_964_000) == 1_796_656_964_000.0
