"""Alert rules through the API, alerts from real frames, acknowledgement, no duplicates."""

from __future__ import annotations

import threading
import time

import redis

from app import create_app
from app.extensions import db, socketio
from app.models import Alert
from tests.conftest import REDIS_URL, _testing
from tests.images import face_jpeg

HAPPY = {"emotion": "joy", "threshold": 0.3, "duration_s": 2, "min_share": 0.6, "cooldown_s": 600}


def test_rules_crud_roles_and_tenants(tenant_a, tenant_b):
    site = tenant_a.site()
    cam = tenant_a.camera(site["id"])
    r = tenant_a.call(
        "POST", "/api/v1/alert-rules", json={"camera_id": cam["id"], "emotion": "distress", "threshold": 0.6, "duration_s": 20}
    )
    assert r.status_code == 201, r.get_json()
    rule = r.get_json()
    assert rule == {
        **rule,
        "site_id": site["id"],
        "min_share": 0.6,
        "min_faces": 1,
        "cooldown_s": 300,
        "severity": "warning",
        "enabled": True,
        "active_from": None,
    }
    path = f"/api/v1/alert-rules/{rule['id']}"
    for method in ("GET", "PATCH", "DELETE"):
        assert tenant_b.call(method, path, json={"threshold": 0.1}).status_code == 404
    assert tenant_b.call("POST", "/api/v1/alert-rules", json={**HAPPY, "camera_id": cam["id"]}).status_code == 400
    _, staff = tenant_a.user("staff")
    assert tenant_a.call("PATCH", path, token=staff, json={"threshold": 0.1}).status_code == 403
    assert tenant_a.call("POST", "/api/v1/alert-rules", token=staff, json={**HAPPY, "site_id": site["id"]}).status_code == 403
    assert (
        tenant_a.call("PATCH", path, json={"enabled": False, "active_from": "08:00", "active_to": "17:30"}).get_json()[
            "active_to"
        ]
        == "17:30"
    )
    for bad in (
        {"emotion": "rage"},
        {"threshold": 1.5},
        {"active_from": "25:00", "active_to": "26:00"},
        {"active_from": "08:00", "active_to": None},
        {"duration_s": "20"},
    ):
        assert tenant_a.call("PATCH", path, json=bad).status_code == 400, bad
    assert tenant_a.call("GET", path).get_json()["active_from"] == "08:00"
    assert tenant_a.call("DELETE", path).status_code == 204


def stream_happy_frames(app, camera: dict, seconds: float, until=None, at_most: float = 20.0) -> None:
    """Send a smiling face about 4 times a second for ``seconds``; with ``until``, go on until it
    returns true (at most ``at_most`` seconds): a loaded CI machine analyses frames more slowly, and
    a rule decides only ``LATENESS_S`` after its window."""
    cap = socketio.test_client(app, namespace="/capture", auth={"token": camera["capture_token"]})
    start = time.monotonic()
    while time.monotonic() < start + seconds or (until and time.monotonic() < start + at_most and not until()):
        ack = cap.emit("frame", {"ts": int(time.time() * 1000), "jpeg": face_jpeg()}, namespace="/capture", callback=True)
        assert ack["ok"] or ack["error"] == "rate_limited"
        time.sleep(0.22)


def test_frames_of_a_smiling_face_raise_an_alert_for_the_tenant_only(app, tenant_a, tenant_b):
    site = tenant_a.site()
    cam = tenant_a.camera(site["id"])
    rule = tenant_a.call("POST", "/api/v1/alert-rules", json={**HAPPY, "camera_id": cam["id"]}).get_json()
    live_a = socketio.test_client(app, namespace="/live", auth={"token": tenant_a.token})
    live_b = socketio.test_client(app, namespace="/live", auth={"token": tenant_b.token})
    stream_happy_frames(app, cam, 1.5)
    assert [e for e in live_a.get_received("/live") if e["name"] == "alert"] == []  # not before the window
    received: list = []

    def alert_seen() -> bool:
        received.extend(e for e in live_a.get_received("/live") if e["name"] == "alert")
        return bool(received)

    stream_happy_frames(app, cam, 4, until=alert_seen)
    alert_seen()
    alerts = [e["args"][0] for e in received]
    assert len(alerts) == 1, alerts
    alert = alerts[0]
    assert alert["rule_id"] == rule["id"] and alert["status"] == "open" and alert["camera_id"] == cam["id"]
    assert [e for e in live_b.get_received("/live") if e["name"] == "alert"] == []
    assert tenant_b.call("POST", f"/api/v1/alerts/{alert['id']}/ack").status_code == 404
    staff, staff_token = tenant_a.user("staff")
    acked = tenant_a.call("POST", f"/api/v1/alerts/{alert['id']}/ack", token=staff_token, json={"note": "checked"})
    assert acked.status_code == 200
    body = acked.get_json()
    assert body["status"] == "acknowledged" and body["acknowledged_by"] == staff["id"] and body["note"] == "checked"
    listed = tenant_a.call("GET", "/api/v1/alerts?status=acknowledged").get_json()["items"]
    assert [a["id"] for a in listed] == [alert["id"]]
    assert tenant_b.call("GET", "/api/v1/alerts").get_json()["items"] == []


