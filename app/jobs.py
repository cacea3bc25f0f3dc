"""Background work by task name, below services: a Celery task in the distributed mode, the
app's thread pool in the embedded mode, at once in tests (``TASK_MODE=eager``).

A service registers the plain function behind a task name (:func:`register`) and asks for it
with :func:`enqueue`; ``app/tasks/`` defines the Celery tasks of the same names. So services
never import the task modules, and the embedded mode runs the same functions without Celery.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from flask import current_app

log = logging.getLogger(__name__)

_functions: dict[str, Callable] = {}
_senders: dict[str, Callable] = {}
_pools: dict[int, ThreadPoolExecutor] = {}

# Celery queues by task name; frames go to the default "frames" queue.
QUEUES = {"emotiscan.deliver_webhook": "notifications", "emotiscan.email_alert": "notifications"}


def register(name: str, fn: Callable) -> Callable:
    """``fn`` runs when ``name`` is enqueued outside Celery (embedded and test modes)."""
    _functions[name] = fn
    return fn


def register_sender(name: str, fn: Callable) -> Callable:
    """``fn`` sends ``name`` itself in every mode: frames go through app/tasks/dispatch.py (their
    own queue, serializer and model-loading pool), asked for here by name like any job."""
    _senders[name] = fn
    return fn


def run_in_background(fn: Callable, *args) -> None:
    """``fn(*args)`` in the app's background pool, inside an app context (now, in eager mode)."""
    app = current_app._get_current_object()

    def job() -> None:
        with app.app_context():
            try:
                fn(*args)
            except Exception:  # noqa: BLE001 - keep the pool alive; the failure is logged
                log.exception("background job %s failed", getattr(fn, "__name__", fn))

    if app.config["TASK_MODE"] == "eager":
        job()
        return
    pool = _pools.get(id(app))
    if pool is None:
        pool = _pools[id(app)] = ThreadPoolExecutor(2, "jobs")
    pool.submit(job)


def enqueue(name: str, *args) -> None:
    """Run the task ``name`` with JSON-able ``args`` in the background."""
    if name in _senders:
        _senders[name](*args)
        return
    if current_app.config["TASK_MODE"] == "celery":
        from app.extensions import celery

        celery.send_task(name, args=args, queue=QUEUES.get(name, "notifications"))
        return
    if name not in _functions:
        raise LookupError(f"no function registered for job {name}: import the service that registers it")
    run_in_background(_functions[name], *args)
