"""Celery bound to the Flask app (Flask's documented pattern): tasks run in an app context."""

from __future__ import annotations

from celery import Task
from flask import Flask

from app.extensions import celery
from app.jobs import QUEUES


def celery_init_app(app: Flask):
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    broker = app.config["REDIS_URL"] or "memory://"
    celery.conf.update(
        broker_url=broker,
        result_backend=None,  # tasks keep no results: no frame can land in a result backend
        task_ignore_result=True,
        task_serializer="msgpack",
        accept_content=["msgpack", "json"],
        task_acks_late=False,
        worker_prefetch_multiplier=1,  # a worker takes one frame at a time: fresh frames, fair share
        task_always_eager=app.config["TASK_MODE"] != "celery",
        broker_connection_retry_on_startup=True,
        # A web process must not hang on a frame while Redis is down: fail fast, the camera is told.
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5},
        broker_connection_timeout=2,
        worker_hijack_root_logger=False,
        task_default_queue="frames",
        include=["app.tasks.analyze", "app.tasks.notify", "app.tasks.periodic"],
        beat_schedule={"periodic": {"task": "emotiscan.periodic", "schedule": 30.0, "options": {"queue": "notifications"}}},
        task_routes={name: {"queue": queue} for name, queue in QUEUES.items()},
    )
    celery.Task = FlaskTask
    celery.set_default()
    app.extensions["celery"] = celery
    return celery
