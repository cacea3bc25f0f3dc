"""Sign-in security: locks that do not lock the owner out, safe redirects, sessions and tokens that end,
password rules."""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest

from app import connections, create_app
from app.extensions import db
from app.models import User
from app.models.base import utcnow
from app.security import DEVICE_COOKIE, safe_next
from app.services import accounts
from app.services.errors import ServiceError
from tests.conftest import _testing


def sign_in(client, email, password="secret-pass-1", **kwargs):
    return client.post("/auth/login", data={"email": email, "password": password}, **kwargs)


def user_row(app, email: str) -> User:
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == email))
        db.session.expunge(user)
        return user


def set_user(app, email: str, **values) -> None:
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == email))
        for name, value in values.items():
            setattr(user, name, value)
        db.session.commit()


@pytest.fixture
def revocations(monkeypatch):
    """What accounts and tokens asked app.connections to close."""
    seen: list[connections.Revocation] = []
    monkeypatch.setattr(connections, "revoke", lambda reason, **keys: seen.append(connections.Revocation(reason, **keys)))
    return seen


def fail(client, email, times, **kwargs):
    return [sign_in(client, email, "wrong-pass-99", **kwargs).status_code for _ in range(times)]


# 1. Locks -------------------------------------------------------------------------------------


def test_a_flood_of_wrong_passwords_does_not_lock_out_a_known_device(app, tenant_a):
    app.config["LOCKOUT_AFTER"] = 3
    owner, attacker, stranger = app.test_client(), app.test_client(), app.test_client()
    assert sign_in(owner, tenant_a.email).status_code == 302
    owner.post("/auth/logout")  # signing out keeps the device known
    assert fail(attacker, tenant_a.email, 3) == [401] * 3
    assert sign_in(attacker, tenant_a.email).status_code == 423  # locked: no password checked for unknown devices
    assert sign_in(stranger, tenant_a.email).status_code == 423
    assert sign_in(owner, tenant_a.email, "wrong-pass-99").status_code == 401  # the device does not skip the check
    assert sign_in(owner, tenant_a.email).status_code == 302
    row = user_row(app, tenant_a.email)
    assert (row.failed_logins, row.lockouts, row.locked_until) == (0, 0, None)  # a success resets everything


def test_known_device_cookie_is_bound_to_the_account_and_its_password(app, tenant_a):
    app.config["LOCKOUT_AFTER"] = 3
    other, _ = tenant_a.user("staff")
    client = app.test_client()
    r = sign_in(client, tenant_a.email)
    cookie = next(c for c in r.headers.getlist("Set-Cookie") if c.startswith(DEVICE_COOKIE + "="))
    assert all(flag in cookie for flag in ("HttpOnly", "SameSite=Lax", "Secure", "Path=/auth/login", "Max-Age=15552000"))
    client.post("/auth/logout")
    # Another account's lock is not lifted by this browser's cookie.
    fail(app.test_client(), other["email"], 3)
    assert sign_in(client, other["email"], "secret-pass-2").status_code == 423
    # A new password forgets every device.
    with app.app_context():
        accounts.update_user(db.session.get(User, tenant_a.admin_id), password="fresh-pass-77")
    fail(app.test_client(), tenant_a.email, 3)
    assert sign_in(client, tenant_a.email, "fresh-pass-77").status_code == 423


