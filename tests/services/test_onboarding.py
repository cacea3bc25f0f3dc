"""The onboarding checklist ticks itself from the data, per tenant, and hides once complete or dismissed."""

from __future__ import annotations

from app.extensions import db
from app.models import Camera
from app.models.base import utcnow
from app.services import onboarding


def ticks(app, tenant_id: int) -> dict[str, bool]:
    with app.app_context():
        return {step.key: step.done for step in onboarding.checklist(tenant_id).steps}


def test_steps_tick_from_the_data_and_only_for_their_tenant(app, tenant_a, tenant_b):
    assert ticks(app, tenant_a.id) == dict.fromkeys(
        ("declare_site", "add_camera", "open_capture", "watch_live", "add_rule"), False
    )
    site = tenant_a.site()
    r = tenant_a.call("PATCH", f"/api/v1/sites/{site['id']}", json={"setting": "workplace", "purpose": "safety"})
    assert r.status_code == 200, r.get_json()
    camera = tenant_a.camera(site["id"])
    assert ticks(app, tenant_a.id) == {
        "declare_site": True,
        "add_camera": True,
        "open_capture": False,
        "watch_live": False,
        "add_rule": False,
    }
    with app.app_context():
        db.session.get(Camera, camera["id"]).last_seen_at = utcnow()  # the first frame arrived
        db.session.commit()
        onboarding.note_live_watched(tenant_a.id)
        first = onboarding.checklist(tenant_a.id)
        assert first.done_count == 4 and first.visible
        step = {s.key: s for s in first.steps}["open_capture"]
        assert (step.site_id, step.camera_id) == (site["id"], camera["id"])
    r = tenant_a.call(
        "POST", "/api/v1/alert-rules", json={"site_id": site["id"], "emotion": "distress", "threshold": 0.6, "duration_s": 20}
    )
    assert r.status_code == 201, r.get_json()
    with app.app_context():
        done = onboarding.checklist(tenant_a.id)
        assert done.complete and not done.visible
    # Nothing of tenant A ticks tenant B's list.
    assert not any(ticks(app, tenant_b.id).values())


def test_live_watched_is_kept_from_the_first_time_and_dismiss_hides(app, tenant_a):
    with app.app_context():
        onboarding.note_live_watched(tenant_a.id)
        from app.models import Tenant

        first = db.session.get(Tenant, tenant_a.id).live_watched_at
        onboarding.note_live_watched(tenant_a.id)
        assert db.session.get(Tenant, tenant_a.id).live_watched_at == first
        assert onboarding.checklist(tenant_a.id).visible
        onboarding.dismiss(tenant_a.id)
        assert not onboarding.checklist(tenant_a.id).visible


def login(client, email: str, password: str = "secret-pass-1"):
    return client.post("/auth/login", data={"email": email, "password": password})


def test_my_account_changes_password_only_with_the_current_one(app, client, tenant_a):
    assert login(client, tenant_a.email).status_code == 302
    assert client.get("/account/").status_code == 200
    wrong = client.post(
        "/account/password", data={"pw-current": "not-it-at-all", "pw-password": "New-pass-4567", "pw-confirm": "New-pass-4567"}
    )
    assert wrong.status_code == 400 and "current password is wrong" in wrong.get_data(as_text=True)
    ok = client.post(
        "/account/password", data={"pw-current": "secret-pass-1", "pw-password": "New-pass-4567", "pw-confirm": "New-pass-4567"}
    )
    assert ok.status_code == 302
    assert client.get("/account/").status_code == 200  # this browser stays signed in
    # The old password is gone, and so is the API token (a new password ends the others' access).
    assert tenant_a.call("GET", "/api/v1/me").status_code == 401
    other = app.test_client()
    assert login(other, tenant_a.email).status_code == 401
    assert login(other, tenant_a.email, "New-pass-4567").status_code == 302


def test_my_account_saves_language_and_alert_mails(app, client, tenant_a):
    login(client, tenant_a.email)
    r = client.post("/account/preferences", data={"prefs-locale": "fr", "prefs-notify_alerts": "y"})
    assert r.status_code == 302
    page = client.get("/account/").get_data(as_text=True)
    assert "Mon compte" in page or "Préférences" in page
    me = tenant_a.call("GET", "/api/v1/me").get_json()["user"]
    assert me["locale"] == "fr" and me["notify_alerts"] is True
    client.post("/account/preferences", data={"prefs-locale": "en"})  # unticked box: mails off
    me = tenant_a.call("GET", "/api/v1/me").get_json()["user"]
    assert me["locale"] == "en" and me["notify_alerts"] is False
    assert client.post("/account/preferences", data={"prefs-locale": "xx"}).status_code == 400


def test_the_checklist_stays_when_the_site_form_comes_back_with_an_error(client, tenant_a):
    client.post("/auth/login", data={"email": tenant_a.email, "password": "secret-pass-1"})
    first = client.get("/admin/sites", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    refused = client.post("/admin/sites", data={"name": "", "timezone": "Europe/Paris"}, headers={"Accept-Language": "fr"})
    assert refused.status_code == 400
    assert "Pour commencer" in first and "Pour commencer" in refused.get_data(as_text=True)


def test_the_alert_e_mail_option_says_when_this_server_sends_no_e_mail(app, client, tenant_a):
    login(client, tenant_a.email)
    app.config["MAIL_SERVER"] = ""
    page = client.get("/account/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert 'id="no-mail"' in page and "aucun e-mail" in page
    app.config["MAIL_SERVER"] = "smtp.example"
    assert 'id="no-mail"' not in client.get("/account/").get_data(as_text=True)
