"""Rule kinds through the API: each kind saved and read back, its fields validated with field errors,
rules kept per tenant, a person alert storing its track in ``details`` (API, webhooks, /live), the
simulator for every kind and the baseline levels cached instead of read on every frame."""

from datetime import UTC, datetime, timedelta

import pytest

HAPPY = {"angry": 0.01, "disgust": 0.01, "fear": 0.01, "happy": 0.9, "sad": 0.02, "surprise": 0.02, "neutral": 0.03}
NEUTRAL = {"angry": 0.01, "disgust": 0.01, "fear": 0.01, "happy": 0.05, "sad": 0.02, "surprise": 0.02, "neutral": 0.88}


def _rule(tenant, camera_id: int, **fields) -> dict:
    body = {"camera_id": camera_id, "emotion": "joy", "threshold": 0.6, "duration_s": 5, "min_share": 0.8, **fields}
    return tenant.call("POST", "/api/v1/alert-rules", json=body)


@pytest.fixture
def camera(tenant_a) -> dict:
    return tenant_a.camera(tenant_a.site()["id"])


def test_a_rule_without_kind_is_a_share_rule_as_before(tenant_a, camera):
    r = _rule(tenant_a, camera["id"])
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["kind"] == "share" and "min_weeks" not in body
    assert tenant_a.call("GET", f"/api/v1/alert-rules/{body['id']}").get_json() == body


@pytest.mark.parametrize(
    ("kind", "extra", "expected"),
    [
        ("share", {}, {}),
        ("person", {}, {}),
        ("rise", {"threshold": 0.2}, {}),
        ("baseline", {"min_weeks": 5}, {"min_weeks": 5}),
    ],
)
def test_each_kind_is_created_and_read_back(tenant_a, camera, kind, extra, expected):
    r = _rule(tenant_a, camera["id"], kind=kind, **extra)
    assert r.status_code == 201, r.get_json()
    rule = tenant_a.call("GET", f"/api/v1/alert-rules/{r.get_json()['id']}").get_json()
    assert rule["kind"] == kind
    assert {k: rule[k] for k in expected} == expected
    listed = tenant_a.call("GET", "/api/v1/alert-rules").get_json()["items"]
    assert [x["kind"] for x in listed] == [kind]


def test_a_baseline_rule_defaults_its_weeks_and_a_patch_changes_kind(tenant_a, camera):
    rule = _rule(tenant_a, camera["id"], kind="baseline").get_json()
    assert rule["min_weeks"] == 3
    path = f"/api/v1/alert-rules/{rule['id']}"
    changed = tenant_a.call("PATCH", path, json={"min_weeks": 8}).get_json()
    assert changed["kind"] == "baseline" and changed["min_weeks"] == 8
    # a PATCH without kind keeps it; a PATCH with another kind drops the old kind's fields
    assert tenant_a.call("PATCH", path, json={"name": "Gate"}).get_json()["min_weeks"] == 8
    person = tenant_a.call("PATCH", path, json={"kind": "person"}).get_json()
    assert person["kind"] == "person" and "min_weeks" not in person


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"kind": "loudest"}, {"kind": "invalid"}),
        ({"kind": 3}, {"kind": "wrong_type"}),
        ({"kind": "baseline", "min_weeks": 0}, {"min_weeks": "out_of_range"}),
        ({"kind": "baseline", "min_weeks": 53}, {"min_weeks": "out_of_range"}),
        ({"kind": "baseline", "min_weeks": 2.5}, {"min_weeks": "wrong_type"}),
        ({"kind": "person", "threshold": 1.5}, {"threshold": "out_of_range"}),
        ({"kind": "rise", "duration_s": 0}, {"duration_s": "out_of_range"}),
    ],
)
def test_bad_kind_fields_are_400_field_errors(tenant_a, camera, fields, errors):
    r = _rule(tenant_a, camera["id"], **fields)
    assert r.status_code == 400, r.get_json()
    error = r.get_json()["error"]
    assert error["code"] == "validation_error" and error["fields"] == errors
    assert tenant_a.call("GET", "/api/v1/alert-rules").get_json()["items"] == []


