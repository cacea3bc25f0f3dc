"""Open Socket.IO connections per web process: N viewers and cameras held open against `make run`
while /healthz is timed (printed figures, no assertions).

The clients speak engine.io v4 over WebSocket themselves (one thread answers every ping with
``select``), so that the load generator costs little beside the server on the same cores.
"""

from __future__ import annotations

import select
import statistics
import tempfile
import threading
import time
from pathlib import Path

import requests
import websocket

from tests.engineio_client import RawSocket
from tests.processes import Proc, base_env, free_port, wait_ready


def hold(sockets: list[RawSocket], stop: threading.Event) -> None:
    """Keep every socket alive (pongs) until ``stop``."""
    alive = {s.ws.sock: s for s in sockets if s.ws.sock}
    while alive and not stop.is_set():
        ready, _, _ = select.select(list(alive), [], [], 0.5)
        for sock in ready:
            if not alive[sock].pump():
                alive.pop(sock)


def time_healthz(base: str, seconds: float) -> list[float]:
    samples: list[float] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        start = time.perf_counter()
        try:
            requests.get(base + "/healthz", timeout=5).raise_for_status()
            samples.append((time.perf_counter() - start) * 1000)
        except requests.RequestException:
            samples.append(5000.0)
        time.sleep(0.1)
    return samples


def rss_mb(pid: int) -> float:
    total = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            total = int(line.split()[1]) / 1024
    return total


def threads_of(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/task").iterdir()))


def gunicorn_worker_pid(parent: int) -> int:
    """The gunicorn worker: the newest python process below ``make run``."""
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                stat = (proc / "stat").read_text().split()
                cmd = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            if b"gunicorn" in cmd:
                pids.append((int(stat[21]), int(proc.name)))
    return max(pids)[1] if pids else parent


def bench_connections(viewers: int = 950, cameras: int = 50) -> None:
    print(
        f"## Open Socket.IO connections: {viewers} /live viewers + {cameras} /capture cameras on one web process "
        "(make run, THREADS=1200)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = base_env(tmp, port, RATELIMIT_ENABLED="0")
        proc = Proc(["make", "--no-print-directory", "run", f"PORT={port}"], env, tmp / "run.log")
        sockets: list[RawSocket] = []
        stop = threading.Event()
        try:
            wait_ready(base, proc)
            quiet = time_healthz(base, 3)
            signup = requests.post(
                base + "/api/v1/signup",
                json={"organisation": "Bench", "email": "b@bench.example", "password": "bench-pass-2026!"},
            ).json()
            headers = {"Authorization": f"Bearer {signup['token']}"}
            site = requests.post(base + "/api/v1/sites", json={"name": "Hall"}, headers=headers).json()
            tokens = [
                requests.post(
                    base + "/api/v1/cameras", json={"site_id": site["id"], "name": f"c{i}", "fps": 1}, headers=headers
                ).json()["capture_token"]
                for i in range(cameras)
            ]
            start = time.monotonic()
            for token in tokens:
                sockets.append(RawSocket(base, "/capture", {"token": token}))
            for _ in range(viewers):
                sockets.append(RawSocket(base, "/live", {"token": signup["token"]}))
            opened = time.monotonic() - start
            joined = sum(s.joined for s in sockets)
            holder = threading.Thread(target=hold, args=(sockets, stop), daemon=True)
            holder.start()
            loaded = time_healthz(base, 20)
            worker = gunicorn_worker_pid(proc.popen.pid)
            metrics = requests.get(base + "/metrics", timeout=5).text
            gauges = {
                line.split()[0]: line.split()[1]
                for line in metrics.splitlines()
                if line.startswith(("emotiscan_live_connections", "emotiscan_capture_connections"))
            }
            print(f"opened {len(sockets)} connections in {opened:.1f} s, {joined} authorised; server gauges {gauges}")
            for name, samples in (("idle", quiet), (f"with {len(sockets)} open", loaded)):
                q = statistics.quantiles(samples, n=20)
                print(
                    f"/healthz {name}: p50 {statistics.median(samples):.1f} ms, p95 {q[18]:.1f} ms, "
                    f"max {max(samples):.1f} ms ({len(samples)} requests)"
                )
            print(f"web worker process: {rss_mb(worker):.0f} MB resident, {threads_of(worker)} threads")
            stop.set()
            holder.join(2)
            for s in sockets:
                s.close()
            sockets.clear()
            # Unauthorised engine.io connections: refused past the per-address cap, closed after the timeout.
            pending = []
            refused = 0
            for _ in range(64):
                try:
                    pending.append(RawSocket(base, None, None, timeout=5))
                except (websocket.WebSocketException, OSError):
                    refused += 1
            start = time.monotonic()
            alive = list(pending)
            while alive and time.monotonic() - start < 15:
                ready, _, _ = select.select([s.ws.sock for s in alive], [], [], 0.5)
                alive = [s for s in alive if s.ws.sock not in ready or s.pump()]
            print(
                f"64 unauthorised engine.io sockets from one address: {len(pending)} accepted, {refused} refused, "
                f"all closed by the server after {time.monotonic() - start:.1f} s"
                if not alive
                else f"{len(alive)} still open after 15 s"
            )
        finally:
            stop.set()
            for s in sockets:
                s.close()
            proc.stop()


if __name__ == "__main__":
    bench_connections()
