"""Hands a frame to analysis: a Celery worker, a local thread pool (embedded), or the calling
thread (tests)."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from flask import Flask, current_app

from app import jobs

log = logging.getLogger(__name__)
_executors: dict = {}


def _load_models(model_dir: str) -> None:
    from app.inference.registry import get_models

    get_models(model_dir)


def _run_in_app(app: Flask, *args) -> None:
    from app.tasks.analyze import analyze_and_publish

    with app.app_context():
        try:
            analyze_and_publish(*args)
        except Exception:  # noqa: BLE001 - keep the pool alive
            log.exception("frame analysis failed")


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
        app = current_app._get_current_object()
        pool = _executors.get(id(app))
        if pool is None:
            # Each analysis thread loads its models before it takes a frame.
            pool = _executors[id(app)] = ThreadPoolExecutor(
                app.config["EMBEDDED_WORKER_THREADS"], "analysis", initializer=_load_models, initargs=(app.config["MODEL_DIR"],)
            )
        pool.submit(_run_in_app, app, *args)
    else:
        _run_in_app(current_app._get_current_object(), *args)


# Intake (app/services/intake.py) asks for frames by task name; this module sends them.
jobs.register_sender("emotiscan.analyze_frame", dispatch_frame)
