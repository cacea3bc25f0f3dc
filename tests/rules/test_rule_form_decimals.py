"""The rule form writes and reads decimals as the interface's language does: "0,60" in French,
"0.60" in English, and a French admin's "0,75" is saved as 0.75 (app/admin/number_fields.py)."""

from __future__ import annotations

import html
import re

import pytest


def _input(page: str, name: str) -> str:
    tag = re.search(rf'<input[^>]*\bid="{name}"[^>]*>', page)
    assert tag, name
    return html.unescape(tag.group(0))


def _form(cam_id: int, **fields) -> dict:
    return {
        "target": f"camera:{cam_id}",
        "emotion": "distress",
        "kind": "share",
        "threshold": "0.6",
        "duration_s": "20",
        "min_share": "0.6",
        "min_faces": "1",
        "cooldown_s": "300",
        "severity": "warning",
        "enabled": "y",
        "submit": "1",
        **fields,
    }


@pytest.mark.parametrize(("lang", "shown"), [("en", "0.60"), ("fr", "0,60")])
def test_the_form_shows_decimals_with_the_languages_sign_and_a_decimal_keyboard(client, tenant_a, lang, shown):
    tenant_a.camera(tenant_a.site()["id"])
    client.post("/auth/login", data={"email": tenant_a.email, "password": "secret-pass-1"})
    page = client.get("/admin/rules", headers={"Accept-Language": lang}).get_data(as_text=True)
    for name in ("threshold", "min_share"):
        tag = _input(page, name)
        assert f'value="{shown}"' in tag and 'inputmode="decimal"' in tag, tag


def test_a_french_comma_is_saved_as_the_number_and_a_malformed_one_is_refused_as_typed(client, tenant_a):
    cam = tenant_a.camera(tenant_a.site()["id"])
    client.post("/auth/login", data={"email": tenant_a.email, "password": "secret-pass-1"})
    french = {"Accept-Language": "fr"}
    saved = client.post("/admin/rules", data=_form(cam["id"], threshold="0,75", min_share=" 0,8 "), headers=french)
    assert saved.status_code in (200, 302, 303), saved.status_code
    rules = tenant_a.call("GET", "/api/v1/alert-rules").get_json()
    items = rules["items"] if isinstance(rules, dict) else rules
    assert [(r["threshold"], r["min_share"]) for r in items] == [(0.75, 0.8)]
    # The dot still works in French, and the comma in English.
    assert client.post("/admin/rules", data=_form(cam["id"], threshold="0.65"), headers=french).status_code in (200, 302, 303)
    english = client.post("/admin/rules", data=_form(cam["id"], threshold="0,55"), headers={"Accept-Language": "en"})
    assert english.status_code in (200, 302, 303)
    rules = tenant_a.call("GET", "/api/v1/alert-rules").get_json()
    items = rules["items"] if isinstance(rules, dict) else rules
    assert sorted(r["threshold"] for r in items) == [0.55, 0.65, 0.75]

    for typed in ("0,7,5", "1,000.5", "1,5"):  # two signs, a thousands separator, out of range
        page = client.post("/admin/rules", data=_form(cam["id"], threshold=typed), headers=french).get_data(as_text=True)
        assert f'value="{typed}"' in _input(page, "threshold"), typed  # given back as typed, to correct
        assert 'aria-invalid="true"' in _input(page, "threshold"), typed
    rules = tenant_a.call("GET", "/api/v1/alert-rules").get_json()
    assert len(rules["items"] if isinstance(rules, dict) else rules) == 3