def test_locks_double_and_a_finished_lock_starts_the_count_again(app, tenant_a):
    app.config.update(LOCKOUT_AFTER=3, LOCKOUT_MINUTES=3)
    attacker = app.test_client()
    durations = []
    for _ in range(4):
        assert fail(attacker, tenant_a.email, 3) == [401] * 3
        row = user_row(app, tenant_a.email)
        durations.append(round((row.locked_until - utcnow()).total_seconds() / 60))
        assert sign_in(attacker, tenant_a.email).status_code == 423
        set_user(app, tenant_a.email, locked_until=utcnow() - timedelta(seconds=1))  # the lock runs out
        # One more failure after the lock does not lock again: the count started from 0.
        assert fail(attacker, tenant_a.email, 1) == [401]
        assert user_row(app, tenant_a.email).failed_logins == 1
        set_user(app, tenant_a.email, failed_logins=0)
    assert durations == [1, 2, 3, 3]  # 1, 2, 4 ... minutes, capped at LOCKOUT_MINUTES
    assert user_row(app, tenant_a.email).lockouts == 4
    assert sign_in(attacker, tenant_a.email).status_code == 302
    assert user_row(app, tenant_a.email).lockouts == 0


def test_a_password_reset_lifts_the_lock(app, tenant_a):
    app.config["LOCKOUT_AFTER"] = 3
    fail(app.test_client(), tenant_a.email, 3)
    with app.app_context():
        token = accounts.password_reset_token(db.session.get(User, tenant_a.admin_id))
    reset_by = app.test_client()
    r = reset_by.post(f"/auth/reset/{token}", data={"password": "brand-new-pass", "confirm": "brand-new-pass"})
    assert r.status_code == 302 and reset_by.get_cookie(DEVICE_COOKIE, path="/auth/login") is not None
    row = user_row(app, tenant_a.email)
    assert (row.failed_logins, row.lockouts, row.locked_until) == (0, 0, None)
    assert sign_in(app.test_client(), tenant_a.email, "brand-new-pass").status_code == 302


def test_operator_unlocks_a_sole_admin_from_the_command_line(app, client, tenant_a):
    app.config["LOCKOUT_AFTER"] = 3
    for _ in range(3):
        client.post("/api/v1/tokens", json={"email": tenant_a.email, "password": "wrong-pass-99"})
    locked = client.post("/api/v1/tokens", json={"email": tenant_a.email, "password": "secret-pass-1"})
    assert locked.status_code == 423 and locked.get_json()["error"]["code"] == "account_locked"
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "unlock", tenant_a.email.upper()])
    assert result.exit_code == 0 and "unlocked" in result.output, result.output
    assert client.post("/api/v1/tokens", json={"email": tenant_a.email, "password": "secret-pass-1"}).status_code == 200
    assert runner.invoke(args=["users", "unlock", "nobody@nowhere.example"]).exit_code != 0
    audit = tenant_a.call("GET", "/api/v1/audit").get_json()["items"]
    assert any(e["action"] == "user.unlocked" and e["details"].get("via") == "cli" for e in audit)


@pytest.fixture
def limited_app(tmp_path, sqlite_template):
    target = tmp_path / "limited.db"
    shutil.copy(sqlite_template, target)
    app = create_app(
        {
            **_testing(),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{target}",
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://",
            "LOCKOUT_AFTER": 10,
            "PUBLIC_URL": "https://emotiscan.test",
        }
    )
    from app.extensions import limiter

    with app.app_context():
        limiter.reset()
    return app


def test_per_account_throttle_exempts_a_known_device(limited_app):
    app = limited_app
    owner = app.test_client()
    owner.post("/api/v1/signup", json={"organisation": "O", "email": "o@o.example", "password": "secret-pass-1"})
    assert sign_in(owner, "o@o.example", environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 302
    owner.post("/auth/logout", environ_base={"REMOTE_ADDR": "10.9.9.9"})
    attacker = app.test_client()
    codes = [
        sign_in(attacker, "o@o.example", "wrong-pass-99", environ_base={"REMOTE_ADDR": f"10.0.0.{i}"}).status_code
        for i in range(11)
    ]  # a new address each time: only the per-account limit and the lock apply
    assert codes[:10] == [401] * 10 and codes[10] == 429
    unknown = sign_in(app.test_client(), "o@o.example", environ_base={"REMOTE_ADDR": "10.8.8.8"})
    assert unknown.status_code == 429
    assert sign_in(owner, "o@o.example", environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 302


# 2. Redirects ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "/\\evil.example",
        "/%09/evil.example",
        "/\t/evil.example",
        "/%2F/evil.example",
        "/%252F/evil",
        "/%5Cevil.example",
        "https://evil.example",
        "javascript:alert(1)",
        "/ok\r\nSet-Cookie: x=1",
        "/ok%0d%0aSet-Cookie:x=1",
        "%0d%0a",
        "/\n/evil.example",
        " /ok",
        "/ok\x00",
        "evil.example",
        "",
        None,
        "/" + "a" * 3000,
    ],
)
def test_safe_next_refuses(target):
    assert safe_next(target) is None


