"""`make loadtest`: N cameras (Socket.IO clients sending a real face frame) for T seconds against
the distributed mode (gunicorn + Celery workers on PostgreSQL and Redis) started here. Prints
frames/s analysed, latency percentiles (frame sent -> observation on /live), stale frames,
errors, the resident memory of the web and worker processes over time (growth check), and the
headline figures as ratios to the pure pipeline measured in the same run (issue 15)."""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

import redis

from benchmarks import pure
from benchmarks.run import frame_640, tree_cpu_s, tree_rss_mb
from tests.conftest import PG_URL, REDIS_URL, migrate, truncate_all
from tests.processes import (
    ApiClient,
    Camera,
    LiveListener,
    base_env,
    free_port,
    start_web,
    start_worker,
    wait_ready,
    wait_worker,
)


def percentile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def window_latency(listener: LiveListener, sent: dict[str, float], lock: threading.Lock, start: int) -> str:
    """p50 / p99 / max of the observations that arrived since the last progress line (finds stalls)."""
    window = listener.observations[start:]
    with lock:
        values = sorted(
            (listener.arrivals[o["frame_id"]] - sent[o["frame_id"]]) * 1000
            for o in window
            if o["frame_id"] in sent and o["frame_id"] in listener.arrivals
        )
    if not values:
        return "-"
    return f"p50 {percentile(values, 0.5):.0f} / p99 {percentile(values, 0.99):.0f} / max {values[-1]:.0f} ms"


def latency_parts(listener: LiveListener) -> str:
    """Where the time goes: camera -> web process (ack path), web -> analysed (queue and worker),
    analysed -> viewer (fan-out), from the timestamps each observation carries."""
    parts: dict[str, list[float]] = {"to web": [], "queue + analysis": [], "to viewer": []}
    for o in listener.observations:
        arrival = listener.arrivals.get(o.get("frame_id"))
        if arrival is None or o.get("client_ts") is None:
            continue
        parts["to web"].append(o["ts"] - o["client_ts"])
        parts["queue + analysis"].append(o["latency_ms"])
        parts["to viewer"].append(arrival * 1000 - o["ts"] - o["latency_ms"])
    return ", ".join(f"{k} {percentile(sorted(v), 0.5):.0f} / {percentile(sorted(v), 0.99):.0f} ms" for k, v in parts.items())


def cpu_use(web, pool) -> dict[str, float]:
    """CPU seconds so far of the web process, the workers, and this load generator."""
    return {
        "web": tree_cpu_s(web.popen.pid),
        "workers": sum(tree_cpu_s(w.popen.pid) for w in pool),
        "load generator": time.process_time(),
    }


