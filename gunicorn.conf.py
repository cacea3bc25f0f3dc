"""Gunicorn settings for `make run`: the embedded mode has no Celery beat, so each web worker
process runs the scheduled work itself (one worker in the embedded mode)."""


def post_worker_init(worker) -> None:
    app = worker.wsgi
    if app.config["TASK_MODE"] == "thread":
        from app.services.periodic import start_embedded_scheduler

        start_embedded_scheduler(app)
