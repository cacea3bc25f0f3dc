"""Hands a frame to analysis: a Celery worker, the embedded mode's analysis threads, or the
calling thread (tests).

Embedded: frames wait in an in-process queue; each of ``EMBEDDED_WORKER_THREADS`` threads takes
the first frame waiting, then whatever else arrives within ``FRAME_BATCH_WAIT_S`` (at most
``FRAME_BATCH_MAX``), and analyses them as one batch (app/tasks/analyze.py), as the distributed
frames worker does."""

from __future__ import annotations

import logging
import queue
import threading
import time

from flask import Flask, current_app

from app import jobs

log = logging.getLogger(__name__)
_queues: dict[int, queue.SimpleQueue] = {}
_queues_lock = threading.Lock()


def _load_models(model_dir: str) -> None:
    from app.inference.registry import get_models

    get_models(model_dir)


def take_batch(frames: queue.SimpleQueue, size: int, wait_s: float) -> list:
    """The first frame (blocking), then those that arrive within ``wait_s``, up to ``size``."""
    batch = [frames.get()]
    deadline = time.monotonic() + wait_s
    while len(batch) < size:
        try:
            batch.append(frames.get_nowait())
        except queue.Empty:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                batch.append(frames.get(timeout=left))
            except queue.Empty:
                break
    return batch


def _analysis_thread(app: Flask, frames: queue.SimpleQueue) -> None:
    from app.services.admission import ThroughputMeter
    from app.tasks.analyze import analyze_batch_and_publish

    _load_models(app.config["MODEL_DIR"])  # before the first frame
    meter = ThroughputMeter(threading.current_thread().name)  # sizes admission, as a frames worker's
    while True:
        batch = take_batch(frames, app.config["FRAME_BATCH_MAX"], app.config["FRAME_BATCH_WAIT_S"])
        started = time.monotonic()
        with app.app_context():
            try:
                payloads = analyze_batch_and_publish(batch)
                end = time.monotonic()
                meter.add(sum(1 for p in payloads if p is not None), end - started, end)
            except Exception:  # noqa: BLE001 - keep the thread alive
                log.exception("frame analysis failed")


def _run_in_app(app: Flask, *args) -> None:
    from app.tasks.analyze import analyze_and_publish

    with app.app_context():
        try:
            analyze_and_publish(*args)
        except Exception:  # noqa: BLE001 - keep the caller alive
            log.exception("frame analysis failed")


def _embedded_queue(app: Flask) -> queue.SimpleQueue:
    with _queues_lock:
        frames = _queues.get(id(app))
        if frames is None:
            frames = _queues[id(app)] = queue.SimpleQueue()
            for n in range(app.config["EMBEDDED_WORKER_THREADS"]):
                threading.Thread(target=_analysis_thread, args=(app, frames), name=f"analysis-{n}", daemon=True).start()
        return frames


def dispatch_frame(
    tenant_id: int, site_id: int, camera_id: int, frame_id: str, received_at: float, jpeg: bytes, client_ts: float | None
) -> None:
    mode = current_app.config["TASK_MODE"]
    args = (tenant_id, site_id, camera_id, frame_id, received_at, jpeg, client_ts)
    if mode == "celery":
        from app.tasks.analyze import analyze_frame

        # argsrepr keeps the JPEG bytes out of Celery's logs and events (frames never reach a log).
        analyze_frame.apply_async(
            args=args, serializer="msgpack", argsrepr=f"(tenant={tenant_id}, camera={camera_id}, frame={frame_id})"
        )
    elif mode == "thread":
        from app.services.analysis import Frame

        _embedded_queue(current_app._get_current_object()).put(Frame(*args))
    else:
        _run_in_app(current_app._get_current_object(), *args)


# Intake (app/services/intake.py) asks for frames by task name; this module sends them.
jobs.register_sender("emotiscan.analyze_frame", dispatch_frame)
