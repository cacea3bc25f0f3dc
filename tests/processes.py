"""Start the app and Celery workers as real processes on free local ports (process tests)."""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import requests
import socketio

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Every Proc not yet stopped, and the fixture scope it was started for ("function" for a test
# body or a function-scoped fixture): conftest stops each test's leftovers when the test ends,
# and everything at the end of the session; atexit covers runs outside pytest (benchmarks).
_live: dict[Proc, str] = {}
_scopes: list[str] = []
_lock = threading.Lock()


@contextlib.contextmanager
def started_for(scope: str):
    """Procs started inside belong to a fixture of this scope (conftest wraps fixture setup)."""
    _scopes.append(scope)
    try:
        yield
    finally:
        _scopes.pop()


def stop_all(scope: str | None = None) -> None:
    """Stop every live Proc (of that scope only, when given), each with its whole process group."""
    with _lock:
        procs = [p for p, s in _live.items() if scope is None or s == scope]
    for proc in procs:
        proc.stop(timeout=5)


class Proc:
    """A child process in its own session and process group, its output kept in a file for
    failure reports. stop() ends the whole group (make -> gunicorn -> its workers), even after
    the group's leader has exited."""

    def __init__(self, args: list[str], env: dict, log: Path):
        self.log = log
        self.handle = log.open("wb")
        self.popen = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=self.handle, stderr=subprocess.STDOUT, start_new_session=True
        )
        with _lock:
            _live[self] = _scopes[-1] if _scopes else "function"

    def _signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, sig)

    def _group_alive(self) -> bool:
        """Whether a member of the group still runs (zombies, which nobody may reap, do not count)."""
        self.popen.poll()  # reap the leader if it has exited
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                state, _, pgrp = stat.read_text().rsplit(")", 1)[1].split()[:3]
            except (OSError, IndexError, ValueError):
                continue
            if int(pgrp) == self.popen.pid and state not in ("Z", "X"):
                return True
        return False

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
        if self._group_alive():
            self._signal_group(sig)
            deadline = time.monotonic() + timeout
            while self._group_alive() and time.monotonic() < deadline:
                time.sleep(0.1)
            if self._group_alive():
                self._signal_group(signal.SIGKILL)
                deadline = time.monotonic() + 5
                while self._group_alive() and time.monotonic() < deadline:
                    time.sleep(0.1)
        self.popen.poll()
        self.handle.close()
        with _lock:
            _live.pop(self, None)

    def output(self) -> str:
        """The whole log (searched by tests); slice it for failure messages."""
        return self.log.read_text(errors="replace")


atexit.register(stop_all)


def base_env(tmp: Path, port: int, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "TASK_MODE"))}
    env.update(
        INSTANCE_PATH=str(tmp / "instance"),
        PORT=str(port),
        PUBLIC_URL=f"http://127.0.0.1:{port}",
        PATH=f"{BIN}:{env.get('PATH', '')}",
        PYTHONUNBUFFERED="1",
        SECRET_KEY="process-test-key",
        OUTBOUND_ALLOW_NETWORKS="127.0.0.0/8",
    )  # webhook receivers of process tests listen on 127.0.0.1
    env.update(extra)
    return env


