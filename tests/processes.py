"""Start the app and Celery workers as real processes on free local ports (process tests)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
import socketio

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proc:
    """A child process in its own session, its output kept in a file for failure reports."""

    def __init__(self, args: list[str], env: dict, log: Path):
        self.log = log
        self.handle = log.open("wb")
        self.popen = subprocess.Popen(args, cwd=ROOT, env=env, stdout=self.handle, stderr=subprocess.STDOUT,
                                      start_new_session=True)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(5)
        self.handle.close()

    def output(self) -> str:
        """The whole log (searched by tests); slice it for failure messages."""
        return self.log.read_text(errors="replace")


def base_env(tmp: Path, port: int, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "TASK_MODE"))}
    env.update(INSTANCE_PATH=str(tmp / "instance"), PORT=str(port), PUBLIC_URL=f"http://127.0.0.1:{port}",
               PATH=f"{BIN}:{env.get('PATH', '')}", PYTHONUNBUFFERED="1", SECRET_KEY="process-test-key",
               OUTBOUND_ALLOW_NETWORKS="127.0.0.0/8")  # webhook receivers of process tests listen on 127.0.0.1
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


def start_web(tmp: Path, env: dict, port: int, threads: int = 128) -> Proc:
    subprocess.run([str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    return Proc([str(BIN / "gunicorn"), "--config", "gunicorn.conf.py", "--workers", "1", "--threads", str(threads),
                 "--bind", f"127.0.0.1:{port}",
                 "--timeout", "60", "wsgi:app"], env, tmp / f"web-{port}.log")


def start_worker(tmp: Path, env: dict, name: str = "w1") -> Proc:
    return Proc([str(BIN / "celery"), "-A", "celery_worker", "worker", "--pool", "solo", "--queues", "frames,notifications",
                 "--hostname", f"{name}@%h", "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
                env, tmp / f"worker-{name}.log")


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
        r = requests.post(base + "/api/v1/signup", json={"organisation": organisation, "email": email,
                                                          "password": "secret-pass-1"}, timeout=10)
        assert r.status_code == 201, r.text
        self.token = r.json()["token"]
        self.email = email
        self.tenant_id = r.json()["tenant"]["id"]

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, self.base + path, headers={"Authorization": f"Bearer {self.token}"},
                                timeout=15, **kwargs)

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
        self.sio.connect(base, namespaces=["/live"], auth={"token": token}, transports=["websocket"], wait_timeout=10)

    def _on(self, data):
        self.arrivals[data.get("frame_id")] = time.time()
        self.observations.append(data)
        self.event.set()

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
        return self.sio.call("frame", {"ts": int(time.time() * 1000), "jpeg": jpeg}, namespace="/capture",
                             timeout=timeout)

    def close(self) -> None:
        self.sio.disconnect()