def test_a_bad_kind_in_a_patch_changes_nothing(tenant_a, camera):
    rule = _rule(tenant_a, camera["id"], kind="baseline", min_weeks=4).get_json()
    path = f"/api/v1/alert-rules/{rule['id']}"
    r = tenant_a.call("PATCH", path, json={"kind": "nope", "name": "x"})
    assert r.status_code == 400 and r.get_json()["error"]["fields"] == {"kind": "invalid"}
    assert tenant_a.call("GET", path).get_json() == rule


def test_rules_of_every_kind_stay_within_their_tenant(tenant_a, tenant_b, camera):
    rule = _rule(tenant_a, camera["id"], kind="person").get_json()
    path = f"/api/v1/alert-rules/{rule['id']}"
    for method, body in (("GET", None), ("PATCH", {"kind": "rise"}), ("DELETE", None)):
        assert tenant_b.call(method, path, json=body).status_code == 404, method
    assert tenant_b.call("GET", "/api/v1/alert-rules").get_json()["items"] == []
    # nor can tenant B aim a rule or the simulator at tenant A's camera
    assert _rule(tenant_b, camera["id"], kind="person").status_code == 400
    sim = {"camera_id": camera["id"], "kind": "person", "emotion": "joy", "threshold": 0.6, "duration_s": 5}
    assert tenant_b.call("POST", "/api/v1/alert-rules/simulate", json=sim).status_code == 400
    assert tenant_a.call("GET", path).get_json()["kind"] == "person"


def _feed(app, tenant, camera: dict, frames: list[list[dict]], start: datetime, record: bool = False) -> list[dict]:
    """Frames at 1 fps through alerts.evaluate_observation (the path of every observation)."""
    from app.services import alerts, observations

    changed = []
    with app.app_context():
        for k, faces in enumerate(frames):
            ts = start + timedelta(seconds=k)
            if record:
                assert observations.record(tenant.id, camera["site_id"], camera["id"], ts, "test", faces, 5.0)
            for alert in alerts.evaluate_observation(tenant.id, camera["site_id"], camera["id"], ts.timestamp(), faces):
                changed.append(alerts.alert_dict(alert))
    return changed


def _face(track: str, scores: dict, x: int) -> dict:
    return {
        "box": [x, 10, 60, 60],
        "emotion": max(scores, key=scores.get),
        "confidence": 0.8,
        "scores": scores,
        "track_id": track,
    }


def test_a_person_alert_stores_its_track_and_box_and_the_api_shows_them(app, tenant_a, camera):
    rule = _rule(tenant_a, camera["id"], kind="person").get_json()
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=2)
    frames = [[_face("a1b2c3", HAPPY, 10 + k), _face("ffee01", NEUTRAL, 200)] for k in range(10)]
    changed = _feed(app, tenant_a, camera, frames, start)
    assert [a["status"] for a in changed] == ["open"]
    assert changed[0]["details"]["track_id"] == "a1b2c3"
    assert changed[0]["details"]["box"][1:] == [10, 60, 60]
    listed = tenant_a.call("GET", "/api/v1/alerts").get_json()["items"]
    assert [(a["rule_id"], a["details"]["track_id"]) for a in listed] == [(rule["id"], "a1b2c3")]


