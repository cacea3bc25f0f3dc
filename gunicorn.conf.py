"""Gunicorn settings for `make run` and the distributed mode's web processes.

The embedded mode has no Celery beat, so each web worker process runs the scheduled work itself
(one worker in the embedded mode). Each open WebSocket holds one of the worker's threads: the
connection guard keeps some threads free for HTTP, whatever ``--threads`` says.
"""

# gthread accepts at most this many client connections per worker (default 1000): above the
# threads, so that a full house of sockets still leaves room for HTTP requests to queue.
worker_connections = 4000

# gthread, but gunicorn's own refusals (414, 431, 400: request line or headers too large, bad HTTP)
# answer in the API's JSON error format, not as an HTML page (app/server.py).
worker_class = "app.server.JsonErrorWorker"


def post_worker_init(worker) -> None:
    app = worker.wsgi
    from app.realtime.guard import guard

    guard.fit_threads(worker.cfg.threads)
    if app.config["TASK_MODE"] == "thread":
        from app.tasks.periodic import start_embedded_scheduler

        start_embedded_scheduler(app)
        if app.config["EMBEDDED_GATEWAY"]:
            from app.gateway.coordinator import start_embedded_gateway

            start_embedded_gateway(app)  # stream cameras: pulled by this process, as `make gateway` does
