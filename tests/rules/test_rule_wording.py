"""Each rule kind says what it watches in its own terms: the rules list, the simulator's lines and
the alert e-mail (a rise or an unusual level is not "above the rule's threshold")."""

from __future__ import annotations

import email
import email.policy
import html
import re
from datetime import UTC, datetime, timedelta

import pytest

from app.rules import RuleSpec
from app.rules.kinds import KINDS

RULES = {
    "share": {"threshold": 0.6, "duration_s": 20, "min_share": 0.7},
    "person": {"threshold": 0.55, "duration_s": 15, "min_share": 0.8},
    "rise": {"threshold": 0.3, "duration_s": 30},
    "baseline": {"threshold": 0.25, "duration_s": 60, "min_weeks": 4},
}
LIST_EN = {
    "share": "joy: any face above 0.60 in 70% of the frames of 20 s",
    "person": "joy: one person above 0.55 for 15 s (80% of their frames)",
    "rise": "joy: the camera's mean rises by 0.30 or more between two 30 s windows",
    "baseline": "joy: 0.25 above its usual level for the weekday and hour, over 60 s (once 4 past weeks are recorded)",
}
LIST_FR = {
    "share": "joie : un visage au-dessus de 0,60 dans 70 % des images sur 20 s",
    "person": "joie : une personne au-dessus de 0,55 pendant 15 s (80 % de ses images)",
    "rise": "joie : la moyenne de la caméra monte d’au moins 0,30 entre deux fenêtres de 30 s",
    "baseline": "joie : 0,25 au-dessus de son niveau habituel pour ce jour et cette heure, sur 60 s",
}
HAPPY = {"happy": 0.9, "neutral": 0.1, "angry": 0.0, "sad": 0.0, "fear": 0.0, "surprise": 0.0, "disgust": 0.0}


def _text(page: str) -> str:
    """The page's text with entities decoded and every kind of space made plain."""
    return re.sub(r"[\s\u00a0\u202f]+", " ", html.unescape(page))


def test_every_kind_describes_itself_and_its_alerts(app):
    """A kind without its own words would fall back on another's: each one has its own."""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        described = {
            name: kind.describe(RuleSpec(1, "joy", 0.5, 10, kind=name, params={"min_weeks": 3})) for name, kind in KINDS.items()
        }
        texts = {name: kind.alert_text("joy", 0.7, None) for name, kind in KINDS.items()}
    assert all(described.values()) and len(set(described.values())) == len(KINDS)
    assert all(texts.values()) and len(set(texts.values())) == len(KINDS)


def test_the_rules_list_describes_each_kind_in_its_own_terms(client, tenant_a):
    site = tenant_a.site()
    cam = tenant_a.camera(site["id"])
    for kind, fields in RULES.items():
        r = tenant_a.call("POST", "/api/v1/alert-rules", json={"camera_id": cam["id"], "emotion": "joy", "kind": kind, **fields})
        assert r.status_code == 201, r.get_json()
    client.post("/auth/login", data={"email": tenant_a.email, "password": "secret-pass-1"})
    english = _text(client.get("/admin/rules", headers={"Accept-Language": "en"}).get_data(as_text=True))
    for kind, words in LIST_EN.items():
        assert words in english, kind
    assert "above 0.30 for 30 s" not in english  # the old share wording for a rise rule
    client.post("/language", data={"locale": "fr", "next": "/admin/rules"})
    french = _text(client.get("/admin/rules").get_data(as_text=True))
    for kind, words in LIST_FR.items():
        assert words in french, kind


def _observations(app, tenant, site: dict, cam: dict, happy_from: int, seconds: int = 120) -> None:
    """Stored frames of one tracked face at 2 per second, half an hour ago: neutral, then happy."""
    from app.extensions import db
    from app.models import Observation

    neutral = {**HAPPY, "happy": 0.1, "neutral": 0.9}
    start = datetime.now(UTC) - timedelta(minutes=30)
    with app.app_context():
        for i in range(seconds * 2):
            face = {"box": [10, 10, 80, 80], "scores": HAPPY if i >= happy_from * 2 else neutral, "track_id": "5eed5eed5eed5eed"}
            db.session.add(
                Observation(
                    tenant_id=tenant.id,
                    site_id=site["id"],
                    camera_id=cam["id"],
                    ts=start + timedelta(seconds=i / 2),
                    model_version="t",
                    face_count=1,
                    faces=[face],
                )
            )
        db.session.commit()


