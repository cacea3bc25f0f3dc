"""Ids and numbers that the pages read from their paths and query strings: whatever a person or a
script sends (an id past the id columns' range, a digit from another script, a date at the bottom
of the calendar), the answer is a 404 or a clear 400, never a 500 (both databases)."""

from __future__ import annotations

import re

import pytest

from tests.auth.test_sign_in_security import sign_in
from tests.services.test_alerts import rule_form

HUGE = "99999999999999999999"  # past 64 bits: SQLite's driver raised OverflowError
PAST_INT32 = "2147483648"  # past PostgreSQL's integer
NOT_ASCII = ("²", "٣", "１")  # str.isdigit() accepts all three; int() refuses the first


def page_rules(app) -> list:
    """Every page (not API) rule with an id in its path."""
    return [r for r in app.url_map.iter_rules() if "<id:" in r.rule and not r.rule.startswith("/api/")]


def test_every_page_with_an_id_in_its_path_answers_404_past_the_id_range(app, client, tenant_a):
    rules = page_rules(app)
    assert len(rules) >= 18  # sites, cameras, rules, users, tokens, webhooks, schedules, files, capture
    sign_in(client, tenant_a.email)
    for rule in rules:
        for value in (HUGE, PAST_INT32, "0", "²"):
            path = re.sub(r"<id:\w+>", value, rule.rule).replace("<fmt>", "pdf")
            method = "GET" if "GET" in rule.methods else "POST"
            r = client.open(path, method=method)
            assert r.status_code == 404, (method, path, r.status_code)


@pytest.mark.parametrize("value", [HUGE, PAST_INT32, *NOT_ASCII, "-1", "1e3"])
def test_ids_in_page_query_strings_never_break_the_page(client, tenant_a, value):
    site = tenant_a.site()
    sign_in(client, tenant_a.email)
    for path in (
        f"/live?site_id={value}",
        f"/live/trend?site_id={value}",
        f"/reports/?scope=site:{value}",
        f"/reports/?scope=camera:{value}",
        f"/reports/download.csv?scope=site:{value}",
        f"/reports/download.pdf?scope=camera:{value}",
    ):
        assert client.get(path).status_code == 404, path
    for key in ("site_id", "camera_id", "rule_id"):  # a filter that names nothing filters nothing
        page = client.get(f"/admin/alerts?{key}={value}")
        assert page.status_code == 200, (key, value)
    assert client.get(f"/live?site_id={site['id']}").status_code == 200  # the range still holds real ids


@pytest.mark.parametrize("to", ["0001-01-01", "0001-01-06", "9999-12-31"])
def test_a_period_ending_at_either_end_of_the_calendar_is_a_clear_400(client, tenant_a, to):
    r = tenant_a.call("GET", f"/api/v1/reports/emotions?to={to}")
    assert r.status_code == 400 and r.get_json()["error"]["fields"] == {"to": "invalid"}, r.get_json()
    r = tenant_a.call("GET", f"/api/v1/reports/emotions?from=2026-01-01&to={to}")
    assert r.status_code == 400 and r.get_json()["error"]["fields"] == {"to": "invalid"}
    r = tenant_a.call("GET", "/api/v1/reports/emotions?from=0001-01-01&to=2026-01-01")
    assert r.status_code == 400 and r.get_json()["error"]["fields"] == {"from": "invalid"}
    sign_in(client, tenant_a.email)
    page = client.get(f"/reports/?period=custom&to={to}", headers={"Accept-Language": "en"})
    assert page.status_code in (302, 400) or "between 2000 and 2100" in page.get_data(as_text=True)
    assert client.get(f"/reports/download.csv?period=custom&to={to}").status_code in (302, 400)


def test_page_forms_refuse_what_the_api_refuses_in_names(client, tenant_a):
    """Control characters (a terminal's colours, a bell) and text-direction overrides ("invoice‮fdp.exe"
    reads as "invoiceexe.pdf") were stored through the pages although the API refused them; names of
    zero-width characters only were invisible everywhere."""
    site = tenant_a.site()
    sign_in(client, tenant_a.email)
    en = {"Accept-Language": "en"}
    for name in ("evil\u202egnp", "ctl\x1b[31mred\x07", "\u200b", "\u200d\u200d"):
        for path, form in (
            ("/admin/sites", {"name": name, "timezone": "Europe/Paris"}),
            ("/admin/cameras", {"name": name, "site_id": site["id"], "fps": 5}),
        ):
            page = client.post(path, data=form, headers=en)
            assert page.status_code == 400, (path, repr(name))
            text = page.get_data(as_text=True)
            assert "Control characters and text-direction marks are not allowed." in text or "Write something visible." in text
        r = tenant_a.call("POST", "/api/v1/sites", json={"name": name})
        assert r.status_code == 400 and r.get_json()["error"]["fields"]["name"] in ("invalid", "required")
    names = [s["name"] for s in tenant_a.call("GET", "/api/v1/sites").get_json()["items"]]
    assert names == ["Gate"]
    assert tenant_a.call("GET", "/api/v1/cameras").get_json()["items"] == []
    # A zero-width joiner inside a name is fine (emoji, some scripts); so is right-to-left text.
    assert tenant_a.call("POST", "/api/v1/sites", json={"name": "Équipe 👩\u200d🏫"}).status_code == 201
    assert client.post("/admin/sites", data={"name": "מרפאה", "timezone": "Asia/Jerusalem"}).status_code == 302
    signup = {"organisation": "Acme\u202eCorp", "email": "bidi@x.example", "password": "a-long-pass-2026"}
    assert client.post("/auth/signup", data=signup, headers=en).status_code == 400


@pytest.mark.parametrize("value", ["sNaN", "-sNaN", "NaN", "Infinity", "1e999"])
def test_a_rule_score_that_is_not_a_finite_number_is_refused_once(client, tenant_a, value):
    cam = tenant_a.camera(tenant_a.site()["id"])
    sign_in(client, tenant_a.email)
    form = rule_form(cam["id"], name="Scores", threshold=value)
    page = client.post("/admin/rules", data=form, headers={"Accept-Language": "en"})
    assert page.status_code == 400
    assert page.get_data(as_text=True).count('class="error"') == 1 or "Not a valid decimal value" in page.get_data(as_text=True)
    assert tenant_a.call("GET", "/api/v1/alert-rules").get_json()["items"] == []