def test_faces_taking_turns_fire_share_but_not_person(app, tenant_a, camera):
    share = _rule(tenant_a, camera["id"]).get_json()
    _rule(tenant_a, camera["id"], kind="person")
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=2)
    # two people side by side; every 2 s the other one smiles: a smile is always in view
    frames = [
        [_face("t1", HAPPY if (k // 2) % 2 == 0 else NEUTRAL, 10), _face("t2", NEUTRAL if (k // 2) % 2 == 0 else HAPPY, 200)]
        for k in range(12)
    ]
    changed = _feed(app, tenant_a, camera, frames, start)
    assert [(a["rule_id"], a["status"], a["details"]) for a in changed] == [(share["id"], "open", None)]


def test_the_simulator_replays_every_kind(app, tenant_a, camera):
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    frames = [[_face("calm", NEUTRAL, 10)]] * 12 + [[_face("glad", HAPPY, 10)]] * 12
    _feed(app, tenant_a, camera, frames, start, record=True)
    base = {"camera_id": camera["id"], "emotion": "joy", "threshold": 0.6, "duration_s": 5, "min_share": 0.8}
    started = {}
    for kind, extra in (("share", {}), ("person", {}), ("rise", {"threshold": 0.3}), ("baseline", {"min_weeks": 1})):
        r = tenant_a.call("POST", "/api/v1/alert-rules/simulate", json={**base, "kind": kind, **extra})
        assert r.status_code == 200, r.get_json()
        started[kind] = [e for e in r.get_json()["items"] if e["event"] == "started"]
    assert len(started["share"]) == 1 and "details" not in started["share"][0]
    assert [e["details"]["track_id"] for e in started["person"]] == ["glad"]
    assert len(started["rise"]) == 1 and started["rise"][0]["details"]["rise"] >= 0.3
    assert started["baseline"] == []  # no past weeks of rollups: silent
    bad = tenant_a.call("POST", "/api/v1/alert-rules/simulate", json={**base, "kind": "baseline", "min_weeks": 99})
    assert bad.status_code == 400 and bad.get_json()["error"]["fields"] == {"min_weeks": "out_of_range"}


def test_a_baseline_rule_learns_its_levels_once_not_on_every_frame(app, tenant_a, camera, monkeypatch):
    from app.services.alerts import evaluation

    _rule(tenant_a, camera["id"], kind="baseline")
    calls = []
    real = evaluation.rule_context
    monkeypatch.setattr(evaluation, "rule_context", lambda *a: calls.append(a) or real(*a))
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=2)
    _feed(app, tenant_a, camera, [[_face("x", HAPPY, 10)]] * 6, start)
    assert len(calls) == 1
    # changing the rule's parameters learns again
    rule_id = tenant_a.call("GET", "/api/v1/alert-rules").get_json()["items"][0]["id"]
    tenant_a.call("PATCH", f"/api/v1/alert-rules/{rule_id}", json={"min_weeks": 6})
    _feed(app, tenant_a, camera, [[_face("x", HAPPY, 10)]] * 2, start + timedelta(seconds=6))
    assert len(calls) == 2


def test_the_document_states_each_kind(client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    for name in ("RuleIn", "Rule"):
        assert schemas[name]["discriminator"] == {"propertyName": "kind"}
        branches = {b["properties"]["kind"]["const"]: b for b in schemas[name]["oneOf"]}
        assert set(branches) == {"share", "person", "rise", "baseline"}
        assert branches["baseline"]["properties"]["min_weeks"]["minimum"] == 1
    assert "details" in schemas["Alert"]["properties"]


def test_a_person_rule_fires_through_the_capture_socket_with_its_track(app, tenant_a, camera):
    """Real frames through /capture (detector, tracker, analysis): the /live alert names the track."""
    from app.extensions import socketio
    from tests.services.test_alerts import stream_happy_frames

    body = {"camera_id": camera["id"], "kind": "person", "emotion": "joy", "threshold": 0.3, "duration_s": 2}
    rule = tenant_a.call("POST", "/api/v1/alert-rules", json={**body, "min_share": 0.6, "cooldown_s": 600}).get_json()
    live = socketio.test_client(app, namespace="/live", auth={"token": tenant_a.token})
    received: list = []

    def alert_seen() -> bool:
        received.extend(e["args"][0] for e in live.get_received("/live") if e["name"] == "alert")
        return bool(received)

    stream_happy_frames(app, camera, 2.5, until=alert_seen)
    alert_seen()
    assert [(a["rule_id"], a["status"]) for a in received] == [(rule["id"], "open")]
    details = received[0]["details"]
    assert isinstance(details["track_id"], str) and details["track_id"]
    assert len(details["box"]) == 4 and all(isinstance(v, int | float) for v in details["box"])
    assert set(details) == {"track_id", "box"}  # numbers and an opaque id, nothing else
    stored = tenant_a.call("GET", "/api/v1/alerts").get_json()["items"]
    assert stored[0]["details"] == details
