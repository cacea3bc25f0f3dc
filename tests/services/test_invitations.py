"""Invitations without a mail server: nothing says "sent", the admin gets the link to copy; pending
status, resend and withdraw; the invitation page names the organisation and the invited address;
the mail is in the invitee's language when known, else the inviter's."""

from __future__ import annotations

import re

from app.extensions import db
from app.models import User
from app.services import accounts


def login(client, email: str, password: str = "secret-pass-1") -> None:
    assert client.post("/auth/login", data={"email": email, "password": password}).status_code == 302


def invite(client, email: str):
    return client.post("/admin/users", data={"email": email, "role": "staff"})


LINK = re.compile(r'id="invitation-url"[^>]*value="([^"]+)"')


def test_without_mail_the_link_is_shown_never_sent(app, client, tenant_a):
    assert not app.config.get("MAIL_SERVER")
    login(client, tenant_a.email)
    page = invite(client, "new.person@alpha.example").get_data(as_text=True)
    assert "Invitation sent" not in page and "MAIL_SERVER" in page
    link = LINK.search(page).group(1)
    assert "/auth/reset/" in link
    listing = client.get("/admin/users").get_data(as_text=True)
    assert "invitation pending" in listing and "Resend" in listing and "Withdraw" in listing
    # The invitation page names the organisation and the address.
    invitee = app.test_client()
    landing = invitee.get(link.split("emotiscan.test", 1)[1]).get_data(as_text=True)
    assert "Join Alpha School on EmotiScan" in landing and "new.person@alpha.example" in landing
    # Once the password is chosen, the invitation is no longer pending.
    with app.app_context():
        user = db.session.query(User).filter_by(email="new.person@alpha.example").one()
        assert accounts.is_pending(user)
        user_id = user.id
    r = invitee.post(link.split("emotiscan.test", 1)[1], data={"password": "Lovely-pass-93", "confirm": "Lovely-pass-93"})
    assert r.status_code == 302
    assert "invitation pending" not in client.get("/admin/users").get_data(as_text=True)
    assert client.post(f"/admin/users/{user_id}/invitation", data={}).status_code == 400  # accepted: nothing to resend


def test_resend_gives_a_new_link_and_withdraw_removes_the_user(app, client, tenant_a, tenant_b):
    login(client, tenant_a.email)
    first = LINK.search(invite(client, "later@alpha.example").get_data(as_text=True)).group(1)
    with app.app_context():
        user_id = db.session.query(User.id).filter_by(email="later@alpha.example").scalar()
    again = client.post(f"/admin/users/{user_id}/invitation", data={})
    assert again.status_code == 200
    assert LINK.search(again.get_data(as_text=True)).group(1).startswith("https://emotiscan.test/auth/reset/")
    confirm = client.get(f"/admin/users/{user_id}/invitation/revoke")
    assert confirm.status_code == 200 and "later@alpha.example" in confirm.get_data(as_text=True)
    assert client.post(f"/admin/users/{user_id}/invitation/revoke", data={}).status_code == 302
    listing = client.get("/admin/users").get_data(as_text=True)
    assert "invitation of later@alpha.example is withdrawn" in listing and ">later@alpha.example</a>" not in listing
    # The link sent before is dead with the user.
    dead = app.test_client().get(first.split("emotiscan.test", 1)[1])
    assert dead.status_code == 302
    # Another tenant's user is a 404.
    other = tenant_b.user("staff")[0]
    assert client.post(f"/admin/users/{other['id']}/invitation/revoke", data={}).status_code == 404


def test_invitation_language_is_the_invitees_else_the_inviters(app):
    with app.test_request_context():
        assert accounts.invitation_locale(User(locale="fr"), "en") == "fr"
        assert accounts.invitation_locale(User(locale=None), "en") == "en"
        assert accounts.invitation_locale(User(locale=None), "xx") == app.config["LANGUAGES"][0]


def test_with_a_mail_server_the_mail_is_in_the_inviters_language(app, client, tenant_a, monkeypatch):
    sent: list[tuple[str, str, str]] = []

    def fake_send(to, subject, body, attachments=None):
        sent.append((to, subject, body))
        return True

    monkeypatch.setattr("app.admin.routes.send_mail", fake_send)
    login(client, tenant_a.email)
    client.post("/language", data={"locale": "en"})
    r = invite(client, "mailed@alpha.example")
    assert r.status_code == 302
    assert "Invitation sent to mailed@alpha.example" in client.get("/admin/users").get_data(as_text=True)
    ((to, subject, body),) = sent
    assert to == "mailed@alpha.example" and subject == "You are invited to EmotiScan" and "Alpha School" in body
