"""The gunicorn worker of the web processes (gunicorn.conf.py: ``worker_class``).

gunicorn's threaded worker, except for the answers gunicorn writes itself, before the app sees the
request (request line or headers too large, malformed HTTP): those come in the API's JSON error
format, ``{"error": {"code", "message"}}``, instead of gunicorn's HTML page.
"""

from __future__ import annotations

import json

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker

# status -> (code, message); the message never repeats what the client sent
ANSWERS = {
    400: ("bad_request", "The request is not valid HTTP."),
    403: ("forbidden", "The request is forbidden."),
    414: ("uri_too_long", "The request line (method, path and query string) is too long."),
    417: ("expectation_failed", "The Expect header cannot be met."),
    431: ("headers_too_large", "The request headers are too many or too large."),
    500: ("server_error", "Something went wrong on our side."),
    501: ("not_implemented", "This transfer coding is not supported."),
}


class _Capture:
    """Stands in for the client socket while gunicorn writes its HTML error page: keeps the bytes."""

    def __init__(self) -> None:
        self.data = b""

    def gettimeout(self) -> float:
        return 0.0

    def setblocking(self, flag: bool) -> None:
        pass

    def sendall(self, data: bytes) -> None:
        self.data += data


def json_error(status: int, reason: str) -> bytes:
    """The whole HTTP answer for ``status``: the API's JSON error body, then the connection closes."""
    code, message = ANSWERS.get(status, ("error", reason or "The request failed."))
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


class JsonErrorWorker(ThreadWorker):
    def handle_error(self, req, client, addr, exc) -> None:
        # gunicorn decides the status, logs and writes the access log; only the page it writes is replaced.
        capture = _Capture()
        super().handle_error(req, capture, addr, exc)
        status_line = capture.data.split(b"\r\n", 1)[0].decode("latin-1")  # "HTTP/1.1 414 URI Too Long"
        _, status, reason = (status_line.split(" ", 2) + ["", ""])[:3]
        try:
            util.write_nonblock(client, json_error(int(status) if status.isdigit() else 500, reason))
        except (OSError, ValueError):
            self.log.debug("Failed to send error message.")