def test_simulator_lines_show_each_kinds_details(app, client, tenant_a):
    site = tenant_a.site()
    cam = tenant_a.camera(site["id"])
    _observations(app, tenant_a, site, cam, happy_from=60)
    client.post("/auth/login", data={"email": tenant_a.email, "password": "secret-pass-1"})
    form = {
        "target": f"camera:{cam['id']}",
        "emotion": "joy",
        "threshold": "0.5",
        "duration_s": "10",
        "min_share": "0.8",
        "min_faces": "1",
        "cooldown_s": "300",
        "severity": "info",
        "enabled": "y",
        "simulate": "1",
    }
    page = client.post("/admin/rules", data={**form, "kind": "person"}, headers={"Accept-Language": "en"})
    assert "alert raised (90 %) · anonymous track 5eed5eed5eed5eed" in _text(page.get_data(as_text=True))
    page = client.post("/admin/rules", data={**form, "kind": "rise", "threshold": "0.3"}, headers={"Accept-Language": "en"})
    line = re.search(r"alert raised \(\d+ %\) · up (\d+) points from 10 %", _text(page.get_data(as_text=True)))
    assert line and int(line.group(1)) >= 30
    page = client.post("/admin/rules", data={**form, "kind": "share"}, headers={"Accept-Language": "en"})
    assert re.search(r"alert raised \(90 %\)</li>", page.get_data(as_text=True))  # a share alert has no details


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_alert_e_mails_word_each_kind(app, tenant_a, smtp, locale):
    from app.services.alerts.notifications import email_alert

    site = tenant_a.site()
    cam = tenant_a.camera(site["id"], "Till 3")
    tenant_a.call("PATCH", "/api/v1/me", json={"notify_alerts": True, "locale": locale})
    rules = {
        kind: tenant_a.call(
            "POST", "/api/v1/alert-rules", json={"camera_id": cam["id"], "emotion": "joy", "kind": kind, **fields}
        ).get_json()["id"]
        for kind, fields in RULES.items()
    }
    details = {
        "share": None,
        "person": {"track_id": "a1b2c3d4e5f60718", "box": [10, 10, 80, 80]},
        "rise": {"previous_mean": 0.3, "rise": 0.4},
        "baseline": {"usual_level": 0.2, "excess": 0.35},
    }
    value = {"share": 0.9, "person": 0.9, "rise": 0.7, "baseline": 0.55}
    with app.app_context():
        for kind in RULES:
            alert = {
                "rule_id": rules[kind],
                "camera_id": cam["id"],
                "site_id": site["id"],
                "emotion": "joy",
                "value": value[kind],
                "started_at": "2026-12-01T10:00:00Z",
                "details": details[kind],
            }
            assert email_alert(tenant_a.id, site["id"], alert) == 1
    smtp.wait(4)
    bodies = {
        kind: _text(email.message_from_string(raw, policy=email.policy.default).get_body().get_content())
        for kind, (_, raw) in zip(RULES, smtp.messages, strict=True)
    }
    expected = {
        "en": {
            "share": "Joy above the rule's threshold (90 %) since",
            "person": "One person's joy above the rule's threshold (90 %, anonymous track a1b2c3d4e5f60718) since",
            "rise": "Joy rose suddenly to 70 % (up 40 points from 30 %) since",
            "baseline": "Joy at 55 %, above its usual level for this hour (35 points above its usual 20 %) since",
        },
        "fr": {
            "share": "Joie au-dessus du seuil de la règle (90 %) depuis",
            "person": "Joie d’une personne au-dessus du seuil de la règle (90 %, piste anonyme a1b2c3d4e5f60718) depuis",
            "rise": "Joie en hausse soudaine à 70 % (hausse de 40 points depuis 30 %) depuis",
            "baseline": "Joie à 55 %, au-dessus de son niveau habituel pour cette heure (35 points au-dessus de son niveau",
        },
    }[locale]
    for kind, words in expected.items():
        assert words in bodies[kind], bodies[kind]
        assert "Till 3" in bodies[kind]
    for kind in ("rise", "baseline"):
        assert "threshold" not in bodies[kind] and "seuil" not in bodies[kind]


def test_the_forms_score_label_says_what_it_means_for_each_kind(client, tenant_a):
    """A rise or baseline rule's score is a change, not a level: the form's label for each kind says so
    (js/rule_form.js shows the chosen kind's label only), on the new-rule form and a rule's own page."""
    cam = tenant_a.camera(tenant_a.site()["id"])
    rule = tenant_a.call(
        "POST", "/api/v1/alert-rules", json={"camera_id": cam["id"], "emotion": "joy", "kind": "rise", **RULES["rise"]}
    ).get_json()
    client.post("/auth/login", data={"email": tenant_a.email, "password": "secret-pass-1"})
    client.post("/language", data={"locale": "fr", "next": "/admin/rules"})
    for path in ("/admin/rules", f"/admin/rules/{rule['id']}"):
        page = client.get(path).get_data(as_text=True)
        labels = dict(re.findall(r'<label for="threshold" data-kinds="(\w+)">([^<]+)</label>', page))
        assert html.unescape(labels["rise"]) == "Hausse d'au moins (0 à 1)", labels
        assert html.unescape(labels["baseline"]) == "Au-dessus du niveau habituel d'au moins (0 à 1)", labels
        assert html.unescape(labels["share"]) == labels["person"] == "Au-dessus de ce score (0 à 1)", labels