def test_two_workers_on_one_stream_raise_one_alert(sqlite_template, tmp_path, pg_database):
    """Two analysis threads share the Redis state (atomic updates) and get interleaved frames."""
    redis.Redis.from_url(REDIS_URL).flushdb()
    # A replay of 6 s of frames from the past: a generous stale limit keeps them all.
    app = create_app({**_testing(), "SQLALCHEMY_DATABASE_URI": pg_database, "REDIS_URL": REDIS_URL, "STALE_FRAME_S": 600})
    client = app.test_client()
    from tests.conftest import Tenant, truncate_all

    try:
        tenant = Tenant(client, "Two Workers")
        site = tenant.site()
        cam = tenant.camera(site["id"])
        tenant.call("POST", "/api/v1/alert-rules", json={**HAPPY, "camera_id": cam["id"]})
        from app.services.analysis import process_frame

        start = time.time() - 60
        frames = [(f"f{i}", start + i * 0.2) for i in range(30)]
        jpeg = face_jpeg()

        def worker(batch):
            with app.app_context():
                for frame_id, ts in batch:
                    process_frame(tenant.id, site["id"], cam["id"], frame_id, ts, jpeg)

        threads = [threading.Thread(target=worker, args=(frames[k::2],)) for k in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with app.app_context():
            assert db.session.query(Alert).count() == 1
    finally:
        truncate_all(pg_database)
        redis.Redis.from_url(REDIS_URL).flushdb()


def test_state_updates_are_atomic_across_threads():
    """The mechanism behind 'no duplicate, none lost': concurrent read-modify-writes of one key
    in Redis never lose an update."""
    from app.infra.state import RedisStore

    store = RedisStore(REDIS_URL)
    store.redis.delete("emotiscan:atomic-test")

    def bump(data):
        value = (data or {"n": 0})["n"]
        time.sleep(0.001)  # widen the race window
        return {"n": value + 1}

    threads = [threading.Thread(target=lambda: [store.update_json("atomic-test", bump, 60) for _ in range(50)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.get_json("atomic-test") == {"n": 200}
    store.redis.delete("emotiscan:atomic-test")


def sign_in(client, email, password="secret-pass-1"):
    return client.post("/auth/login", data={"email": email, "password": password})


def test_rule_pages_presets_roles_and_history(client, tenant_a, tenant_b):
    site = tenant_a.site("Gate")
    cam = tenant_a.camera(site["id"], "Entrance tablet")
    sign_in(client, tenant_a.email)
    page = client.get("/admin/rules?preset=distress", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Distress at the entrance" in page and 'value="20"' in page
    r = client.post(
        "/admin/rules",
        data={
            "name": "Gate distress",
            "target": f"camera:{cam['id']}",
            "emotion": "distress",
            "threshold": "0.6",
            "duration_s": "20",
            "min_share": "0.6",
            "min_faces": "1",
            "cooldown_s": "300",
            "severity": "critical",
            "enabled": "y",
        },
    )
    assert r.status_code == 302
    rules = tenant_a.call("GET", "/api/v1/alert-rules").get_json()["items"]
    assert len(rules) == 1 and rules[0]["camera_id"] == cam["id"] and rules[0]["severity"] == "critical"
    bad = client.post(
        "/admin/rules",
        data={
            "target": f"camera:{cam['id']}",
            "emotion": "distress",
            "threshold": "3",
            "duration_s": "20",
            "min_share": "0.6",
            "min_faces": "1",
            "cooldown_s": "0",
            "severity": "info",
            "active_from": "8h",
        },
    )
    assert bad.status_code == 400
    history = client.get("/admin/alerts?status=open&period=week", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Aucune alerte" in history
    client.post("/auth/logout")
    _, _ = tenant_a.user("staff")
    staff = tenant_a.call("GET", "/api/v1/users").get_json()["items"][-1]
    sign_in(client, staff["email"], "secret-pass-2")
    assert client.get("/admin/rules").status_code == 200
    assert client.post("/admin/rules", data={"target": f"site:{site['id']}"}).status_code == 403
    assert client.get(f"/admin/rules/{rules[0]['id']}").status_code == 403
    client.post("/auth/logout")
    sign_in(client, tenant_b.email)
    assert client.get(f"/admin/rules/{rules[0]['id']}").status_code == 404
    assert "Gate distress" not in client.get("/admin/rules").get_data(as_text=True)


def test_simulator_replays_stored_observations_without_storing_alerts(app, tenant_a, tenant_b):
    from datetime import UTC, datetime, timedelta

    from app.models import Observation

    site = tenant_a.site()
    cam = tenant_a.camera(site["id"])
    happy = {"angry": 0.0, "disgust": 0.0, "fear": 0.0, "happy": 0.9, "sad": 0.0, "surprise": 0.05, "neutral": 0.05}
    calm = {**happy, "happy": 0.1, "neutral": 0.85}
    start = datetime.now(UTC) - timedelta(minutes=30)
    with app.app_context():
        for i in range(240):  # 2 minutes at 2 frames/s: 1 min calm, then 1 min smiling
            scores = happy if i >= 120 else calm
            db.session.add(
                Observation(
                    tenant_id=tenant_a.id,
                    site_id=site["id"],
                    camera_id=cam["id"],
                    ts=start + timedelta(seconds=i / 2),
                    model_version="t",
                    face_count=1,
                    faces=[{"box": [0, 0, 50, 50], "scores": scores, "emotion": "happy", "confidence": 0.9}],
                )
            )
        db.session.commit()
    body = {"camera_id": cam["id"], "emotion": "joy", "threshold": 0.5, "duration_s": 10, "hours": 1}
    r = tenant_a.call("POST", "/api/v1/alert-rules/simulate", json=body)
    assert r.status_code == 200, r.get_json()
    events = r.get_json()["items"]
    assert [e["event"] for e in events] == ["started"]
    fired = datetime.fromisoformat(events[0]["at"].replace("Z", "+00:00"))
    # 60 s calm, then 60% of the 10-s window smiling (min_share): about 66 s in.
    assert timedelta(seconds=65) <= fired - start <= timedelta(seconds=68)
    by_site = tenant_a.call("POST", "/api/v1/alert-rules/simulate", json={**body, "camera_id": None, "site_id": site["id"]})
    assert len(by_site.get_json()["items"]) == 1
    assert tenant_a.call("GET", "/api/v1/alerts").get_json()["items"] == []  # nothing stored
    assert tenant_b.call("POST", "/api/v1/alert-rules/simulate", json=body).status_code == 400


def rule_form(camera_id: int, **fields: str) -> dict:
    """The rule page's form for a joy rule on one camera, as a browser sends it, with ``fields`` changed."""
    form = {
        "name": "Rule",
        "target": f"camera:{camera_id}",
        "emotion": "joy",
        "threshold": "0.6",
        "duration_s": "10",
        "min_share": "0.6",
        "min_faces": "1",
        "cooldown_s": "300",
        "severity": "info",
        "enabled": "y",
    }
    return {**form, **fields}


def test_rule_page_simulates_before_saving(client, tenant_a):
    site = tenant_a.site("Gate")
    cam = tenant_a.camera(site["id"])
    sign_in(client, tenant_a.email)
    form = {**rule_form(cam["id"], name="Try", threshold="0.5"), "simulate": "1"}
    page = client.post("/admin/rules", data=form, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "It would not have fired." in page
    assert tenant_a.call("GET", "/api/v1/alert-rules").get_json()["items"] == []  # not saved


def test_audit_trail_records_sign_ins_roles_rules_and_acks(app, client, tenant_a, tenant_b):
    site = tenant_a.site()
    cam = tenant_a.camera(site["id"])
    user, _ = tenant_a.user("staff")
    tenant_a.call("PATCH", f"/api/v1/users/{user['id']}", json={"role": "manager"})
    rule = tenant_a.call("POST", "/api/v1/alert-rules", json={**HAPPY, "camera_id": cam["id"]}).get_json()
    tenant_a.call("PATCH", f"/api/v1/alert-rules/{rule['id']}", json={"threshold": 0.4})
    client.post("/auth/login", data={"email": tenant_a.email, "password": "wrong-password"})
    entries = tenant_a.call("GET", "/api/v1/audit?limit=200").get_json()["items"]
    actions = [e["action"] for e in entries]
    for expected in ("user.created", "sign_in", "user.role_changed", "rule.created", "rule.changed", "sign_in_failed"):
        assert expected in actions, (expected, actions)
    role_change = next(e for e in entries if e["action"] == "user.role_changed")
    assert role_change["details"] == {"email": user["email"], "old": "staff", "new": "manager"}
    assert role_change["actor_id"] == tenant_a.admin_id
    assert "user.created" not in [e["action"] for e in tenant_b.call("GET", "/api/v1/audit").get_json()["items"]]
    _, manager = tenant_a.user("manager")
    assert tenant_a.call("GET", "/api/v1/audit", token=manager).status_code == 403


def test_alert_e_mail_goes_to_users_who_asked_for_it(app, tenant_a, smtp):
    import email
    import email.policy

    site = tenant_a.site("Gate")
    cam = tenant_a.camera(site["id"], "Entrance tablet")
    tenant_a.call("PATCH", "/api/v1/me", json={"notify_alerts": True, "locale": "fr"})
    tenant_a.user("staff")  # did not ask: gets nothing
    tenant_a.call("POST", "/api/v1/alert-rules", json={**HAPPY, "camera_id": cam["id"]})
    stream_happy_frames(app, cam, 4, until=lambda: bool(smtp.messages))
    assert tenant_a.call("GET", "/api/v1/alerts").get_json()["items"], "no alert was raised"
    smtp.wait(1, timeout=10)
    time.sleep(0.5)
    assert [to for to, _ in smtp.messages] == [tenant_a.email]
    message = email.message_from_string(smtp.messages[0][1], policy=email.policy.default)
    assert "Entrance tablet" in message["Subject"] and "joie" in message["Subject"]


def test_unacknowledged_alert_escalates_to_managers(app, tenant_a, smtp):
    from datetime import UTC, datetime, timedelta

    from app.tasks.periodic import run_periodic

    site = tenant_a.site()
    cam = tenant_a.camera(site["id"])
    manager, _ = tenant_a.user("manager")
    tenant_a.user("staff")
    rule = tenant_a.call("POST", "/api/v1/alert-rules", json={**HAPPY, "camera_id": cam["id"], "escalate_after_s": 60})
    assert rule.status_code == 201 and rule.get_json()["escalate_after_s"] == 60
    with app.app_context():
        fresh, stale = (
            Alert(
                tenant_id=tenant_a.id,
                rule_id=rule.get_json()["id"],
                site_id=site["id"],
                camera_id=cam["id"],
                emotion="joy",
                value=0.8,
                status="open",
                started_at=datetime.now(UTC) - timedelta(seconds=age),
            )
            for age in (10, 120)
        )
        db.session.add_all([fresh, stale])
        db.session.commit()
        stale_id = stale.id
        live = socketio.test_client(app, namespace="/live", auth={"token": tenant_a.token})
        assert run_periodic()["escalated"] == 1
        assert run_periodic()["escalated"] == 0  # once only
    events = [e["args"][0] for e in live.get_received("/live") if e["name"] == "alert"]
    assert [(e["id"], bool(e["escalated_at"])) for e in events] == [(stale_id, True)]
    smtp.wait(2)
    assert sorted(to for to, _ in smtp.messages) == sorted([tenant_a.email, manager["email"]])


def test_camera_that_stops_sending_during_active_hours_raises_and_resolves_an_alert(app, tenant_a):
    from datetime import UTC, datetime, timedelta

    from app.models import Camera
    from app.tasks.periodic import run_periodic

    site = tenant_a.site()
    watched, idle = tenant_a.camera(site["id"], "Watched"), tenant_a.camera(site["id"], "Idle")
    tenant_a.call("POST", "/api/v1/alert-rules", json={**HAPPY, "camera_id": watched["id"]})
    live = socketio.test_client(app, namespace="/live", auth={"token": tenant_a.token})
    with app.app_context():
        for cam_id in (watched["id"], idle["id"]):
            db.session.get(Camera, cam_id).last_seen_at = datetime.now(UTC) - timedelta(minutes=10)
        db.session.commit()
        assert run_periodic()["cameras_offline"] == 1  # only the camera a rule watches
        assert run_periodic()["cameras_offline"] == 0  # once
        db.session.get(Camera, watched["id"]).last_seen_at = datetime.now(UTC)
        db.session.commit()
        assert run_periodic()["cameras_back"] == 1
    events = [e["args"][0] for e in live.get_received("/live") if e["name"] == "alert"]
    assert [(e["camera_id"], e["emotion"], e["status"]) for e in events] == [
        (watched["id"], "camera_offline", "open"),
        (watched["id"], "camera_offline", "resolved"),
    ]
    assert tenant_a.call("GET", "/api/v1/alerts?status=resolved").get_json()["items"][0]["rule_id"] is None


def test_an_acknowledgement_reaches_every_screen(app, tenant_a):
    from datetime import UTC, datetime

    site = tenant_a.site()
    cam = tenant_a.camera(site["id"])
    with app.app_context():
        alert = Alert(
            tenant_id=tenant_a.id,
            site_id=site["id"],
            camera_id=cam["id"],
            emotion="joy",
            value=0.8,
            status="open",
            started_at=datetime.now(UTC),
        )
        db.session.add(alert)
        db.session.commit()
        alert_id = alert.id
    _, staff_token = tenant_a.user("staff")
    wall, desk = (socketio.test_client(app, namespace="/live", auth={"token": t}) for t in (tenant_a.token, staff_token))
    r = tenant_a.call("POST", f"/api/v1/alerts/{alert_id}/ack", json={"note": "seen"})
    assert r.status_code == 200
    for screen in (wall, desk):
        events = [e["args"][0] for e in screen.get_received("/live") if e["name"] == "alert"]
        assert [(e["id"], e["status"], e["note"]) for e in events] == [(alert_id, "acknowledged", "seen")]


def test_a_second_acknowledgement_keeps_the_first_and_adds_its_note(app, tenant_a):
    """Two people tap the same alert on two tablets: both succeed, the first one's name and note stay,
    a new note is added under it, and screens hear only of what changed."""
    from datetime import UTC, datetime

    site = tenant_a.site()
    cam = tenant_a.camera(site["id"])
    with app.app_context():
        alert = Alert(tenant_id=tenant_a.id, site_id=site["id"], camera_id=cam["id"], emotion="fear", value=0.8, status="open")
        alert.started_at = datetime.now(UTC)
        db.session.add(alert)
        db.session.commit()
        alert_id = alert.id
    staff, staff_token = tenant_a.user("staff")
    wall = socketio.test_client(app, namespace="/live", auth={"token": tenant_a.token})
    first = tenant_a.call("POST", f"/api/v1/alerts/{alert_id}/ack", json={"note": "I am going"}).get_json()
    again = tenant_a.call("POST", f"/api/v1/alerts/{alert_id}/ack", json={"note": "on my way too"}, token=staff_token)
    assert again.status_code == 200
    body = again.get_json()
    assert body["acknowledged_by"] == first["acknowledged_by"] != staff["id"]
    assert body["acknowledged_at"] == first["acknowledged_at"] and body["note"] == "I am going\non my way too"
    for repeat in ({"note": "on my way too"}, {}, {"note": "  "}):  # nothing new: nothing changes or goes out
        same = tenant_a.call("POST", f"/api/v1/alerts/{alert_id}/ack", json=repeat, token=staff_token).get_json()
        assert same == body
    notes = [e["args"][0]["note"] for e in wall.get_received("/live") if e["name"] == "alert"]
    assert notes == ["I am going", "I am going\non my way too"]
    trail = tenant_a.call("GET", "/api/v1/audit").get_json()["items"]
    assert [e["details"].get("note") for e in trail if e["action"] == "alert.acknowledged"] == ["I am going", "on my way too"]
