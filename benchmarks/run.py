"""`make bench`: prints pipeline, latency, memory and model figures (no assertions).

Reads the data folder named by EMOTISCAN_DATA (faces/, fer2013/) or else the committed test
fixtures; needs PostgreSQL and Redis for the distributed figures, like the test suite.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("INFERENCE_THREADS", "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# The originals, not the tests' downscaled fixtures: the figures are on the whole validation split.
# The full-size photos and the whole validation split, when a data folder is given (EMOTISCAN_DATA,
# holding faces/ and fer2013/); else the committed fixtures (downscaled photos, 210 faces), so that
# `make bench` runs in a clone with nothing beside it. The figures say which data they used.
DATA = Path(os.environ["EMOTISCAN_DATA"]) if os.environ.get("EMOTISCAN_DATA") else None
FIXTURES = ROOT / "tests" / "fixtures"
FACES = DATA / "faces" if DATA else FIXTURES
FER_SPLIT = DATA / "fer2013" / "val.npz.xz" if DATA else FIXTURES / "fer2013_val_sample.npz.xz"

from app.inference.detector import FaceDetector  # noqa: E402
from app.inference.fer_data import load_split  # noqa: E402
from app.inference.pipeline import analyze_jpeg  # noqa: E402
from app.inference.preprocessing import to_model_input  # noqa: E402
from app.inference.registry import get_models  # noqa: E402
from tests.conftest import PG_URL, REDIS_URL  # noqa: E402
from tests.processes import (  # noqa: E402,E501
    ApiClient,
    Camera,
    LiveListener,
    Proc,
    base_env,
    free_port,
    start_web,
    start_worker,
    wait_ready,
    wait_worker,
)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def tree_pids(pid: int) -> list[int]:
    """A process and its descendants (make -> gunicorn -> worker)."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            continue
        found.append(p)
        todo.extend(int(c) for c in children)
    return found


def tree_rss_mb(pid: int) -> float:
    """RSS of a process and its children."""
    total = 0.0
    for p in tree_pids(pid):
        try:
            total += rss_mb(p)
        except OSError:  # exited meanwhile
            continue
    return total


