"""A websocket closed by its peer ends its server threads quietly.

Engine.IO's per-connection writer thread closes the websocket when its queue ends, outside any
``try``. When the peer has already gone (a revoked tablet reloading its page, a connection ended
during a Redis restart), that close fails in one of three ways: ``simple_websocket`` raises
``ConnectionClosed``, the socket raises ``OSError`` (reset by the peer, or already closed by the
reader thread), or ``wsproto`` refuses a second close (``LocalProtocolError``). Python would print a
thread traceback for what is a normal end of connection. This hook logs one line instead, for
``ConnectionClosed`` anywhere and for the other two only when raised in the writer (or in
``simple_websocket``'s reader thread), and hands every other uncaught thread exception to the hook
it replaced.
"""

from __future__ import annotations

import logging
import threading
from types import TracebackType

from simple_websocket import ConnectionClosed
from wsproto.utilities import LocalProtocolError

log = logging.getLogger(__name__)

# (function, file) of the threads whose closing errors are a peer gone, not a bug.
_SOCKET_THREADS = {("writer", "engineio/socket.py"), ("_thread", "simple_websocket/ws.py")}


def _raised_in_socket_thread(tb: TracebackType | None) -> bool:
    while tb is not None:
        code = tb.tb_frame.f_code
        filename = code.co_filename.replace("\\", "/")
        if any(code.co_name == name and filename.endswith(path) for name, path in _SOCKET_THREADS):
            return True
        tb = tb.tb_next
    return False


def is_closed_socket(args: threading.ExceptHookArgs) -> bool:
    """Whether an uncaught thread exception is a websocket's peer gone."""
    if args.exc_type is None:
        return False
    if issubclass(args.exc_type, ConnectionClosed):
        return True
    return issubclass(args.exc_type, (OSError, LocalProtocolError)) and _raised_in_socket_thread(args.exc_traceback)


def _quiet_closed_sockets(args: threading.ExceptHookArgs, previous=None) -> None:
    if is_closed_socket(args):
        log.info(
            "websocket already closed by its peer (thread %s: %s)",
            getattr(args.thread, "name", "?"),
            args.exc_type.__name__,
        )
        return
    (previous or threading.__excepthook__)(args)


def install() -> None:
    """Idempotent: the hook wraps the current one once per process."""
    current = threading.excepthook
    if getattr(current, "_quiet_closed_sockets", False):
        return

    def hook(args: threading.ExceptHookArgs) -> None:
        _quiet_closed_sockets(args, current)

    hook._quiet_closed_sockets = True  # type: ignore[attr-defined]
    threading.excepthook = hook
