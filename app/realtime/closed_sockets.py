"""A websocket closed by its peer ends its server threads quietly.

Engine.IO's per-connection writer thread closes the websocket when its queue ends, outside any
``try``; when the peer has already closed it (a client gone, or a connection ended during a Redis
restart), ``simple_websocket`` raises ``ConnectionClosed`` there, and Python prints a thread
traceback for what is a normal end of connection. This hook logs one line for that exception and
hands every other uncaught thread exception to the hook it replaced.
"""

from __future__ import annotations

import logging
import threading

from simple_websocket import ConnectionClosed

log = logging.getLogger(__name__)


def _quiet_closed_sockets(args: threading.ExceptHookArgs, previous=None) -> None:
    if args.exc_type is not None and issubclass(args.exc_type, ConnectionClosed):
        log.info("websocket already closed by its peer (thread %s)", getattr(args.thread, "name", "?"))
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
