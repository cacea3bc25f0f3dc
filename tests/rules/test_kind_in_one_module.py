"""A rule kind is one module: a kind registered here, in the test, with one parameter of its own and
a context hook, appears in the admin form, is accepted and validated by the API, is stated in the
OpenAPI document and has its hook called by the evaluation, without any other change to app/."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from app.rules.kinds import KINDS, Param, register
from app.rules.kinds.share import Share

HAPPY = {"angry": 0.01, "disgust": 0.01, "fear": 0.01, "happy": 0.9, "sad": 0.02, "surprise": 0.02, "neutral": 0.03}


class Calm(Share):
    """A share rule with a context (what the tests need: a parameter and a hook)."""

    name = "calm_test"
    label = "Calm (test kind)"
    help = "Fires like a share rule; only for this test."
    threshold_label = "Calm score above (0 to 1)"
    uses = ("min_share",)
    params = (Param("quiet_s", 1, 600, 30, integer=True, label="Quiet seconds first", doc="quiet seconds first"),)

    def __init__(self):
        self.calls: list[tuple] = []

    def context(self, rule, history, now: float) -> dict:
        self.calls.append((rule.id, history.camera_id, history.timezone, (rule.params or {}).get("quiet_s")))
        return {"quiet": True}


@pytest.fixture
def calm():
    kind = register(Calm())
    yield kind
    del KINDS[kind.name]


def test_a_kind_registered_in_one_module_is_in_the_form_the_api_the_document_and_the_evaluation(app, client, tenant_a, calm):
    camera = tenant_a.camera(tenant_a.site()["id"])
    body = {"camera_id": camera["id"], "emotion": "joy", "threshold": 0.6, "duration_s": 5, "min_share": 0.8, "kind": "calm_test"}

    # the API: its own field, with its default, bounds and field errors
    created = tenant_a.call("POST", "/api/v1/alert-rules", json={**body, "quiet_s": 45})
    assert created.status_code == 201, created.get_json()
    rule = created.get_json()
    assert rule["kind"] == "calm_test" and rule["quiet_s"] == 45 and "min_weeks" not in rule
    default = tenant_a.call("POST", "/api/v1/alert-rules", json=body).get_json()
    assert default["quiet_s"] == 30
    for value, reason in ((0, "out_of_range"), (601, "out_of_range"), (2.5, "wrong_type"), ("9", "wrong_type")):
        r = tenant_a.call("POST", "/api/v1/alert-rules", json={**body, "quiet_s": value})
        assert r.status_code == 400 and r.get_json()["error"]["fields"] == {"quiet_s": reason}, (value, r.get_json())
    patched = tenant_a.call("PATCH", f"/api/v1/alert-rules/{rule['id']}", json={"quiet_s": 60}).get_json()
    assert patched["quiet_s"] == 60
    unknown = tenant_a.call("POST", "/api/v1/alert-rules", json={**body, "kind": "nope"})
    assert unknown.get_json()["error"]["fields"] == {"kind": "invalid"}
    assert "'calm_test'" in unknown.get_json()["error"]["message"]

    # the OpenAPI document: the kind, its branch and its flat field with bounds
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert "calm_test" in schemas["RuleIn"]["properties"]["kind"]["enum"]
    assert schemas["RuleIn"]["properties"]["quiet_s"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 600,
        "description": "calm_test: quiet seconds first (default 30)",
    }
    assert schemas["Rule"]["properties"]["quiet_s"]["description"] == "calm_test rules only"
    branches = {b["properties"]["kind"]["const"]: b for b in schemas["RuleIn"]["oneOf"]}
    assert branches["calm_test"]["properties"]["quiet_s"]["maximum"] == 600

    # the admin form: the kind in the select with its help and score label, its field shown for it only
    client.post("/auth/login", data={"email": tenant_a.email, "password": "secret-pass-1"})
    page = client.get(f"/admin/rules/{rule['id']}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert re.search(r'<option selected value="calm_test">Calm \(test kind\)</option>', page), page
    assert "Fires like a share rule; only for this test." in page
    assert 'data-kinds="calm_test">Calm score above (0 to 1)</label>' in page
    field = re.search(r'<div data-kinds="calm_test">(.*?)</div>\s*</div>', page, re.S)
    assert field and "Quiet seconds first" in field[1] and 'name="quiet_s"' in field[1] and 'value="60"' in field[1]
    shown_for = {m[1]: set(m[0].split()) for m in re.findall(r'<div data-kinds="([^"]*)">.*?name="(\w+)"', page, re.S)}
    assert shown_for["min_share"] == {"share", "person", "calm_test"} and shown_for["min_faces"] == {"share"}  # ``uses``
    assert shown_for["quiet_s"] == {"calm_test"} and shown_for["min_weeks"] == {"baseline"}
    saved = client.post(
        f"/admin/rules/{rule['id']}",
        data={
            "target": f"camera:{camera['id']}",
            "emotion": "joy",
            "kind": "calm_test",
            "threshold": "0.6",
            "duration_s": "5",
            "min_share": "0.8",
            "min_faces": "1",
            "quiet_s": "90",
            "min_weeks": "3",
            "cooldown_s": "300",
            "severity": "warning",
            "enabled": "y",
        },
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)
    assert tenant_a.call("GET", f"/api/v1/alert-rules/{rule['id']}").get_json()["quiet_s"] == 90

    # the evaluation asks the kind for its context (once, then cached)
    from app.services import alerts

    start = datetime.now(UTC) - timedelta(minutes=1)
    face = {"box": [10, 10, 60, 60], "emotion": "happy", "confidence": 0.8, "scores": HAPPY, "track_id": "t1"}
    with app.app_context():
        for k in range(3):
            alerts.evaluate_observation(
                tenant_a.id, camera["site_id"], camera["id"], (start + timedelta(seconds=k)).timestamp(), [face]
            )
    assert (rule["id"], camera["id"], "Europe/Paris", 90) in calm.calls
    assert len([c for c in calm.calls if c[0] == rule["id"]]) == 1
