"""Browser pages: password reset by e-mail (a real local SMTP server), invitations, roles on pages."""

from __future__ import annotations

import email
import email.policy
import re
import time


def sign_in(client, email, password):
    return client.post("/auth/login", data={"email": email, "password": password})


def link_from(raw: str) -> str:
    text = email.message_from_string(raw, policy=email.policy.default).get_content()
    return re.search(r"https?://\S+/auth/reset/\S+", text).group(0)


def test_password_reset_by_email(client, tenant_a, smtp):
    r = client.post("/auth/forgot", data={"email": tenant_a.email})
    assert r.status_code == 302
    smtp.wait()
    to, body = smtp.messages[0]
    assert to == tenant_a.email
    path = link_from(body).split("://", 1)[1].split("/", 1)[1]
    r = client.post("/" + path, data={"password": "brand-new-pass", "confirm": "brand-new-pass"})
    assert r.status_code == 302
    client.post("/auth/logout")
    assert sign_in(client, tenant_a.email, "secret-pass-1").status_code == 401
    assert sign_in(client, tenant_a.email, "brand-new-pass").status_code == 302
    # The link works once only.
    client.post("/auth/logout")
    r = client.get("/" + path)
    assert r.status_code == 302 and "/auth/forgot" in r.headers["Location"]


def test_unknown_address_gets_the_same_answer_and_no_mail(client, smtp):
    r = client.post("/auth/forgot", data={"email": "nobody@nowhere.example"})
    assert r.status_code == 302
    time.sleep(0.3)
    assert smtp.messages == []


def test_invitation_mail_lets_the_user_choose_a_password(client, tenant_a, smtp):
    r = tenant_a.call("POST", "/api/v1/users", json={"email": "new@alpha.example", "role": "staff"})
    assert r.status_code == 201
    smtp.wait()
    to, body = smtp.messages[0]
    assert to == "new@alpha.example"
    assert "Alpha School" in email.message_from_string(body, policy=email.policy.default).get_content()
    path = link_from(body).split("://", 1)[1].split("/", 1)[1]
    assert client.post("/" + path, data={"password": "chosen-pass-1", "confirm": "chosen-pass-1"}).status_code == 302
    # One entry in the trail, by the invited person, that says what happened.
    trail = tenant_a.call("GET", "/api/v1/audit").get_json()["items"]
    user_id = r.get_json()["id"]
    mine = [(e["action"], e["actor_id"]) for e in trail if e.get("target_id") == user_id and e["action"].startswith("user.")]
    assert ("user.invitation_accepted", user_id) in mine
    assert not any(action in ("user.password_changed", "user.password_reset") for action, _ in mine), mine


def test_pages_respect_roles_and_tenants(client, tenant_a, tenant_b):
    site = tenant_a.site("Gate")
    cam = tenant_a.camera(site["id"])
    staff, _ = tenant_a.user("staff")
    sign_in(client, staff["email"], "secret-pass-2")
    assert client.get("/admin/users").status_code == 403
    assert client.get(f"/admin/sites/{site['id']}/delete").status_code == 403
    assert client.get("/live").status_code == 200
    assert client.get(f"/admin/cameras/{cam['id']}").status_code == 200
    client.post("/auth/logout")
    sign_in(client, tenant_b.email, "secret-pass-1")
    for path in (
        f"/admin/sites/{site['id']}",
        f"/admin/cameras/{cam['id']}",
        f"/admin/cameras/{cam['id']}/delete",
        f"/live?site_id={site['id']}",
        f"/admin/users/{staff['id']}",
    ):
        assert client.get(path).status_code == 404, path
    live = client.get("/live").get_data(as_text=True)
    assert "Gate" not in live and "Tablet" not in live


def test_admin_pages_create_and_delete_with_confirmation(client, tenant_a):
    sign_in(client, tenant_a.email, "secret-pass-1")
    r = client.post("/admin/sites", data={"name": "Hall", "timezone": "Europe/Paris"})
    assert r.status_code == 302
    site_id = int(r.headers["Location"].rsplit("/", 1)[1])
    r = client.post("/admin/cameras", data={"name": "Desk", "site_id": site_id, "fps": 5})
    assert "data:image/svg+xml;base64," in r.get_data(as_text=True)
    confirm = client.get(f"/admin/sites/{site_id}/delete", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Hall" in confirm and "Its camera and its stored observations are deleted too." in confirm
    empty = client.post("/admin/sites", data={"name": "Annexe", "timezone": "Europe/Paris"}).headers["Location"]
    confirm = client.get(empty + "/delete", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Il n&#39;a aucune caméra" in confirm and "0 caméras" not in confirm
    assert client.post(f"/admin/sites/{site_id}/delete").status_code == 302
    assert client.get(f"/admin/sites/{site_id}").status_code == 404


def test_empty_states(client, tenant_a):
    sign_in(client, tenant_a.email, "secret-pass-1")
    assert "No site yet" in client.get("/admin/sites", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "No camera to show yet" in client.get("/live", headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_reset_page_refuses_a_weak_password_and_keeps_the_link(client, tenant_a, smtp):
    client.post("/auth/forgot", data={"email": tenant_a.email})
    smtp.wait()
    path = "/" + link_from(smtp.messages[0][1]).split("://", 1)[1].split("/", 1)[1]
    page = client.get(path, headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Au moins 10 caractères" in page
    r = client.post(path, data={"password": "azerty2024", "confirm": "azerty2024"}, headers={"Accept-Language": "fr"})
    assert r.status_code == 200 and "trop courant" in r.get_data(as_text=True)
    r = client.post(path, data={"password": "12345678", "confirm": "12345678"}, headers={"Accept-Language": "en"})
    assert r.status_code == 200 and "at least 10 characters" in r.get_data(as_text=True)
    assert client.post(path, data={"password": "brand-new-pass", "confirm": "brand-new-pass"}).status_code == 302
    assert sign_in(client.application.test_client(), tenant_a.email, "secret-pass-1").status_code == 401
