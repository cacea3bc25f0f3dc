"""Celery entry point: ``celery -A celery_worker worker``.

Creates the app (tasks run in its context) and loads the models when the worker starts, before
it takes frames; a heartbeat in Redis tells /readyz that workers are up.

Frames come from a Redis Stream, not Celery messages (Celery hands a worker one message at a
time; frames are analysed in batches): each pool process (the worker itself with ``--pool solo``)
runs a frames consumer thread (app/tasks/frames_worker.py). Inside the Celery worker rather than
a second program, so that one command (``make worker``, docker compose) starts, stops and scales
both, one process dies with both (its frames are then claimed by another consumer), and
``--concurrency N`` gives N consumers on N cores. Celery keeps notifications and periodic work.
"""

import os
import socket
import threading

from celery.signals import worker_process_init, worker_process_shutdown, worker_ready, worker_shutdown

from app import create_app
from app.extensions import celery as app_celery  # noqa: F401 - bound by create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]
_stop = threading.Event()


def _load_models() -> None:
    from app.inference.registry import get_models

    get_models(flask_app.config["MODEL_DIR"])


@worker_process_init.connect
def _warm_child(**_kwargs) -> None:
    from app.tasks import frames_worker

    _load_models()
    frames_worker.start(flask_app)


@worker_process_shutdown.connect
def _stop_child(**_kwargs) -> None:
    from app.tasks import frames_worker

    frames_worker.stop()


@worker_ready.connect
def _ready(**_kwargs) -> None:
    _load_models()
    from app.infra.state import store

    name = f"worker:{socket.gethostname()}:{os.getpid()}"

    def beat() -> None:
        with flask_app.app_context():
            while not _stop.is_set():
                try:
                    store().heartbeat(name, ttl_s=30)
                except Exception:  # noqa: BLE001 - Redis may be restarting; keep trying
                    pass
                _stop.wait(10)

    threading.Thread(target=beat, name="heartbeat", daemon=True).start()


@worker_shutdown.connect
def _shutdown(**_kwargs) -> None:
    from app.tasks import frames_worker

    _stop.set()
    frames_worker.stop()
