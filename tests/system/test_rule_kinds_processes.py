"""Rule kinds in the distributed mode: a person rule's alert made by a real Celery worker reaches
the live room and a webhook receiver with the track it is about."""

from __future__ import annotations

import json
import time

import pytest

from tests.images import face_jpeg
from tests.processes import ApiClient, Camera, LiveListener
from tests.services.test_webhooks import Receiver

pytestmark = pytest.mark.process


def test_person_alert_through_a_real_worker_reaches_the_live_room_and_a_webhook(distributed):
    base, web, worker, _ = distributed
    a = ApiClient(base, "Person A")
    cam = a.camera()
    rule = a.call(
        "POST",
        "/api/v1/alert-rules",
        json={"camera_id": cam["id"], "kind": "person", "emotion": "joy", "threshold": 0.6, "duration_s": 2, "min_share": 0.8},
    )
    assert rule.status_code == 201, rule.text
    assert rule.json()["kind"] == "person"
    receiver = Receiver()
    a.call("POST", "/api/v1/webhooks", json={"url": receiver.url})
    alerts: list[dict] = []
    live = LiveListener(base, a.token)
    live.sio.on("alert", alerts.append, namespace="/live")
    capture = Camera(base, cam["capture_token"])
    try:
        # One smiling face at 5 frames/s: the window (2 s) plus the lateness bound (2 s) and some.
        end = time.monotonic() + 6
        while time.monotonic() < end and not alerts:
            assert capture.send(face_jpeg())["ok"] is True
            time.sleep(0.2)
        deadline = time.monotonic() + 5
        while not (alerts and receiver.requests) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        capture.close(), live.close()
        receiver.close()
    assert live.observations, worker.output()[-4000:]
    # Observation events carry each face's anonymous track and the people in view.
    tracks = {f["track_id"] for o in live.observations for f in o["faces"]}
    assert len(tracks) == 1 and all(isinstance(t, str) and t for t in tracks), live.observations[:2]
    assert all(o["people"] == 1 for o in live.observations)
    (track_id,) = tracks
    # The live room's alert names the track and the face's box, no identity.
    assert [x["status"] for x in alerts] == ["open"], alerts
    details = alerts[0]["details"]
    assert alerts[0]["rule_id"] == rule.json()["id"] and details["track_id"] == track_id
    last_box = live.observations[-1]["faces"][0]["box"]
    assert len(details["box"]) == 4 and abs(details["box"][0] - last_box[0]) <= 20
    # The webhook body carries the same details.
    assert receiver.requests, worker.output()[-4000:]
    event = json.loads(receiver.requests[0][1])
    assert event["event"] == "alert.open" and event["data"]["details"] == details
    assert "Traceback" not in web.output() + worker.output()
