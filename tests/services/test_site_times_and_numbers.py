"""Times and numbers as the reader's site and language write them: alert and escalation e-mails give
the alert's time on the site's clock with its zone (not UTC ISO), the stored reports' "Generated"
column is in the organisation's zone, the report page's figures and coverage are French in French;
staff, who cannot renew a capture link, are not told to renew it."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime

from app.extensions import db
from app.models import GeneratedReport
from app.services import observations

ZONE = "Pacific/Kiritimati"  # UTC+14: a wrong zone shows a different day
STARTED = "2026-12-01T10:00:00Z"
HAPPY = {"angry": 0.0, "disgust": 0.0, "fear": 0.0, "happy": 0.8, "sad": 0.0, "surprise": 0.0, "neutral": 0.2}


def body_of(raw: str) -> str:
    text = email.message_from_string(raw, policy=email.policy.default).get_body().get_content()
    return " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split())


def local(moment: str | datetime, zone: str, locale: str, fmt: str) -> str:
    value = datetime.fromisoformat(moment.replace("Z", "+00:00")) if isinstance(moment, str) else moment
    text = format_datetime(value.astimezone(ZoneInfo(zone)), fmt, tzinfo=ZoneInfo(zone), locale=locale)
    return " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split()) + f" ({zone})"


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_alert_and_escalation_e_mails_give_the_sites_time_and_zone(app, tenant_a, smtp, locale):
    from app.services.alerts.notifications import email_alert

    site = tenant_a.call("POST", "/api/v1/sites", json={"name": "Atoll", "timezone": ZONE}).get_json()
    cam = tenant_a.camera(site["id"], "Till 3")
    tenant_a.call("PATCH", "/api/v1/me", json={"notify_alerts": True, "locale": locale})
    offline = {"rule_id": None, "camera_id": cam["id"], "site_id": site["id"], "emotion": "camera_offline", "value": 0.0}
    rule = tenant_a.call(
        "POST", "/api/v1/alert-rules", json={"camera_id": cam["id"], "emotion": "joy", "threshold": 0.5, "duration_s": 5}
    ).get_json()
    joy = {"rule_id": rule["id"], "camera_id": cam["id"], "site_id": site["id"], "emotion": "joy", "value": 0.9}
    with app.app_context():
        assert email_alert(tenant_a.id, site["id"], {**joy, "started_at": STARTED}) == 1
        assert email_alert(tenant_a.id, site["id"], {**joy, "started_at": STARTED}, escalation=True) == 1
        assert email_alert(tenant_a.id, site["id"], {**offline, "started_at": STARTED}) == 1
    smtp.wait(3)
    expected = local(STARTED, ZONE, locale, "medium")  # 2 December on the atoll, 1 December in UTC
    assert ("Dec 2, 2026" if locale == "en" else "2 déc. 2026") in expected
    for _, raw in smtp.messages:
        body = body_of(raw)
        assert expected in body, (expected, body)
        assert STARTED not in body and "2026-12-01" not in body, body


def test_generated_reports_are_dated_in_the_organisations_zone(app, client, tenant_a):
    assert tenant_a.call("PATCH", "/api/v1/organisation", json={"timezone": ZONE}).status_code == 200
    client.post("/auth/login", data={"email": tenant_a.email, "password": "secret-pass-1"})
    r = client.post("/reports/schedules", data={"scope": "tenant", "frequency": "daily", "language": "en"})
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    with app.app_context():
        created = db.session.scalars(db.select(GeneratedReport.created_at)).one()
    for lang in ("en", "fr"):
        page = client.get("/reports/schedules", headers={"Accept-Language": lang}).get_data(as_text=True)
        (cell,) = re.findall(r'<time datetime="[^"]+" data-utc="[^"]+" data-zone="([^"]+)">([^<]+)</time>', page)
        assert cell[0] == ZONE
        assert " ".join(cell[1].replace("\u202f", " ").replace("\xa0", " ").split()) == local(created, ZONE, lang, "short")


def test_report_figures_and_coverage_in_french(app, client, tenant_a):
    site = tenant_a.site("Gate")
    cam = tenant_a.camera(site["id"], "Desk")
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    face = {"box": [10, 10, 80, 80], "emotion": "happy", "confidence": 0.8, "scores": HAPPY}
    with app.app_context():
        for k in range(6):
            assert observations.record(tenant_a.id, site["id"], cam["id"], start + timedelta(seconds=k), "test", [face], 5.0)
        db.session.remove()
    client.post("/auth/login", data={"email": tenant_a.email, "password": "secret-pass-1"})
    # Shares as percentages, as the chart's axis writes them ("80 %" in French, a non-breaking space).
    expected = {"fr": ("80\xa0%", "20\xa0%", r"\d+,\d\s%"), "en": ("80%", "20%", r"\d+\.\d%")}
    for lang, (happy, neutral, share) in expected.items():
        page = client.get("/reports/?period=today", headers={"Accept-Language": lang}).get_data(as_text=True)
        figures = page[page.index("<details>") : page.index("</details>")]
        assert f"<td>{happy}</td>" in figures and f"<td>{neutral}</td>" in figures, figures[-800:]
        coverage = page[page.index("<meter") : page.index("</tbody>", page.index("<meter"))]
        shares = re.findall(r"</meter> ([^<]+)</td>", coverage)
        assert shares and all(re.fullmatch(share, s) for s in shares), (lang, shares)
        if lang == "fr":
            assert not re.search(r"\d\.\d", figures + coverage.split(">", 1)[1]), "an English decimal point is left"


def test_staff_are_not_told_to_renew_a_link_they_cannot_renew(client, tenant_a):
    site = tenant_a.site("Gate")
    cam = tenant_a.camera(site["id"], "Desk")
    staff, _ = tenant_a.user("staff")
    client.post("/auth/login", data={"email": staff["email"], "password": "secret-pass-2"})
    # ("Link renewed: <time>" stays: it says when the link was last renewed.)
    never = {"en": ("Lost it?", "Renew it", "Renew the capture link"), "fr": ("Perdu ?", "Renouvelez", "Renouveler")}
    for lang, words in never.items():
        page = client.get(f"/admin/cameras/{cam['id']}", headers={"Accept-Language": lang}).get_data(as_text=True)
        main = page[page.index("<main") :]
        assert not [w for w in words if w in main], (lang, main[:1500])
        assert "/rotate" not in main and "administrat" in main
    client.post("/auth/logout")
    client.post("/auth/login", data={"email": tenant_a.email, "password": "secret-pass-1"})
    page = client.get(f"/admin/cameras/{cam['id']}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Lost it? Renew it" in page and "/rotate" in page


def test_the_first_site_gives_its_zone_to_an_organisation_still_on_the_default(app, tenant_a, tenant_b):
    from app.models import Tenant
    from app.services import sites

    with app.app_context():
        a, b = (db.session.query(Tenant).filter_by(name=n).one() for n in ("Alpha School", "Beta Clinic"))
        assert a.timezone == b.timezone == "UTC"  # sign-up asks no zone
        b.timezone = "America/Toronto"  # chosen by its admin before any site
        db.session.commit()
        sites.create_site(a.id, "Atoll", ZONE)
        sites.create_site(a.id, "Paris", "Europe/Paris")  # a second site changes nothing
        sites.create_site(b.id, "Gate", ZONE)
        db.session.expire_all()
        assert db.session.get(Tenant, a.id).timezone == ZONE
        assert db.session.get(Tenant, b.id).timezone == "America/Toronto"
        from app.models import AuditEntry

        changed = db.session.query(AuditEntry).filter_by(tenant_id=a.id, action="privacy.settings").one()
        assert changed.details == {"timezone": ZONE}  # the trail says the organisation's zone changed
        assert db.session.query(AuditEntry).filter_by(tenant_id=b.id, action="privacy.settings").count() == 0
