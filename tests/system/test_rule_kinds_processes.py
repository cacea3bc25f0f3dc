"""Rule kinds end to end in both run modes: a person rule's alert made by a real Celery worker
reaches the live room and a webhook receiver with the track it is about; rise and baseline rules
(the baseline's past weeks seeded as rollups in the database) alert the live room and a webhook
with their details, and their simulation agrees, through a real worker and in `make run`."""

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


# deepface_img32 is classified neutral (happy 0.03), deepface_img1 happy (0.93): tests/services/test_tracks.py
NEUTRAL_PHOTO, HAPPY_PHOTO = "deepface_img32.jpg", "deepface_img1.jpg"
USUAL_JOY = 0.05  # the camera's usual joy at this weekday and hour, in the history seeded below


def seed_past_weeks(db_url: str, tenant_id: int, site_id: int, camera_id: int, weeks: int, level: float) -> None:
    """15-minute rollups of this camera around this time of day (an hour either side, so that the
    site's hour is covered across a daylight-saving change) in each of the past ``weeks`` weeks,
    with a mean joy of ``level``: the history a baseline rule learns its usual level from."""
    from sqlalchemy import create_engine

    import app.models  # noqa: F401 - the tables
    from app.extensions import db

    table = db.metadata.tables["observation_rollups"]
    now, rows = time.time(), []
    for week in range(1, weeks + 1):
        centre = int(now - week * 7 * 86400) // 900
        for slot in range(centre - 4, centre + 5):
            ids = {"camera_id": camera_id, "tenant_id": tenant_id, "site_id": site_id, "slot": slot}
            rows.append({**ids, "observations": 100, "faces": 100, "classified": 100, "happy": 100 * level})
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(table.insert(), rows)
    engine.dispose()


def opened(receiver: Receiver) -> list[dict]:
    return [e for e in (json.loads(body) for _, body in list(receiver.requests)) if e["event"] == "alert.open"]


def rise_and_baseline_end_to_end(base: str, db_url: str, *procs) -> None:
    """A rise rule and a baseline rule (two past weeks of history at a usual joy of 5 %) on one
    camera, created through the API; the camera shows a neutral face, then a smiling one: each
    rule's alert reaches the live room and a webhook with its kind's details, and the simulator
    replays the same on the stored observations. A baseline rule wanting three weeks is silent."""
    a = ApiClient(base, "Rise Baseline")
    cam = a.camera()
    seed_past_weeks(db_url, a.tenant_id, cam["site_id"], cam["id"], weeks=2, level=USUAL_JOY)
    bodies = {
        "rise": {"kind": "rise", "emotion": "joy", "threshold": 0.5, "duration_s": 2},
        "baseline": {"kind": "baseline", "emotion": "joy", "threshold": 0.5, "duration_s": 2, "min_weeks": 2},
    }
    rules = {}
    for kind, body in bodies.items():
        r = a.call("POST", "/api/v1/alert-rules", json={"camera_id": cam["id"], **body})
        assert r.status_code == 201, r.text
        assert r.json()["kind"] == kind and r.json().get("min_weeks") == body.get("min_weeks"), r.json()
        rules[r.json()["id"]] = kind
    # The same baseline rule wanting a third week of history stays silent.
    r = a.call("POST", "/api/v1/alert-rules", json={"camera_id": cam["id"], **bodies["baseline"], "min_weeks": 3})
    assert r.status_code == 201, r.text
    receiver = Receiver()
    assert a.call("POST", "/api/v1/webhooks", json={"url": receiver.url}).status_code == 201
    alerts: list[dict] = []
    live = LiveListener(base, a.token)
    live.sio.on("alert", alerts.append, namespace="/live")
    capture = Camera(base, cam["capture_token"])
    try:
        # At 5 frames/s: 2.4 s of a neutral face (the rise's first window), then a smiling one
        # until both alerts are in (the second window, the lateness bound and some).
        begin, i = time.monotonic(), 0
        while time.monotonic() < begin + 15 and len({x["rule_id"] for x in alerts}) < 2:
            photo = NEUTRAL_PHOTO if time.monotonic() < begin + 2.4 else HAPPY_PHOTO
            assert capture.send(face_jpeg(photo))["ok"] is True
            i += 1
            time.sleep(max(0.0, begin + i * 0.2 - time.monotonic()))
        deadline = time.monotonic() + 10
        while len(opened(receiver)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        capture.close(), live.close()
        receiver.close()
    logs = "\n".join(p.output()[-3000:] for p in procs)
    assert {x["rule_id"] for x in alerts if x["status"] == "open"} == set(rules), (alerts, logs)
    by_kind = {rules[x["rule_id"]]: x for x in alerts if x["status"] == "open"}
    rise, usual = by_kind["rise"]["details"], by_kind["baseline"]["details"]
    assert set(rise) == {"previous_mean", "rise"} and rise["previous_mean"] < 0.2 and rise["rise"] >= 0.5, rise
    assert set(usual) == {"usual_level", "excess"} and usual["usual_level"] == USUAL_JOY and usual["excess"] >= 0.5, usual
    # The webhook bodies carry the same details (a rise's alert may already be resolved: the
    # level stays high, it rises no more).
    events = opened(receiver)
    assert len(events) == 2, (receiver.requests, logs)
    assert {rules[e["data"]["rule_id"]]: e["data"]["details"] for e in events} == {"rise": rise, "baseline": usual}
    # The simulator replays the stored observations of the last hour to the same alerts.
    for kind, body in bodies.items():
        r = a.call("POST", "/api/v1/alert-rules/simulate", json={"camera_id": cam["id"], "hours": 1, **body})
        assert r.status_code == 200, r.text
        started = [e for e in r.json()["items"] if e["event"] == "started"]
        assert len(started) == 1 and set(started[0]["details"]) == set(by_kind[kind]["details"]), (kind, r.json())
    for p in procs:
        assert "Traceback" not in p.output()


def test_rise_and_baseline_alerts_through_a_real_worker_reach_the_live_room_and_a_webhook(distributed, pg_database):
    base, web, worker, _ = distributed
    rise_and_baseline_end_to_end(base, pg_database, web, worker)


def test_rise_and_baseline_alerts_in_the_embedded_mode_reach_the_live_room_and_a_webhook(embedded, tmp_path):
    base, web = embedded
    rise_and_baseline_end_to_end(base, f"sqlite:///{tmp_path / 'instance' / 'emotiscan.db'}", web)