@pytest.mark.parametrize("target", ["/ok?x=1", "/", "/live?site_id=3", "/reports?q=a%20b", "/admin/users/4#top"])
def test_safe_next_allows_paths_of_the_site(target):
    assert safe_next(target) == target


@pytest.mark.parametrize(
    "raw_next", ["/%09/evil.example/x", "%2F%2Fevil.example", "/%0d%0aSet-Cookie:%20x=1", "%2F%5Cevil.example"]
)
def test_sign_in_never_redirects_off_site(client, tenant_a, raw_next):
    r = client.post(f"/auth/login?next={raw_next}", data={"email": tenant_a.email, "password": "secret-pass-1"})
    assert r.status_code == 302 and r.headers["Location"] == "/live"


def test_sign_in_keeps_a_safe_next(client, tenant_a):
    r = client.post("/auth/login?next=/ok%3Fx%3D1", data={"email": tenant_a.email, "password": "secret-pass-1"})
    assert r.headers["Location"] == "/ok?x=1"


@pytest.mark.parametrize(
    "target,expected",
    [("/\t/evil.example/x", "/"), ("/%09/evil.example/x", "/"), ("/x\r\nSet-Cookie: a=b", "/"), ("/ok?x=1", "/ok?x=1")],
)
def test_language_switch_never_redirects_off_site(client, target, expected):
    r = client.post("/language", data={"locale": "fr", "next": target})
    assert r.status_code == 302 and r.headers["Location"] == expected


# 3. Sessions and tokens -----------------------------------------------------------------------


def test_a_copied_session_cookie_dies_at_sign_out(app, client, tenant_a, revocations):
    assert sign_in(client, tenant_a.email).status_code == 302
    copy = client.get_cookie("session").value
    assert client.get("/api/v1/me").status_code == 200
    client.post("/auth/logout")
    replay = app.test_client()
    replay.set_cookie("session", copy)
    assert replay.get("/api/v1/me").status_code == 401
    assert replay.get("/admin/sites").status_code == 302  # to the sign-in page
    assert connections.Revocation("signed_out", user_id=tenant_a.admin_id) in revocations
    assert tenant_a.call("GET", "/api/v1/me").status_code == 200  # signing out leaves API tokens alone
    assert sign_in(client, tenant_a.email).status_code == 302 and client.get("/api/v1/me").status_code == 200


def test_a_password_reset_ends_old_sessions_and_api_tokens(app, client, tenant_a, revocations):
    assert sign_in(client, tenant_a.email).status_code == 302
    copy = client.get_cookie("session").value
    second = client.post("/api/v1/tokens", json={"email": tenant_a.email, "password": "secret-pass-1"}).get_json()["token"]
    with app.app_context():
        token = accounts.password_reset_token(db.session.get(User, tenant_a.admin_id))
    resetter = app.test_client()
    assert (
        resetter.post(f"/auth/reset/{token}", data={"password": "brand-new-pass", "confirm": "brand-new-pass"}).status_code == 302
    )
    old = app.test_client()
    old.set_cookie("session", copy)
    assert old.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me").status_code == 401
    assert tenant_a.call("GET", "/api/v1/me").status_code == 401
    assert tenant_a.call("GET", "/api/v1/me", token=second).status_code == 401
    assert resetter.get("/api/v1/me").status_code == 200  # the session that the reset opened
    assert connections.Revocation("password_changed", user_id=tenant_a.admin_id) in revocations


