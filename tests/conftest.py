"""An app per test on a real database: PostgreSQL and SQLite alike.

Each run has its own PostgreSQL database (created on the server of TEST_DATABASE_URL, dropped at
the end) and its own Redis server (started on a free port, stopped at the end), so that two runs
at once, or a run beside someone's processes, never see each other's rows, queues or Socket.IO
messages. The data the tests read is in tests/fixtures (its README).
"""

from __future__ import annotations

import atexit
import ctypes
import io
import json
import lzma
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import pytest
import redis
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

from app import create_app
from app.extensions import db
from app.inference.fer_data import FerSplit, load_split
from config import TestingConfig
from tests import processes
from tests.processes import base_env, free_port, make_run, start_web, start_worker, wait_ready, wait_worker

# The servers; the database name in TEST_DATABASE_URL is only the prefix of this run's own.
PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# Replaced in pytest_configure by this run's own Redis (test modules import it later). The server
# of TEST_REDIS_URL is used only where redis-server is not installed (RunRedis says why).
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/7")
FIXTURES = Path(__file__).resolve().parent / "fixtures"
FACES = FIXTURES  # downscaled copies of the original photos (tests/fixtures/README.md)
FER_SAMPLE = FIXTURES / "fer2013_val_sample.npz.xz"
FER_REFERENCE = FIXTURES / "fer2013_val_sample_reference.json"


@cache
def fer_sample() -> FerSplit:
    """30 FER2013 validation faces of each class (tests/fixtures/README.md)."""
    return load_split(FER_SAMPLE)


def fer_sample_arrays() -> dict[str, np.ndarray]:
    """The sample's other arrays: names, val_index (position in the full split), val_class_counts."""
    with np.load(io.BytesIO(lzma.open(FER_SAMPLE).read()), allow_pickle=False) as archive:
        return {k: archive[k] for k in archive.files}


def fer_sample_votes() -> tuple[np.ndarray, np.ndarray]:
    """FERPlus votes (N, 10) and matched flags of the sample's faces, in the sample's order."""
    with np.load(FIXTURES / "fer2013_val_sample_votes.npz", allow_pickle=False) as archive:
        return archive["votes"].astype(np.int64), archive["matched"].astype(bool)


def fer_reference() -> dict:
    """What each shipped model served on the sample when it was shipped (make_fixtures.py reference)."""
    return json.loads(FER_REFERENCE.read_text())


class RunDatabase:
    """This run's PostgreSQL database, ``<name in TEST_DATABASE_URL>_<pid>_<random>``.

    While the run lives it holds an advisory lock named after the database on a connection to
    the maintenance database; a database marked as a test run whose lock nobody holds belongs to
    a run that was killed (SIGKILL, power) and is dropped by the next run that creates its own.
    """

    MARK = "emotiscan test run"

    def __init__(self, url: str):
        self.server = make_url(url)
        prefix = (self.server.database or "test")[:40]
        self.name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
        self.url: str | None = None
        self._engine = None
        self._holder = None

    def _maintenance(self):
        last: Exception | None = None
        for name in ("postgres", "template1"):
            engine = create_engine(self.server.set(database=name), isolation_level="AUTOCOMMIT", poolclass=NullPool)
            try:
                engine.connect().close()
                return engine
            except Exception as exc:  # noqa: BLE001 - try the next maintenance database
                last = exc
                engine.dispose()
        raise last  # type: ignore[misc]

    @staticmethod
    def _lock(conn, name: str, sql: str):
        return conn.execute(text(f"SELECT {sql}(hashtext('emotiscan-test-run'), hashtext(:name))"), {"name": name}).scalar()

    def create(self) -> str:
        self._engine = self._maintenance()
        self._holder = self._engine.connect()
        self._lock(self._holder, self.name, "pg_advisory_lock")
        self._sweep()
        self._holder.execute(text(f'CREATE DATABASE "{self.name}"'))
        self._holder.execute(text(f"COMMENT ON DATABASE \"{self.name}\" IS '{self.MARK} on {socket.gethostname()}'"))
        self.url = self.server.set(database=self.name).render_as_string(hide_password=False)
        return self.url

    def _sweep(self) -> None:
        marked = text("SELECT datname FROM pg_database WHERE shobj_description(oid, 'pg_database') LIKE :mark")
        stale = self._holder.execute(marked, {"mark": self.MARK + "%"}).scalars().all()
        for name in stale:
            if self._lock(self._holder, name, "pg_try_advisory_lock"):
                self._holder.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                self._lock(self._holder, name, "pg_advisory_unlock")

    def drop(self) -> None:
        if self._holder is None:
            return
        try:
            self._holder.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        finally:
            self._holder.close()
            self._engine.dispose()
            self._holder = self._engine = None


