"""Structured logs: one JSON object per line with the request id, for web and worker processes.

The request id comes from NGINX (``X-Request-Id``) when it looks like one, else it is made
here; it is echoed in the response so that a user's report can be matched to the logs."""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from datetime import UTC, datetime

from flask import Flask, g, has_request_context, request

from app.timefmt import iso_utc

_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": iso_utc(datetime.fromtimestamp(record.created, UTC), timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context():
            entry["request_id"] = g.get("request_id")
            entry["path"] = request.path
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(app: Flask) -> None:
    """JSON lines on stderr unless LOG_FORMAT=text; once per process."""
    root = logging.getLogger()
    if getattr(root, "_emotiscan_configured", False) or app.config.get("TESTING"):
        return
    handler = logging.StreamHandler(sys.stderr)
    if app.config["LOG_FORMAT"] == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.handlers = [handler]
    root.setLevel(app.config["LOG_LEVEL"])
    root._emotiscan_configured = True  # type: ignore[attr-defined]


def init_request_ids(app: Flask) -> None:
    @app.before_request
    def _request_id() -> None:
        incoming = request.headers.get("X-Request-Id", "")
        g.request_id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex

    @app.after_request
    def _echo(response):
        if g.get("request_id"):
            response.headers["X-Request-Id"] = g.request_id
        return response
