"""An app per test on a real database: PostgreSQL (the `test` database) and SQLite alike."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
import redis
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text

from app import create_app
from app.extensions import db
from config import TestingConfig
from tests.processes import Proc, base_env, free_port, start_web, start_worker, wait_ready, wait_worker

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/7")
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
FACES = SHARED / "faces"
FER = SHARED / "fer2013"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def migrate(url: str) -> None:
    """Build the schema with the project's migrations (so that they are tested too)."""
    from flask_migrate import downgrade, upgrade

    app = create_app({**_testing(), "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        if url.startswith("postgresql"):
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
        if url.startswith("postgresql"):
            downgrade(revision="base")  # the downgrade path works too
            upgrade()
        db.engine.dispose()


def _testing() -> dict:
    return {k: getattr(TestingConfig, k) for k in dir(TestingConfig) if k.isupper()}


@pytest.fixture(scope="session")
def pg_database() -> str:
    migrate(PG_URL)
    return PG_URL


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("db") / "template.db"
    migrate(f"sqlite:///{path}")
    return path


def truncate_all(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = ", ".join(t.name for t in reversed(db.metadata.sorted_tables))
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request, tmp_path, sqlite_template):
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_database")
    else:
        target = tmp_path / "app.db"
        shutil.copy(sqlite_template, target)
        url = f"sqlite:///{target}"
    application = create_app({**_testing(), "SQLALCHEMY_DATABASE_URI": url, "PUBLIC_URL": "https://emotiscan.test"})
    # No app context stays pushed: each request gets its own, as in production (g is per request).
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    if request.param == "postgresql":
        truncate_all(url)


@pytest.fixture
def client(app):
    return app.test_client()


class Tenant:
    """A signed-up organisation seen through the API: its admin token and helpers."""

    def __init__(self, client, name: str):
        self.client = client
        email = f"admin@{name.lower().replace(' ', '-')}.example"
        r = client.post("/api/v1/signup", json={"organisation": name, "email": email, "password": "secret-pass-1"})
        assert r.status_code == 201, r.get_json()
        body = r.get_json()
        self.id, self.token, self.email = body["tenant"]["id"], body["token"], email
        self.admin_id = body["user"]["id"]

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}

    def call(self, method: str, path: str, token: str | None = None, **kwargs):
        headers = {"Authorization": f"Bearer {token or self.token}"}
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def site(self, name: str = "Gate") -> dict:
        r = self.call("POST", "/api/v1/sites", json={"name": name, "timezone": "Europe/Paris"})
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    def camera(self, site_id: int, name: str = "Tablet") -> dict:
        r = self.call("POST", "/api/v1/cameras", json={"site_id": site_id, "name": name})
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    def user(self, role: str, site_ids: list[int] | None = None) -> tuple[dict, str]:
        email = f"{role}-{os.urandom(3).hex()}@x.example"
        r = self.call("POST", "/api/v1/users", json={"email": email, "password": "secret-pass-2", "role": role,
                                                     "site_ids": site_ids or []})
        assert r.status_code == 201, r.get_json()
        token = self.client.post("/api/v1/tokens", json={"email": email, "password": "secret-pass-2"}).get_json()["token"]
        return r.get_json(), token


@pytest.fixture
def tenant_a(client):
    return Tenant(client, "Alpha School")


@pytest.fixture
def tenant_b(client):
    return Tenant(client, "Beta Clinic")


@pytest.fixture
def embedded(tmp_path):
    """The app started exactly as `make run` starts it (CSRF, limits and headers on)."""
    port = free_port()
    env = base_env(tmp_path, port)
    proc = Proc(["make", "--no-print-directory", "run", f"PORT={port}", "THREADS=64"], env, tmp_path / "make-run.log")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, proc)
        yield base, proc
    finally:
        proc.stop()




@pytest.fixture
def distributed(tmp_path, pg_database):
    """PostgreSQL, Redis message queue and a real Celery worker process."""
    r = redis.Redis.from_url(REDIS_URL)
    r.flushdb()
    port = free_port()
    env = base_env(tmp_path, port, DATABASE_URL=pg_database, REDIS_URL=REDIS_URL)
    web = start_web(tmp_path, env, port)
    worker = start_worker(tmp_path, env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, web)
        wait_worker(worker)
        yield base, web, worker, env
    finally:
        worker.stop()
        web.stop()
        truncate_all(pg_database)
        r.flushdb()


class Inbox:
    def __init__(self):
        self.messages: list[tuple[str, str]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((envelope.rcpt_tos[0], envelope.content.decode("utf-8", "replace")))
        return "250 OK"

    def wait(self, count: int = 1, timeout: float = 5) -> None:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.messages) >= count, "no e-mail arrived"


@pytest.fixture
def smtp(app):
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    yield inbox
    controller.stop()