def test_a_password_change_on_the_admin_page_ends_that_user_s_sessions_and_tokens(app, client, tenant_a, revocations):
    user, user_token = tenant_a.user("staff")
    their_browser = app.test_client()
    assert sign_in(their_browser, user["email"], "secret-pass-2").status_code == 302
    assert sign_in(client, tenant_a.email).status_code == 302
    admin_copy = client.get_cookie("session").value
    form = {"email": user["email"], "role": "staff", "password": "changed-pass-42"}
    assert client.post(f"/admin/users/{user['id']}", data=form).status_code == 302
    assert tenant_a.call("GET", "/api/v1/me", token=user_token).status_code == 401
    assert their_browser.get("/api/v1/me").status_code == 401
    assert connections.Revocation("password_changed", user_id=user["id"]) in revocations
    # The admin changes their own password: this session stays, copies of the old cookie die.
    form = {"email": tenant_a.email, "role": "admin", "password": "changed-pass-43"}
    assert client.post(f"/admin/users/{tenant_a.admin_id}", data=form).status_code == 302
    assert client.get("/api/v1/me").status_code == 200
    old = app.test_client()
    old.set_cookie("session", admin_copy)
    assert old.get("/api/v1/me").status_code == 401


def test_an_api_token_alone_does_not_change_its_owner_s_password(app, tenant_a):
    """A leaked or integration token must not become the account: the current password is asked
    for, as on the account page, and guessing it through the API counts towards the lock."""
    new = {"password": "Attacker-Chosen-Pass-42"}
    r = tenant_a.call("PATCH", "/api/v1/me", json=new)
    assert r.status_code == 400 and r.get_json()["error"]["fields"] == {"current_password": "required"}
    r = tenant_a.call("PATCH", "/api/v1/me", json={**new, "current_password": "not-the-password"})
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "wrong_password"
    assert user_row(app, tenant_a.email).failed_logins == 1
    assert accounts_check(app, tenant_a.email, "secret-pass-1")  # unchanged
    limit = app.config["LOCKOUT_AFTER"]
    codes = [
        tenant_a.call("PATCH", "/api/v1/me", json={**new, "current_password": f"guess-{i}"}).status_code for i in range(limit)
    ]
    assert codes[: limit - 1] == [403] * (limit - 1) and codes[-1] == 423  # the tenth wrong password locked it
    r = tenant_a.call("PATCH", "/api/v1/me", json={**new, "current_password": "secret-pass-1"})
    assert r.status_code == 423 and r.get_json()["error"]["code"] == "account_locked"  # even the right one now
    set_user(app, tenant_a.email, locked_until=None, failed_logins=0)
    r = tenant_a.call("PATCH", "/api/v1/me", json={**new, "current_password": "secret-pass-1"})
    assert r.status_code == 200 and accounts_check(app, tenant_a.email, new["password"])
    assert tenant_a.call("GET", "/api/v1/me").status_code == 401  # the change ended the token it came through


def accounts_check(app, email: str, password: str) -> bool:
    return user_row(app, email).check_password(password)


def test_a_revoked_token_closes_its_connections(tenant_a, revocations):
    token_id = tenant_a.call("GET", "/api/v1/tokens").get_json()["items"][0]["id"]
    assert tenant_a.call("DELETE", "/api/v1/tokens/current").status_code == 204
    assert connections.Revocation("token_revoked", token_id=token_id) in revocations


