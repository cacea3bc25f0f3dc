"""Security headers, sign-in throttles, catalogues and language choice."""

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from app import create_app
from tests.conftest import _testing

TRANSLATIONS = Path(__file__).resolve().parents[2] / "app" / "translations"


def test_html_security_headers(client):
    r = client.get("/auth/login")
    csp = r.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"]
    assert b"<script>" not in r.data  # no inline scripts


def test_health_ready_metrics(client, tenant_a):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["checks"]["database"] is True
    text = client.get("/metrics").get_data(as_text=True)
    assert "emotiscan_frames_received_total 0" in text and "emotiscan_tenants 1" in text
    assert "Alpha School" not in text


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_catalogue_complete(lang):
    catalog = read_po((TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb"))
    template = read_po((TRANSLATIONS / "messages.pot").open("rb"))
    ids = {m.id for m in template if m.id}
    assert ids <= {m.id for m in catalog if m.id}, "catalogue misses template strings: run make i18n-extract"
    for message in catalog:
        if not message.id:
            continue
        assert "fuzzy" not in message.flags, message.id
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(s.strip() for s in strings), f"empty translation for {message.id!r}"


def test_language_from_browser_and_choice(client):
    assert "Se connecter" in client.get("/auth/login", headers={"Accept-Language": "fr-FR,fr;q=0.9"}).get_data(as_text=True)
    assert "Sign in" in client.get("/auth/login", headers={"Accept-Language": "en-GB"}).get_data(as_text=True)
    client.post("/language", data={"locale": "fr", "next": "/auth/login"})
    assert "Mot de passe" in client.get("/auth/login", headers={"Accept-Language": "en"}).get_data(as_text=True)


@pytest.fixture
def limited_client(tmp_path, sqlite_template):
    import shutil

    db = tmp_path / "l.db"
    shutil.copy(sqlite_template, db)
    app = create_app(
        {
            **_testing(),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db}",
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    from app.extensions import limiter

    with app.app_context():
        limiter.reset()
    return app.test_client()


def test_failed_token_requests_are_throttled_per_account(limited_client):
    c = limited_client
    signup = {"organisation": "A", "email": "a@a.example", "password": "secret-pass-1"}
    assert c.post("/api/v1/signup", json=signup).status_code == 201
    for _ in range(10):
        assert c.post("/api/v1/tokens", json={"email": "a@a.example", "password": "wrong-pass"}).status_code == 401
    r = c.post("/api/v1/tokens", json={"email": "a@a.example", "password": "secret-pass-1"})
    assert r.status_code == 429 and r.get_json()["error"]["code"] == "rate_limited"
    assert int(r.headers["Retry-After"]) > 0


def test_successful_sign_ins_are_not_counted(limited_client):
    c = limited_client
    c.post("/api/v1/signup", json={"organisation": "A", "email": "b@a.example", "password": "secret-pass-1"})
    for _ in range(12):
        assert c.post("/api/v1/tokens", json={"email": "b@a.example", "password": "secret-pass-1"}).status_code == 200


def test_signup_limited_per_address(limited_client):
    codes = [
        limited_client.post(
            "/api/v1/signup", json={"organisation": "X", "email": f"u{i}@x.example", "password": "secret-pass-1"}
        ).status_code
        for i in range(11)
    ]
    assert codes[:10] == [201] * 10 and codes[10] == 429


def test_api_calls_are_rate_limited_per_token(sqlite_template, tmp_path):
    import shutil

    from app import create_app
    from tests.conftest import _testing

    target = tmp_path / "limits.db"
    shutil.copy(sqlite_template, target)
    app = create_app(
        {
            **_testing(),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{target}",
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://",
            "API_LIMIT": "5 per minute",
        }
    )
    client = app.test_client()
    token = client.post(
        "/api/v1/signup", json={"organisation": "Limits", "email": "l@x.example", "password": "secret-pass-1"}
    ).get_json()["token"]
    codes = [client.get("/api/v1/sites", headers={"Authorization": f"Bearer {token}"}).status_code for _ in range(6)]
    assert codes[:4] == [200] * 4 and codes[-1] == 429  # the sign-up call counted for the address, not the token
    limited = client.get("/api/v1/sites", headers={"Authorization": f"Bearer {token}"})
    assert limited.get_json()["error"]["code"] == "rate_limited" and int(limited.headers["Retry-After"]) > 0
    other = client.post(
        "/api/v1/signup", json={"organisation": "Other", "email": "o@x.example", "password": "secret-pass-1"}
    ).get_json()["token"]
    assert client.get("/api/v1/sites", headers={"Authorization": f"Bearer {other}"}).status_code == 200


def test_lockout_after_repeated_failures_and_admin_unlock(app, client, tenant_a):
    app.config["LOCKOUT_AFTER"] = 3
    user, _ = tenant_a.user("manager")
    for _ in range(3):
        assert client.post("/api/v1/tokens", json={"email": user["email"], "password": "wrong-pass-9"}).status_code == 401
    locked = client.post("/api/v1/tokens", json={"email": user["email"], "password": "secret-pass-2"})
    assert locked.status_code == 423 and locked.get_json()["error"]["code"] == "account_locked"  # even the right password
    page = client.post(
        "/auth/login", data={"email": user["email"], "password": "secret-pass-2"}, headers={"Accept-Language": "en"}
    )
    assert page.status_code == 423 and "locked" in page.get_data(as_text=True)
    assert tenant_a.call("GET", f"/api/v1/users/{user['id']}").get_json()["locked_until"]
    client.post("/auth/login", data={"email": tenant_a.email, "password": "secret-pass-1"})
    assert "Unlock the account" in client.get(f"/admin/users/{user['id']}", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    assert client.post(f"/admin/users/{user['id']}/unlock").status_code == 302
    client.post("/auth/logout")
    assert client.post("/api/v1/tokens", json={"email": user["email"], "password": "secret-pass-2"}).status_code == 200
    audit = tenant_a.call("GET", "/api/v1/audit").get_json()["items"]
    assert {"user.locked", "user.unlocked"} <= {e["action"] for e in audit}


def test_json_log_lines_carry_the_request_id(client):
    import json
    import logging

    from app.logs import JsonFormatter

    r = client.get("/healthz", headers={"X-Request-Id": "abc123def456"})
    assert r.headers["X-Request-Id"] == "abc123def456"
    made = client.get("/healthz", headers={"X-Request-Id": "bad id with spaces"}).headers["X-Request-Id"]
    assert len(made) == 32 and " " not in made
    with client.application.test_request_context("/api/v1/sites"):
        from flask import g

        g.request_id = "req-42-abcdef"
        line = JsonFormatter().format(logging.LogRecord("app", logging.WARNING, __file__, 1, "frame refused", None, None))
    entry = json.loads(line)
    assert entry["request_id"] == "req-42-abcdef" and entry["level"] == "warning" and entry["path"] == "/api/v1/sites"


@pytest.mark.parametrize(
    "path, data",
    [
        ("/auth/login", {"email": "a\x00@x.example", "password": "whatever-pass"}),
        ("/auth/signup", {"organisation": "Evil\x00Org", "email": "e@x.example", "password": "long-enough-pass-1"}),
        ("/auth/forgot", {"email": "nul\x00@x.example"}),
    ],
)
def test_nul_characters_in_forms_are_a_400_not_a_500(client, path, data):
    assert client.post(path, data=data).status_code == 400
    assert client.get(path + "?next=%00").status_code == 400