def wait_ready(url: str, proc: Proc, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            raise AssertionError(f"process exited early:\n{proc.output()[-4000:]}")
        try:
            if requests.get(url + "/api/v1/openapi.json", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise AssertionError(f"not ready after {timeout}s:\n{proc.output()[-4000:]}")


@contextlib.contextmanager
def make_run(tmp: Path, threads: int = 64, **extra: str) -> Iterator[tuple[str, Proc, dict]]:
    """The app started exactly as `make run` starts it (``extra``: more settings), ready, stopped
    on exit: (base URL, process, its environment)."""
    port = free_port()
    env = base_env(tmp, port, **extra)
    proc = Proc(["make", "--no-print-directory", "run", f"PORT={port}", f"THREADS={threads}"], env, tmp / "make-run.log")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, proc)
        yield base, proc, env
    finally:
        proc.stop()


def start_web(tmp: Path, env: dict, port: int, threads: int = 128) -> Proc:
    subprocess.run([str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    return Proc(
        [
            str(BIN / "gunicorn"),
            "--config",
            "gunicorn.conf.py",
            "--workers",
            "1",
            "--threads",
            str(threads),
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "60",
            "wsgi:app",
        ],
        env,
        tmp / f"web-{port}.log",
    )


def start_worker(tmp: Path, env: dict, name: str = "w1") -> Proc:
    return Proc(
        [
            str(BIN / "celery"),
            "-A",
            "celery_worker",
            "worker",
            "--pool",
            "solo",
            "--queues",
            "frames,notifications",
            "--hostname",
            f"{name}@%h",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
        ],
        env,
        tmp / f"worker-{name}.log",
    )


def wait_worker(proc: Proc, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "ready." in proc.output():
            return
        if proc.popen.poll() is not None:
            break
        time.sleep(0.3)
    raise AssertionError(f"worker not ready:\n{proc.output()[-4000:]}")


class ApiClient:
    """A tenant through the public HTTP API only."""

    def __init__(self, base: str, organisation: str):
        self.base = base
        email = f"admin-{os.urandom(4).hex()}@{organisation.lower().replace(' ', '')}.example"
        r = requests.post(
            base + "/api/v1/signup", json={"organisation": organisation, "email": email, "password": "secret-pass-1"}, timeout=10
        )
        assert r.status_code == 201, r.text
        self.token = r.json()["token"]
        self.email = email
        self.tenant_id = r.json()["tenant"]["id"]

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, self.base + path, headers={"Authorization": f"Bearer {self.token}"}, timeout=15, **kwargs)

    def camera(self) -> dict:
        site = self.call("POST", "/api/v1/sites", json={"name": "Gate", "timezone": "Europe/Paris"}).json()
        r = self.call("POST", "/api/v1/cameras", json={"site_id": site["id"], "name": "Tablet", "fps": 5})
        assert r.status_code == 201, r.text
        return r.json()


class LiveListener:
    """A /live Socket.IO client (WebSocket transport) that records observations."""

    def __init__(self, base: str, token: str):
        self.observations: list[dict] = []
        self.arrivals: dict[str, float] = {}
        self.event = threading.Event()
        self.sio = socketio.Client(reconnection=True)
        self.sio.on("observation", self._on, namespace="/live")
        self.sio.on("observations", self._on_batch, namespace="/live")  # a batch's frames of one site
        self.sio.connect(base, namespaces=["/live"], auth={"token": token}, transports=["websocket"], wait_timeout=10)

    def _on(self, data):
        self.arrivals[data.get("frame_id")] = time.time()
        self.observations.append(data)
        self.event.set()

    def _on_batch(self, items):
        for data in items:
            self._on(data)

    def wait(self, count: int = 1, timeout: float = 30) -> bool:
        deadline = time.monotonic() + timeout
        while len(self.observations) < count and time.monotonic() < deadline:
            self.event.wait(0.2)
            self.event.clear()
        return len(self.observations) >= count

    def close(self) -> None:
        self.sio.disconnect()


class Camera:
    """A /capture Socket.IO client sending frames and collecting acknowledgements."""

    def __init__(self, base: str, token: str):
        self.sio = socketio.Client(reconnection=False)
        self.sio.connect(base, namespaces=["/capture"], auth={"token": token}, transports=["websocket"], wait_timeout=10)

    def send(self, jpeg, timeout: float = 10) -> dict:
        return self.sio.call("frame", {"ts": int(time.time() * 1000), "jpeg": jpeg}, namespace="/capture", timeout=timeout)

    def close(self) -> None:
        self.sio.disconnect()
