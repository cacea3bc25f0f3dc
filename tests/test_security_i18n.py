"""Security headers, sign-in throttles, catalogues and language choice."""

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from app import create_app
from tests.conftest import _testing

TRANSLATIONS = Path(__file__).resolve().parents[1] / "app" / "translations"


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
    app = create_app({**_testing(), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db}", "RATELIMIT_ENABLED": True,
                      "RATELIMIT_STORAGE_URI": "memory://"})
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
    codes = [limited_client.post("/api/v1/signup", json={"organisation": "X", "email": f"u{i}@x.example",
                                                          "password": "secret-pass-1"}).status_code for i in range(11)]
    assert codes[:10] == [201] * 10 and codes[10] == 429
