"""A websocket closed by its peer ends a server thread without a traceback; other thread errors
still reach the previous hook (app/realtime/closed_sockets.py)."""

from __future__ import annotations

import threading

from simple_websocket import ConnectionClosed


def _run_in_thread(error: BaseException) -> None:
    def body() -> None:
        raise error

    thread = threading.Thread(target=body, name="writer")
    thread.start()
    thread.join()


def test_connection_closed_in_a_thread_is_one_log_line_and_other_errors_still_reach_the_old_hook(app, monkeypatch):
    from app.realtime import closed_sockets

    seen, lines = [], []
    monkeypatch.setattr(threading, "excepthook", lambda args: seen.append(args.exc_type))
    monkeypatch.setattr(closed_sockets.log, "info", lambda message, *args: lines.append(message % args))
    closed_sockets.install()
    closed_sockets.install()  # idempotent: wraps once
    _run_in_thread(ConnectionClosed(1000, "bye"))
    assert seen == [] and lines == ["websocket already closed by its peer (thread writer)"]
    _run_in_thread(ValueError("a real bug"))
    assert seen == [ValueError]
