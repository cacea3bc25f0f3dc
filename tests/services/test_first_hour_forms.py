"""Small things of the first hour: a reserved e-mail domain is refused with its reason in both
languages, the site declaration starts unchosen, and the export's observations come as JSON too."""

from __future__ import annotations

import io
import json
import zipfile

import pytest


@pytest.mark.parametrize(
    ("lang", "reason"), [("en", "is reserved for tests and examples"), ("fr", "est réservé aux tests et aux exemples")]
)
def test_a_reserved_domain_is_refused_with_its_reason(client, lang, reason):
    r = client.post(
        "/auth/signup",
        data={"organisation": "Tour Shop", "email": "owner@tourshop.test", "password": "Correct-horse-42"},
        headers={"Accept-Language": lang},
    )
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and reason in page and "tourshop.test" in page


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