class RunRedis:
    """This run's own redis-server on a free port, in memory, ended with the run.

    Its own server, not a database number of a shared one: the app's keys, Celery's queues and
    rate limits would be apart in another number, but Redis Pub/Sub is server-wide, and the
    Socket.IO message queue (channel "flask-socketio") and the revocation channel would carry one
    run's observations to the other run's sockets (tenant 1 in both). The server gets SIGKILL
    if pytest dies without cleaning up (PR_SET_PDEATHSIG).
    """

    def __init__(self):
        self.proc: subprocess.Popen | None = None
        self.dir: Path | None = None
        self.fallback = RedisClaim(REDIS_URL)

    @staticmethod
    def _die_with_parent() -> None:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG

    def acquire(self) -> str:
        binary = shutil.which("redis-server")
        if binary is None:
            return self.fallback.acquire()
        self.dir = Path(tempfile.mkdtemp(prefix="emotiscan-redis-"))
        for _ in range(3):
            port = free_port()
            self.proc = subprocess.Popen(
                [
                    binary,
                    "--port",
                    str(port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(self.dir),
                    "--logfile",
                    str(self.dir / "redis.log"),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=self._die_with_parent,
            )
            url = f"redis://127.0.0.1:{port}/0"
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    if redis.Redis.from_url(url, socket_timeout=1).ping():
                        return url
                except redis.RedisError:
                    time.sleep(0.05)
            self._stop()  # the port was taken meanwhile, or it did not start: another port
        raise pytest.UsageError(f"redis-server did not start: {(self.dir / 'redis.log').read_text()[-2000:]}")

    def _stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def release(self) -> None:
        self._stop()
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
        self.fallback.release()


class RedisClaim:
    """Where redis-server is not installed: one database number of the server of TEST_REDIS_URL.

    A claim is a key in database 0 (which no test flushes), set only if absent and kept alive
    by a thread: a killed run's claim lapses after TTL seconds. The number named in
    TEST_REDIS_URL is tried first. Keys, queues and limits are apart; Pub/Sub is not (RunRedis).
    """

    TTL = 90
    REFRESH = """local v = redis.call('GET', KEYS[1])
if v == false or v == ARGV[1] then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) return 1 end return 0"""

    def __init__(self, url: str):
        self.base = url
        self.token = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.key: str | None = None
        self.number: int | None = None
        self._stop = threading.Event()

    def _url(self, number: int) -> str:
        return urlunsplit(urlsplit(self.base)._replace(path=f"/{number}"))

    def acquire(self) -> str:
        """This run's REDIS_URL, or TEST_REDIS_URL unchanged when the server cannot be reached."""
        named = urlsplit(self.base).path.strip("/")
        # When TEST_REDIS_URL is unset, 7 comes last: the number that every run shared before claims.
        order = [int(named)] if os.environ.get("TEST_REDIS_URL") and named.isdigit() and int(named) > 0 else []
        order += [n for n in (*range(1, 7), *range(8, 16), 7) if n not in order]
        try:
            control = redis.Redis.from_url(self._url(0), socket_timeout=5)
            for number in order:
                key = f"emotiscan:test-run:redis-db:{number}"
                if control.set(key, self.token, nx=True, ex=self.TTL):
                    candidate = redis.Redis.from_url(self._url(number), socket_timeout=5)
                    try:
                        candidate.flushdb()  # what a killed run left behind
                    except redis.ResponseError:  # a server with fewer databases
                        control.delete(key)
                        continue
                    self.key, self.number = key, number
                    break
        except redis.RedisError:
            return self.base
        if self.key is None:
            raise pytest.UsageError("every Redis database 1-15 is claimed by another test run")
        threading.Thread(target=self._keep, args=(control,), daemon=True, name="redis-claim").start()
        return self._url(self.number)

    def _keep(self, control: redis.Redis) -> None:
        while not self._stop.wait(self.TTL / 3):
            try:
                control.eval(self.REFRESH, 1, self.key, self.token, self.TTL)
            except redis.RedisError:
                pass

    def release(self) -> None:
        if self.key is None:
            return
        self._stop.set()
        key, self.key = self.key, None
        try:
            redis.Redis.from_url(self._url(self.number), socket_timeout=5).flushdb()
            control = redis.Redis.from_url(self._url(0), socket_timeout=5)
            control.eval(
                "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0", 1, key, self.token
            )
        except redis.RedisError:
            pass


_run_database = RunDatabase(PG_URL)
_run_redis = RunRedis()


def _finish() -> None:
    """End of the run, however it ends (also from atexit): processes first, then the databases."""
    processes.stop_all()
    _run_database.drop()
    _run_redis.release()


atexit.register(_finish)


def _interrupted(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config):
    global REDIS_URL
    REDIS_URL = _run_redis.acquire()
    # SIGTERM and SIGHUP end the run as Ctrl-C does: fixtures tear down, processes are stopped,
    # this run's databases are dropped.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) is signal.SIG_DFL and threading.current_thread() is threading.main_thread():
            signal.signal(sig, _interrupted)


def pytest_report_header(config):
    return f"test databases: PostgreSQL {_run_database.name} (on first use), Redis {REDIS_URL}"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """With ``-n 2 --dist loadgroup`` (make test), every test that starts processes or a browser
    runs on one worker, one at a time as in a serial run, so that their timings never compete with
    each other; the in-process tests share the other worker and the gaps. tryfirst: the group mark
    must be there before xdist reads it."""
    for item in items:
        if item.get_closest_marker("process") or item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.xdist_group("processes"))


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef, request):
    """Processes started by a module- or session-scoped fixture live as long as it does."""
    with processes.started_for(fixturedef.scope):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After the test's own fixtures have stopped what they started, stop whatever a failing
    test or fixture left running (its whole process group)."""
    try:
        return (yield)
    finally:
        processes.stop_all(scope="function")


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    processes.stop_all()


def pytest_unconfigure(config):
    _finish()


# Where the browser tests save their screenshots (tests/system/test_browser.py reads the same variable).
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", Path(__file__).resolve().parents[1] / "test-screenshots"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config) -> None:
    """The screenshot folder's path at the end of every run, passed or not, so that a CI log leads
    to the pictures of each step (the browser tests print it only in their captured output)."""
    if SCREENSHOTS.is_dir():
        terminalreporter.write_sep("-", "screenshots")
        terminalreporter.write_line(f"browser test screenshots: {SCREENSHOTS.resolve()}")


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
def pg_database():
    """This run's own PostgreSQL database, migrated; dropped at the end of the session."""
    url = _run_database.create()
    try:
        migrate(url)
        yield url
    finally:
        processes.stop_all()  # nothing may still hold a connection
        _run_database.drop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("db") / "template.db"
    migrate(f"sqlite:///{path}")
    return path


def truncate_all(url: str) -> None:
    """Empty every table and restart every id sequence. DELETE, children first, then setval: on the
    few rows a test leaves this takes milliseconds, where TRUNCATE (new files for each table and
    index) took 0.2-0.35 s after each of the suite's PostgreSQL tests."""
    engine = create_engine(url)
    with engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())
        sequences = conn.execute(text("SELECT relname FROM pg_class WHERE relkind = 'S'")).scalars().all()
        for name in sequences:
            conn.execute(text("SELECT setval(CAST(:name AS regclass), 1, false)"), {"name": f'"{name}"'})
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
        r = self.call(
            "POST", "/api/v1/users", json={"email": email, "password": "secret-pass-2", "role": role, "site_ids": site_ids or []}
        )
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
    with make_run(tmp_path) as (base, proc, _):
        yield base, proc


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
