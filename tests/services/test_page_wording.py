"""What pages say beyond cameras: the invitation form empty again after use, report dates refused
and titled in French, and audit details that name roles, rule kinds and decisions in French."""

from __future__ import annotations

import re

import pytest

FR = {"Accept-Language": "fr"}
EN = {"Accept-Language": "en"}


@pytest.fixture
def admin(client, tenant_a):
    site = tenant_a.site("Gate")
    client.post("/auth/login", data={"email": tenant_a.email, "password": "secret-pass-1"})
    return site


def test_after_an_invitation_the_form_is_blank_for_the_next_person(app, client, admin):
    r = client.post("/admin/users", data={"email": "new.person@alpha-org.example", "role": "manager"}, headers=EN)
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "Invitation of new.person@alpha-org.example" in page
    form = page[page.index("Invite someone") :]
    assert "new.person@alpha-org.example" not in form and "Add this person" in form


def test_report_dates_refused_in_french(client, admin):
    r = client.get("/reports/?period=custom&from=2026-12-05&to=2026-12-01", headers=FR, follow_redirects=True)
    page = r.get_data(as_text=True)
    assert "La date de début est après la date de fin." in page and "is after" not in page


def test_audit_details_name_roles_rule_kinds_and_analysis_in_french(app, client, tenant_a, admin):
    from app.services import audit

    with app.app_context():
        from app.models import AuditEntry

        for action, details in (
            ("user.created", {"email": "x@alpha-org.example", "role": "staff"}),
            ("rule.created", {"name": "Caisse", "kind": "share"}),
            ("site.purpose_declared", {"setting": "retail", "purpose": "safety", "analysis": "allowed"}),
        ):
            entry = AuditEntry(tenant_id=1, action=action, details=details)
            from flask_babel import force_locale

            with app.test_request_context(headers=FR), force_locale("fr"):
                _, text = audit.describe(entry)
            assert not re.search(r"\b(staff|share|allowed)\b", text), text
            assert any(word in text for word in ("Équipe", "Personnel", "autorisée", "image")), text


def test_a_one_day_report_names_its_day_once(client, admin):
    page = client.get("/reports/?period=custom&from=2026-12-01&to=2026-12-01", headers=FR).get_data(as_text=True)
    title = re.search(r"<h2>(.*?)</h2>", page, re.S).group(1)
    assert title.count("1 décembre 2026") == 1 and "–" not in title, title
    page = client.get("/reports/?period=custom&from=2026-12-01&to=2026-12-03", headers=FR).get_data(as_text=True)
    assert "1 décembre 2026 – 3 décembre 2026" in re.search(r"<h2>(.*?)</h2>", page, re.S).group(1)


def test_time_zones_are_grouped_by_region_without_old_aliases(client, tenant_a, admin):
    page = client.get("/admin/sites", headers=EN).get_data(as_text=True)
    zones = page[page.index('id="timezone"') : page.index("</select>", page.index('id="timezone"'))]
    assert '<optgroup label="Europe">' in zones and '<optgroup label="America">' in zones
    assert '<option selected value="Europe/Paris">' in zones and ">America/Los Angeles<" in zones
    assert "Africa/Asmera" not in zones and "America/Atka" not in zones and "Etc/" not in zones
    # A site already on an alias keeps it, shown and selected.
    site = tenant_a.call("POST", "/api/v1/sites", json={"name": "Old", "timezone": "America/Atka"}).get_json()
    page = client.get(f"/admin/sites/{site['id']}", headers=EN).get_data(as_text=True)
    assert '<option selected value="America/Atka">' in page
    privacy = client.get("/admin/privacy", headers=EN).get_data(as_text=True)
    assert 'value="UTC"' in privacy and '<optgroup label="Europe">' in privacy


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_rule_form_offers_each_expression_once(client, tenant_a, admin, lang):
    """ "happy" alone and the "joy" group are the same class: French read "Joie" twice."""
    page = client.get("/admin/rules", headers={"Accept-Language": lang}).get_data(as_text=True)
    select = re.search(r'<select[^>]*name="emotion".*?</select>', page, re.S).group(0)
    labels = re.findall(r"<option[^>]*>([^<]+)</option>", select)
    words = [label.split(" (")[0] for label in labels]
    assert len(words) == len(set(words)) == 9, labels
    # A rule stored with "happy" (the API takes it) keeps it, selected, in its own form.
    camera = tenant_a.camera(admin["id"])
    rule = tenant_a.call(
        "POST", "/api/v1/alert-rules", json={"camera_id": camera["id"], "emotion": "happy", "threshold": 0.5, "duration_s": 5}
    ).get_json()
    own = client.get(f"/admin/rules/{rule['id']}", headers={"Accept-Language": lang}).get_data(as_text=True)
    assert re.search(r'<option selected value="happy">|<option value="happy" selected>', own)
