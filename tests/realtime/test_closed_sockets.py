"""A websocket closed by its peer ends a server thread without a traceback; other thread errors
still reach the previous hook (app/realtime/closed_sockets.py)."""

from __future__ import annotations

import threading

from simple_websocket import ConnectionClosed
from wsproto.utilities import LocalProtocolError


def _run_in_thread(error: BaseException, where: str = "/srv/app/worker.py", function: str = "body") -> None:
    """Raise ``error`` in a thread, from a function named ``function`` compiled as if in ``where``:
    the hook tells Engine.IO's writer from other code by the frames of the traceback."""
    scope: dict = {}
    exec(compile(f"def {function}(error):\n    raise error\n", where, "exec"), scope)  # noqa: S102
    thread = threading.Thread(target=scope[function], args=(error,), name="writer-thread")
    thread.start()
    thread.join()


def test_a_peer_gone_in_a_socket_thread_is_one_log_line_and_other_errors_still_reach_the_old_hook(app, monkeypatch):
    from app.realtime import closed_sockets

    seen, lines = [], []
    monkeypatch.setattr(threading, "excepthook", lambda args: seen.append(args.exc_type))
    monkeypatch.setattr(closed_sockets.log, "info", lambda message, *args: lines.append(message % args))
    closed_sockets.install()
    closed_sockets.install()  # idempotent: wraps once

    # Anywhere: simple_websocket's own "already closed".
    _run_in_thread(ConnectionClosed(1000, "bye"))
    # In Engine.IO's writer or simple_websocket's reader: the socket reset or closed under it, or a
    # second close refused by wsproto.
    writer = "/venv/lib/python3.11/site-packages/engineio/socket.py"
    _run_in_thread(ConnectionResetError(104, "Connection reset by peer"), writer, "writer")
    _run_in_thread(OSError(9, "Bad file descriptor"), writer, "writer")
    _run_in_thread(LocalProtocolError("Connection cannot be closed in state CLOSED"), writer, "writer")
    _run_in_thread(ConnectionClosed(1000, "bye"), "/venv/lib/python3.11/site-packages/simple_websocket/ws.py", "_thread")
    assert seen == []
    assert lines == [
        "websocket already closed by its peer (thread writer-thread: ConnectionClosed)",
        "websocket already closed by its peer (thread writer-thread: ConnectionResetError)",
        "websocket already closed by its peer (thread writer-thread: OSError)",
        "websocket already closed by its peer (thread writer-thread: LocalProtocolError)",
        "websocket already closed by its peer (thread writer-thread: ConnectionClosed)",
    ]

    # The same errors elsewhere, or another error in the writer, are bugs: the old hook prints them.
    _run_in_thread(ConnectionResetError(104, "Connection reset by peer"))
    _run_in_thread(OSError(9, "Bad file descriptor"), "/venv/lib/python3.11/site-packages/engineio/server.py", "writer")
    _run_in_thread(ValueError("a real bug"), writer, "writer")
    _run_in_thread(LocalProtocolError("misuse"), "/srv/app/realtime/access.py", "_close")
    assert seen == [ConnectionResetError, OSError, ValueError, LocalProtocolError]
    assert len(lines) == 5