def tree_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and its children."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0.0
    for p in tree_pids(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def frame_640(name: str) -> bytes:
    image = cv2.imread(str(FACES / name))
    h, w = image.shape[:2]
    scale = min(640 / w, 480 / h)
    resized = cv2.resize(image, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA)
    canvas = np.zeros((480, 640, 3), np.uint8)
    canvas[: resized.shape[0], : resized.shape[1]] = resized
    return cv2.imencode(".jpg", canvas, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes()


def six_faces_640() -> bytes:
    """A 640x480 mosaic of six real faces (3 x 2 tiles), all large enough to be classified."""
    names = [
        "deepface_img1.jpg",
        "deepface_img15.jpg",
        "deepface_img11.jpg",
        "deepface_img32.jpg",
        "deepface_img1.jpg",
        "deepface_img15.jpg",
    ]
    canvas = np.zeros((480, 640, 3), np.uint8)
    detector = FaceDetector("full")
    for i, name in enumerate(names):
        image = cv2.imread(str(FACES / name))
        x, y, w, h = detector.detect(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))[0].box
        pad = int(max(w, h) * 0.6)
        crop = image[max(0, y - pad) : y + h + pad, max(0, x - pad) : x + w + pad]
        tile = cv2.resize(crop, (213, 240), interpolation=cv2.INTER_AREA)
        r, c = divmod(i, 3)
        canvas[r * 240 : (r + 1) * 240, c * 213 : c * 213 + 213] = tile
    return cv2.imencode(".jpg", canvas, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes()


def pure_cpu_ms(jpeg: bytes, models, frames: int = 50) -> float:
    """CPU ms per frame of decode, detect and classify alone, after a warm-up, in this process."""
    for _ in range(5):
        analyze_jpeg(jpeg, models.detector, models.classifier)
    c0 = time.process_time()
    for _ in range(frames):
        analyze_jpeg(jpeg, models.detector, models.classifier)
    return (time.process_time() - c0) / frames * 1000


def bench_pipeline() -> None:
    models = get_models()
    print("## Pipeline per 640x480 frame, one core (INFERENCE_THREADS=1)")
    for label, jpeg in (("1 face", frame_640("deepface_img15.jpg")), ("6 faces", six_faces_640())):
        for _ in range(5):
            analyze_jpeg(jpeg, models.detector, models.classifier)
        runs = [analyze_jpeg(jpeg, models.detector, models.classifier) for _ in range(50)]
        parts = {k: statistics.median(r.timings_ms[k] for r in runs) for k in ("decode", "detect", "classify")}
        faces = len(runs[0].faces)
        total = sum(parts.values())
        print(
            f"{label:8s} ({faces} found): decode {parts['decode']:.1f} ms, detect {parts['detect']:.1f} ms, "
            f"classify {parts['classify']:.1f} ms, total {total:.1f} ms (median of 50)"
        )


def bench_detector() -> None:
    """Recall and false positives on the hand-labelled frames, and ms per 640x480 frame."""
    from tests.fixtures.faces.recall import frames, score

    print("## Face detector on the labelled frames (tests/fixtures/faces, IoU >= 0.5), one core")
    frame = next(f for kind, name, f, _ in frames(FACES) if kind == "photo" and name == "fc_test_image.jpg")
    for label, detector in (
        ("default (full range, score 0.4, 5% border)", FaceDetector()),
        ("previous (full range, score 0.5, no border)", FaceDetector(min_score=0.5, margin=0.0)),
    ):
        result = score(detector.detect, FACES)
        for _ in range(20):
            detector.detect(frame)
        runs = []
        for _ in range(200):
            t0 = time.perf_counter()
            detector.detect(frame)
            runs.append((time.perf_counter() - t0) * 1000)
        parts = ", ".join(f"{k} {v['found']}/{v['faces']}" for k, v in result.items() if k != "all")
        print(
            f"{label}: recall {result['all']['recall']:.3f} ({result['all']['found']}/{result['all']['faces']}; {parts}), "
            f"{result['all']['fp_per_frame']:.2f} false positives per frame, {statistics.median(runs):.2f} ms per frame"
        )


def classify_cpu_ms(classifier, faces: np.ndarray, seconds: float = 2.0) -> float:
    """CPU ms per face of one face at a time (a batch of 1, mirrored copy included where the card
    asks for it), as a worker classifies a one-face frame. Real faces, in turn: where the card
    mirrors only unsure faces, the cost depends on the face, and this is its mean."""
    for i in range(20):
        classifier.predict(faces[i % len(faces)][None])
    cpu0, t0, n = time.thread_time(), time.perf_counter(), 0
    while time.perf_counter() - t0 < seconds:
        classifier.predict(faces[n % len(faces)][None])
        n += 1
    return (time.thread_time() - cpu0) * 1000 / n


def bench_model() -> None:
    """Every shipped model: cost per face against the lighter model (issue 17's yardstick: the
    32-64-128-256 network with its mirrored copy), size, and accuracy on both label sets."""
    from app.inference.evaluation import evaluate_split
    from app.inference.ferplus import load_votes
    from app.inference.registry import FAST_MODEL_DIR, SHIPPED_MODEL_DIRS

    print("## Classifiers (LiteRT, one core; cost = CPU ms per face at batch 1, ratio to the lighter model)")
    split = load_split(FER_SPLIT)
    if DATA:
        votes, matched = load_votes(DATA / "fer2013" / "ferplus_votes.npz", len(split))
    else:
        with np.load(FIXTURES / "fer2013_val_sample_votes.npz") as sample:
            votes, matched = sample["votes"].astype(np.int64), sample["matched"].astype(bool)
    where = "whole validation split" if DATA else "fixture sample of the validation split"
    classifiers = {d: get_models(d).classifier for d in SHIPPED_MODEL_DIRS}
    faces = to_model_input(split.images[np.random.default_rng(0).permutation(len(split))[:500]])
    # Interleaved rounds, the median kept: the ratio stays fair when the machine's speed drifts.
    rounds = {d: [] for d in SHIPPED_MODEL_DIRS}
    for _ in range(3):
        for d, clf in classifiers.items():
            rounds[d].append(classify_cpu_ms(clf, faces, 1.0))
    reference = statistics.median(rounds[FAST_MODEL_DIR])
    for d, clf in classifiers.items():
        card = json.loads((d / "model.json").read_text())
        members = len(card["architecture"].get("members", [card["architecture"]]))
        size = sum(f.stat().st_size for f in d.glob("*.tflite")) / 1e6
        ms = statistics.median(rounds[d])
        x = faces[:32]  # real faces: a gated model mirrors only the unsure ones
        t0, n = time.perf_counter(), 0
        while time.perf_counter() - t0 < 1.0:
            clf.predict(x)
            n += 32
        batch_rate = n / (time.perf_counter() - t0)  # before the evaluation below, which is not timed
        report = evaluate_split(split, clf, votes, matched)
        gate = ""
        if clf.card.flip_tta and clf.card.flip_below < 1.0:
            share = float((clf.predict_network(to_model_input(split.images)).max(1) < clf.card.flip_below).mean())
            gate = f" for faces below {clf.card.flip_below} ({share:.0%} of these)"
        plus = (
            f", FERPlus majority {report['ferplus_majority_accuracy']:.4f} (ECE {report['ferplus_ece']:.3f}, "
            f"fear {report['ferplus_per_class_recall']['fear']:.3f}, sad {report['ferplus_per_class_recall']['sad']:.3f})"
            if "ferplus_majority_accuracy" in report
            else ""
        )
        print(
            f"{d.name} ({clf.version}; {members} network(s), {'with' if card.get('flip_tta', True) else 'without'} "
            f"mirrored copy{gate}, {card.get('weights_storage', 'float16')}, {size:.2f} MB): {ms:.2f} ms per face = "
            f"{ms / reference:.2f} x the lighter model, {batch_rate:.0f} faces/s at batch 32; "
            f"FER2013 labels {report['accuracy']:.4f}{plus} ({where}, n={report['n']})"
        )
    bench_keras()


def bench_keras() -> None:
    """The same network in Keras (JAX backend, CPU), for the runtime comparison."""
    import subprocess

    code = """
import os, time, json, numpy as np
os.environ['KERAS_BACKEND'] = 'jax'
from app.training.weights_io import keras_model_from_card
from app.inference.registry import DEFAULT_MODEL_DIR
model = keras_model_from_card(DEFAULT_MODEL_DIR)
copies = 2 if json.loads((DEFAULT_MODEL_DIR / "model.json").read_text()).get("flip_tta", True) else 1
for batch in (1, 32):
    x = np.random.default_rng(0).random((copies * batch, 48, 48, 1), dtype=np.float32)  # mirrored copies too
    predict = lambda: model.predict_on_batch(x)  # the compiled (jit) inference path
    predict(); predict()
    t0, n = time.perf_counter(), 0
    while time.perf_counter() - t0 < 2.0:
        predict(); n += batch
    print(json.dumps({'batch': batch, 'faces_per_s': n / (time.perf_counter() - t0)}))
"""
    env = {
        **os.environ,
        "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
        "PYTHONPATH": str(ROOT),
    }
    out = subprocess.run(
        ["taskset", "-c", "0", sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300
    )
    for line in out.stdout.splitlines():
        row = json.loads(line)
        print(f"Keras 3 (JAX) batch {row['batch']:2d}: {row['faces_per_s']:.0f} faces/s on one core")


def bench_intake(frames: int = 2000) -> None:
    """Web CPU per accepted frame in accept_frame itself (checks, admission, counters, dispatch
    replaced by a no-op): SQLite with the memory store (embedded), then with Redis (distributed)."""
    from app import create_app, jobs
    from app.extensions import db
    from app.models import Camera as CameraRow
    from app.services.admission import release_frame
    from app.services.intake import ANALYZE_TASK, IntakeSession, accept_frame
    from tests.conftest import RunRedis, Tenant, _testing

    print(f"## Intake: web CPU per accepted frame in accept_frame ({frames} frames, 640x480 JPEG)")
    jpeg = frame_640("deepface_img15.jpg")
    own_redis = RunRedis()  # a redis-server of its own: nobody else's keys are touched
    for mode, redis_url in (("embedded", None), ("distributed", own_redis.acquire())):
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/intake.db"
            app = create_app({**_testing(), "SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": redis_url or ""})
            with app.app_context():
                db.create_all()
            tenant = Tenant(app.test_client(), f"Intake {mode}")
            cam = tenant.camera(tenant.site()["id"])
            previous, queued = jobs._senders.get(ANALYZE_TASK), []
            jobs._senders[ANALYZE_TASK] = lambda *args, q=queued: q.append(args)
            try:
                with app.app_context():
                    session = IntakeSession.for_camera(db.session.get(CameraRow, cam["id"]))
                    session.fps = 10**6  # the rate limiter never refuses here
                    assert accept_frame(session, jpeg)["ok"]
                    cpu = wall = 0.0
                    accepted = 0
                    for _ in range(frames):
                        c0, w0 = time.process_time(), time.perf_counter()
                        ack = accept_frame(session, jpeg)
                        cpu, wall = cpu + time.process_time() - c0, wall + time.perf_counter() - w0
                        accepted += ack["ok"]
                        while queued:  # the worker's release, outside the measured time
                            tenant_id, _, camera_id, frame_id = queued.pop()[:4]
                            release_frame(tenant_id, camera_id, frame_id)
                    db.session.remove()
                    db.engine.dispose()
            finally:
                if previous is None:
                    jobs._senders.pop(ANALYZE_TASK, None)
                else:
                    jobs._senders[ANALYZE_TASK] = previous
            print(
                f"{mode:11s}: {cpu / frames * 1e6:.0f} us CPU, {wall / frames * 1e6:.0f} us wall per frame "
                f"({accepted}/{frames} accepted)"
            )
    own_redis.release()


def bench_worker(frames: int = 192) -> None:
    """Worker CPU per analysed single-face frame in process_batch (analysis, tracks, one rule,
    storage, bookkeeping; emits excluded), by batch size, on PostgreSQL and Redis as in the
    distributed mode; each figure also as a ratio to the pure pipeline's frames/s here."""
    from app import create_app
    from app.extensions import db
    from app.services.analysis import Frame, process_batch
    from tests.conftest import PG_URL, RunDatabase, RunRedis, Tenant, _testing, migrate

    jpeg = frame_640("deepface_img15.jpg")
    models = get_models()
    pure_ms = pure_cpu_ms(jpeg, models)
    pure = f"pure pipeline {pure_ms:.1f} ms = {1000 / pure_ms:.0f} frames/s per core"
    print(f"## Worker: CPU per analysed 1-face frame by batch size ({pure})")
    database, own_redis = RunDatabase(PG_URL), RunRedis()
    url = database.create()
    try:
        migrate(url)
        app = create_app({**_testing(), "SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": own_redis.acquire(), "STALE_FRAME_S": 600.0})
        tenant = Tenant(app.test_client(), "Worker bench")
        site = tenant.site()
        cams = [tenant.camera(site["id"], f"Cam {i}") for i in range(4)]
        tenant.call(
            "POST", "/api/v1/alert-rules", json={"emotion": "joy", "threshold": 0.6, "duration_s": 4, "site_id": site["id"]}
        )
        with app.app_context():
            n = 0
            for size in (1, 4, 16):
                start = time.time() - 60
                c0 = time.process_time()
                for first in range(0, frames, size):
                    batch = [
                        Frame(tenant.id, site["id"], cams[i % 4]["id"], f"b{size}-{i}", start + n * 0.01 + i * 0.01, jpeg)
                        for i in range(first, first + size)
                    ]
                    process_batch(batch)
                ms = (time.process_time() - c0) / frames * 1000
                n += frames
                rate = f"{1000 / ms:.0f} frames/s per core = {pure_ms / ms:.2f} x pure pipeline"
                print(f"batch {size:2d}: {ms:.1f} ms CPU per frame, {rate}")
            # Six faces per frame, in batches of the default size: what a busy checkout costs.
            six = six_faces_640()
            pure6_ms = pure_cpu_ms(six, models, 20)
            size, count = app.config["FRAME_BATCH_MAX"], frames // 4
            start = time.time() - 60
            c0 = time.process_time()
            for first in range(0, count, size):
                batch = [
                    Frame(tenant.id, site["id"], cams[i % 4]["id"], f"six-{i}", start + i * 0.01, six)
                    for i in range(first, first + size)
                ]
                process_batch(batch)
            ms = (time.process_time() - c0) / count * 1000
            print(
                f"6-face frames, batch {size}: {ms:.1f} ms CPU per frame = {ms / 6:.1f} ms per face, "
                f"{1000 / ms:.0f} frames/s per core = {pure6_ms / ms:.2f} x the pure pipeline's 6-face frame ({pure6_ms:.1f} ms)"
            )
            db.session.remove()
            db.engine.dispose()
    finally:
        own_redis.release()
        database.drop()


def drive_cameras(base: str, cameras: int, fps: float, seconds: float) -> dict:
    tenant = ApiClient(base, "Bench")
    cams = [tenant.camera() for _ in range(cameras)]
    listener = LiveListener(base, tenant.token)
    jpeg = frame_640("deepface_img15.jpg")
    sent: dict[str, float] = {}
    errors, lock = [0], threading.Lock()

    def run(cam: dict, offset: float) -> None:
        client = Camera(base, cam["capture_token"])
        # Cameras out of step, as real ones are: all sending at the same instant measures a burst.
        period, end = 1.0 / fps, time.monotonic() + seconds
        next_at = time.monotonic() + offset * period
        time.sleep(max(0.0, next_at - time.monotonic()))
        while time.monotonic() < end:
            started = time.time()
            ack = client.send(jpeg)
            with lock:
                if ack.get("ok"):
                    sent[ack["frame_id"]] = started
                else:
                    errors[0] += 1
            next_at += period
            time.sleep(max(0.0, next_at - time.monotonic()))
        client.close()

    threads = [threading.Thread(target=run, args=(c, i / len(cams))) for i, c in enumerate(cams)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    time.sleep(2.5)
    received = {o["frame_id"]: o for o in listener.observations}
    listener.close()
    # Client side: from just before the frame is sent to the observation's arrival on /live.
    latencies = sorted((listener.arrivals[fid] - sent[fid]) * 1000 for fid in received if fid in sent)
    pct = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else float("nan")  # noqa: E731
    return {"sent": len(sent), "received": len(received), "refused": errors[0], "p50": pct(0.5), "p95": pct(0.95)}


def bench_end_to_end() -> None:
    print(
        "## End to end, frame sent -> observation received on /live (5 frames/s per camera, 15 s; "
        "distributed: web + 2 worker processes)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        port = free_port()
        proc = Proc(["make", "--no-print-directory", "run", f"PORT={port}"], base_env(tmp, port), tmp / "run.log")
        try:
            wait_ready(f"http://127.0.0.1:{port}", proc)
            for n in (1, 10):
                r = drive_cameras(f"http://127.0.0.1:{port}", n, 5, 15)
                print(
                    f"embedded    {n:2d} cameras: p50 {r['p50']:.0f} ms, p95 {r['p95']:.0f} ms, "
                    f"{r['received']}/{r['sent']} analysed, {r['refused']} refused (busy/rate)"
                )
            print(f"embedded web process (analysis inside): {tree_rss_mb(proc.popen.pid):.0f} MB resident")
        finally:
            proc.stop()
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        port = free_port()
        env = base_env(tmp, port, DATABASE_URL=PG_URL, REDIS_URL=REDIS_URL)
        web = start_web(tmp, env, port)
        workers = [start_worker(tmp, env, f"w{i + 1}") for i in range(2)]  # one per core
        try:
            wait_ready(f"http://127.0.0.1:{port}", web)
            for worker in workers:
                wait_worker(worker)
            for n in (1, 10):
                r = drive_cameras(f"http://127.0.0.1:{port}", n, 5, 15)
                print(
                    f"distributed {n:2d} cameras: p50 {r['p50']:.0f} ms, p95 {r['p95']:.0f} ms, "
                    f"{r['received']}/{r['sent']} analysed, {r['refused']} refused (busy/rate)"
                )
            counters = redis.Redis.from_url(REDIS_URL).hgetall("emotiscan:counters")
            print(f"stale frames dropped: {int(counters.get(b'frames_stale', 0))}")
            rss = " + ".join(f"{tree_rss_mb(w.popen.pid):.0f}" for w in workers)
            print(f"resident memory: web {tree_rss_mb(web.popen.pid):.0f} MB, workers {rss} MB")
        finally:
            for worker in workers:
                worker.stop()
            web.stop()


if __name__ == "__main__":
    from benchmarks.agent import bench_agent
    from benchmarks.connections import bench_connections
    from benchmarks.gateway import bench_gateway
    from benchmarks.reports import bench_reports

    bench_pipeline()
    bench_detector()
    bench_model()
    bench_intake()
    bench_worker()
    bench_end_to_end()
    bench_connections()
    bench_agent()
    bench_gateway()
    bench_reports()