def run(cameras: int, fps: float, seconds: float, sample_s: float, workers: int, tenants: int = 1) -> None:
    migrate(PG_URL)
    r = redis.Redis.from_url(REDIS_URL)
    r.flushdb()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = base_env(tmp, port, DATABASE_URL=PG_URL, REDIS_URL=REDIS_URL)
        web = start_web(tmp, env, port, threads=1200)  # as `make run-distributed`: a thread per WebSocket
        pool = [start_worker(tmp, env, f"w{i + 1}") for i in range(workers)]
        try:
            wait_ready(base, web)
            for w in pool:
                wait_worker(w)
            # Cameras dealt to the tenants in turn; one /live viewer per tenant, recording into one list.
            clients = [ApiClient(base, f"Load test {t + 1}") for t in range(tenants)]
            cams = [clients[i % tenants].camera() for i in range(cameras)]
            listeners = [LiveListener(base, c.token) for c in clients]
            listener = listeners[0]
            for other in listeners[1:]:
                other.observations, other.arrivals = listener.observations, listener.arrivals
            jpeg = frame_640("deepface_img15.jpg")
            pure_before = pure.measure()  # the same cores, undisturbed by the load (again after it)
            sent: dict[str, float] = {}
            errors: dict[str, int] = {}
            error_times: list[float] = []
            lock = threading.Lock()
            stop_at = time.monotonic() + seconds

            def camera(cam: dict, offset: float) -> None:
                try:
                    client = Camera(base, cam["capture_token"])
                except Exception as exc:  # noqa: BLE001 - counted, reported
                    with lock:
                        errors[f"connect: {type(exc).__name__}"] = errors.get(f"connect: {type(exc).__name__}", 0) + 1
                    return
                # Cameras start out of step, as real ones do (a burst of N frames at t=0 measures nothing).
                period = 1.0 / fps
                next_at = time.monotonic() + offset * period
                time.sleep(max(0.0, next_at - time.monotonic()))
                while time.monotonic() < stop_at:
                    started = time.time()
                    try:
                        ack = client.send(jpeg)
                    except Exception as exc:  # noqa: BLE001
                        ack = {"ok": False, "error": type(exc).__name__}
                    with lock:
                        if ack.get("ok"):
                            sent[ack["frame_id"]] = started
                        else:
                            errors[ack.get("error", "?")] = errors.get(ack.get("error", "?"), 0) + 1
                            error_times.append(time.monotonic() - t0)
                    next_at += period
                    time.sleep(max(0.0, next_at - time.monotonic()))
                client.close()

            threads = [threading.Thread(target=camera, args=(c, i / len(cams)), daemon=True) for i, c in enumerate(cams)]
            t0 = time.monotonic()
            cpu0 = cpu_use(web, pool)
            for t in threads:
                t.start()
            print(
                f"# {cameras} cameras x {fps:g} frames/s over {tenants} tenant(s) for {seconds:.0f} s "
                f"(distributed: 1 web process, {workers} worker process(es))"
            )
            memory = []
            shown = 0
            while any(t.is_alive() for t in threads):
                time.sleep(min(sample_s, max(0.1, stop_at - time.monotonic() + 0.5)))
                elapsed = time.monotonic() - t0
                web_mb, worker_mb = tree_rss_mb(web.popen.pid), sum(tree_rss_mb(w.popen.pid) for w in pool)
                memory.append((elapsed, web_mb, worker_mb))
                print(
                    f"t={elapsed:5.0f}s analysed {len(listener.observations):6d} frames "
                    f"({len(listener.observations) / elapsed:5.1f}/s), web {web_mb:.0f} MB, worker {worker_mb:.0f} MB, "
                    f"latency since last line {window_latency(listener, sent, lock, shown)}",
                    flush=True,
                )
                shown = len(listener.observations)
            time.sleep(3)
            for each in listeners:
                each.close()
            received = {o["frame_id"] for o in listener.observations}
            latencies = sorted((listener.arrivals[f] - sent[f]) * 1000 for f in received if f in sent)
            lost = len([f for f in sent if f not in received])
            stale = int(r.hget("emotiscan:counters", "frames_stale") or 0)
            duration = time.monotonic() - t0
            cpu = {k: v - cpu0[k] for k, v in cpu_use(web, pool).items()}
            pure_after = pure.measure()
            pure_fps = (pure_before["fps"] + pure_after["fps"]) / 2
            pure_ms = (pure_before["ms"] + pure_after["ms"]) / 2
            print("## Summary")
            print(f"model {', '.join(sorted({o.get('model_version', '?') for o in listener.observations})) or '-'}")
            print(
                f"frames sent {len(sent)}, analysed {len(received)} ({len(received) / seconds:.1f}/s), stale dropped {stale}, "
                f"accepted but not analysed {lost}"
            )
            print(
                f"latency p50 {percentile(latencies, 0.5):.0f} ms, p95 {percentile(latencies, 0.95):.0f} ms, "
                f"p99 {percentile(latencies, 0.99):.0f} ms, max {latencies[-1] if latencies else float('nan'):.0f} ms"
            )
            print(f"latency parts (p50 / p99): {latency_parts(listener)}")
            print(f"errors (refused acks, timeouts, connection failures): {sum(errors.values())} {errors or ''}")
            if error_times:
                print(f"errors between t={min(error_times):.1f}s and t={max(error_times):.1f}s")
            per_frame = " ".join(f"{k} {v * 1000 / max(1, len(received)):.1f} ms" for k, v in cpu.items())
            print(
                f"CPU used: {' '.join(f'{k} {v / duration:.2f} cores' for k, v in cpu.items())} (per analysed frame: {per_frame})"
            )
            cores = os.cpu_count() or 1
            rate = len(received) / seconds
            plumbing_ms = (cpu["web"] + cpu["workers"]) * 1000 / max(1, len(received))
            p50, p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)
            print(
                f"## Figures (pure pipeline on {cores} cores, one process each: {pure_fps:.0f} frames/s, {pure_ms:.1f} ms "
                f"of CPU per frame; {pure_before['fps']:.0f} before the load, {pure_after['fps']:.0f} after)"
            )
            print(f"analysed {rate:.1f} frames/s = {rate / pure_fps:.2f} x the pure pipeline's frames/s")
            print(
                f"latency p50 {p50:.0f} ms, p95 {p95:.0f} ms = {p50 / pure_ms:.1f} x / {p95 / pure_ms:.1f} x the pure frame time"
            )
            print(
                f"CPU per analysed frame (web + workers) {plumbing_ms:.1f} ms "
                f"= {pure_ms / plumbing_ms:.2f} x the pure pipeline's frames/s per core"
            )
            if len(memory) >= 3:
                warm = memory[len(memory) // 4]  # after warm-up: caches and pools filled
                print(
                    f"memory web {warm[1]:.0f} -> {memory[-1][1]:.0f} MB, worker {warm[2]:.0f} -> {memory[-1][2]:.0f} MB "
                    f"(from t={warm[0]:.0f}s to t={memory[-1][0]:.0f}s of {duration:.0f}s)"
                )
            print(
                f"tracebacks in logs: web {web.output().count('Traceback')}, "
                f"workers {sum(w.output().count('Traceback') for w in pool)}"
            )
            for proc in (web, *pool):
                log = proc.output()
                if "Traceback" in log:  # show the first one: a load test must explain its failures
                    at = log.index("Traceback")
                    print(f"first traceback in {proc.log.name}:\n{log[max(0, at - 300) : at + 3000]}")
        finally:
            for w in pool:
                w.stop()
            web.stop()
            truncate_all(PG_URL)
            r.flushdb()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cameras", type=int, default=20)
    parser.add_argument("--fps", type=float, default=2.0)
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--sample", type=float, default=30.0, help="seconds between progress and memory lines")
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes (one per core)")
    parser.add_argument("--tenants", type=int, default=1, help="organisations the cameras are dealt to in turn")
    args = parser.parse_args()
    run(args.cameras, args.fps, args.seconds, args.sample, args.workers, args.tenants)