# 4. Password rules ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password,reason",
    [
        ("12345678", "too_short"),
        ("password", "too_short"),
        ("short-9ch", "too_short"),
        ("1234567890", "too_common"),
        ("azertyuiop", "too_common"),
        ("Password2024!", "too_common"),
        ("motdepasse", "too_common"),
        ("Soleil-1234", "too_common"),
        ("aaaaaaaaaaaa", "too_common"),
        ("jean.dupont@alpha.example", "personal"),
        ("Jean.Dupont", "personal"),
        ("alpha school", "personal"),
    ],
)
def test_weak_passwords_are_refused(app, password, reason):
    with app.app_context(), pytest.raises(ServiceError) as refused:
        accounts.check_password_strength(password, "Jean.Dupont@alpha.example", "Alpha School")
    assert refused.value.code == "weak_password" and refused.value.fields == {"password": reason}


@pytest.mark.parametrize("password", ["secret-pass-1", "correct horse battery", "  spaces count  ", "Tr0ub4dor&3x"])
def test_reasonable_passwords_are_accepted(app, password):
    with app.app_context():
        accounts.check_password_strength(password, "jean.dupont@alpha.example", "Alpha School")


def test_the_common_list_is_short_and_sourced():
    lines = accounts.COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    assert 100 < len(lines) < 700 and any("Source:" in line for line in lines if line.startswith("#"))
    assert {"password", "1234567890", "azertyuiop", "motdepasse"} <= accounts.common_passwords()


@pytest.mark.parametrize(
    "lang,password,message",
    [
        ("en", "12345678", "at least 10 characters"),
        ("fr", "12345678", "au moins 10 caractères"),
        ("en", "qwertyuiop123", "too common"),
        ("fr", "motdepasse!", "trop courant"),
        ("fr", "Beta Clinic", "ni le nom de votre organisation"),
    ],
)
def test_sign_up_page_explains_a_refused_password(client, lang, password, message):
    r = client.post(
        "/auth/signup",
        data={"organisation": "Beta Clinic", "email": "b@beta.example", "password": password},
        headers={"Accept-Language": lang},
    )
    assert r.status_code == 400 and message in r.get_data(as_text=True).replace("&#39;", "'")
    assert sign_in(client, "b@beta.example", password).status_code == 401  # no account was created


def test_pages_state_the_rule(client):
    assert "Au moins 10 caractères" in client.get("/auth/signup", headers={"Accept-Language": "fr"}).get_data(as_text=True)


def test_passwords_are_kept_exactly_as_typed_on_pages(app):
    client = app.test_client()
    spaced = "  spaced pass phrase  "
    assert (
        client.post("/auth/signup", data={"organisation": "Spaces", "email": "s@s.example", "password": spaced}).status_code
        == 302
    )
    client.post("/auth/logout")
    assert sign_in(client, "s@s.example", spaced.strip()).status_code == 401
    assert sign_in(client, "s@s.example", spaced).status_code == 302


def test_passwords_are_kept_exactly_as_typed_in_the_api(client):
    # Needs the API's schema rewrite (app/api/schemas.py keeps passwords as typed); the former validation stripped them.
    spaced = "secret-pass-1  "
    assert (
        client.post("/api/v1/signup", json={"organisation": "A", "email": "a@a.example", "password": spaced}).status_code == 201
    )
    assert client.post("/api/v1/tokens", json={"email": "a@a.example", "password": spaced}).status_code == 200
    assert client.post("/api/v1/tokens", json={"email": "a@a.example", "password": "secret-pass-1"}).status_code == 401


def test_passwords_are_scrypt_outside_the_in_process_tests():
    """The cheap hash of TestingConfig is for the in-process suite only: the product's default, and so
    make run and every process test, stores scrypt, and an unknown e-mail costs a check of the same kind."""
    from config import Config, TestingConfig

    assert Config.PASSWORD_HASH_METHOD == "scrypt" and TestingConfig.PASSWORD_HASH_METHOD != "scrypt"
    plain = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x", "PASSWORD_HASH_METHOD": "scrypt"})
    with plain.app_context():
        user = User()
        user.set_password("correct horse battery")
        assert user.password_hash.startswith("scrypt:32768:8:1$") and user.check_password("correct horse battery")
    assert accounts._dummy_hash("scrypt").startswith("scrypt:32768:8:1$")
