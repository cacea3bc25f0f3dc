"""Small things of the first hour: an e-mail domain that cannot be a mailbox is refused with its reason
in both languages (.test and .example are accepted), the site declaration starts unchosen, and the
export's observations come as JSON too."""

from __future__ import annotations

import io
import json
import zipfile

import pytest


@pytest.mark.parametrize(
    ("lang", "reason"),
    [("en", "is reserved for local networks or invalid addresses"), ("fr", "est réservé aux réseaux locaux ou aux adresses")],
)
def test_a_reserved_domain_is_refused_with_its_reason(client, lang, reason):
    r = client.post(
        "/auth/signup",
        data={"organisation": "Tour Shop", "email": "owner@tourshop.local", "password": "Correct-horse-42"},
        headers={"Accept-Language": lang},
    )
    page = r.get_data(as_text=True)
    assert r.status_code == 400 and reason in page and "tourshop.local" in page
    assert ".example" not in page and ".test" not in page  # the message names only what is refused


@pytest.mark.parametrize("domain", ["tourshop.test", "tourshop.example"])
def test_test_and_example_domains_are_accepted_by_the_form_and_the_api_alike(client, domain):
    """RFC 2606's names for tests and examples: accepted, as sign-up sends no mail (accounts.check_email)."""
    r = client.post(
        "/auth/signup", data={"organisation": "Tour Shop", "email": f"owner@{domain}", "password": "Correct-horse-42"}
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    api = client.post(
        "/api/v1/signup", json={"organisation": "Api Shop", "email": f"api@{domain}", "password": "Correct-horse-42"}
    )
    assert api.status_code == 201, api.get_json()
    refused = client.post("/api/v1/signup", json={"organisation": "X", "email": "x@shop.invalid", "password": "Correct-horse-42"})
    assert refused.status_code == 400 and refused.get_json()["error"]["fields"] == {"email": "invalid"}, refused.get_json()


def test_declaration_starts_unchosen_and_export_has_observations_as_json(client, tenant_a):
    site = tenant_a.site("Gate")
    client.post("/auth/login", data={"email": tenant_a.email, "password": "secret-pass-1"})
    page = client.get(f"/admin/sites/{site['id']}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    form = page[page.index("/purpose") :]
    setting = form[form.index('<select id="setting"') : form.index("</select>")]
    assert setting.index('<option value="">Choose…</option>') < setting.index("education")
    assert " required" in setting and "selected" not in setting  # the placeholder shows; nothing pre-chosen
    refused = client.post(f"/admin/sites/{site['id']}/purpose", data={"setting": "", "purpose": ""})
    assert refused.status_code == 302
    archive = zipfile.ZipFile(io.BytesIO(client.post("/admin/privacy/export").data))
    manifest = json.loads(archive.read("manifest.json"))
    assert json.loads(archive.read("observations.json")) == [] and manifest["files"]["observations.json"]["rows"] == 0


def test_the_language_chosen_before_signing_up_is_the_new_account_s(client):
    """An English browser, "Français" chosen on the home page, then sign-up: the account and the
    pages after it speak French (the browser's language used to win, flash message aside)."""
    en = {"Accept-Language": "en"}
    assert client.post("/language", data={"locale": "fr", "next": "/auth/signup"}, headers=en).status_code == 302
    form = {"organisation": "École du Port", "email": "direction@ecole-port.example", "password": "Correct-horse-42"}
    landing = client.post("/auth/signup", data=form, headers=en, follow_redirects=True)
    assert landing.status_code == 200 and "Ajouter un site" in landing.get_data(as_text=True)
    token = client.post("/api/v1/tokens", json={"email": form["email"], "password": form["password"]}).get_json()["token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert me["user"]["locale"] == "fr"
