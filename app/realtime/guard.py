"""Engine.IO connections cannot exhaust the web process.

Each open WebSocket holds one of gunicorn's threads. An engine.io connection that has not been
authorised into ``/live`` or ``/capture`` within ``SOCKET_AUTH_TIMEOUT_S`` is closed; one address
may hold at most ``SOCKET_MAX_PENDING_PER_ADDRESS`` such pending connections and
``SOCKET_MAX_PER_ADDRESS`` in all; the process accepts at most ``SOCKET_MAX_CONNECTIONS``, fewer
than its threads, so that HTTP requests (``/healthz`` among them) always find a free thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from flask import Flask

log = logging.getLogger(__name__)

# Event names that only the server may raise (socketio's own lifecycle).
RESERVED_EVENTS = frozenset({"connect", "disconnect", "connect_error"})


@dataclass
class _Conn:
    address: str
    opened: float = field(default_factory=time.monotonic)
    authenticated: bool = False


class ConnectionGuard:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._conns: dict[str, _Conn] = {}
        self._per_address: Counter[str] = Counter()
        self._pending_per_address: Counter[str] = Counter()
        self.max_connections = 1000
        self.max_per_address = 1000
        self.max_pending_per_address = 32
        self.auth_timeout_s = 5.0
        self.refused = 0
        self.closed_idle = 0
        self._server = None
        self._janitor: threading.Thread | None = None

    def configure(self, app: Flask, server) -> None:
        cfg = app.config
        self.max_connections = int(cfg["SOCKET_MAX_CONNECTIONS"])
        self.max_per_address = int(cfg["SOCKET_MAX_PER_ADDRESS"])
        self.max_pending_per_address = int(cfg["SOCKET_MAX_PENDING_PER_ADDRESS"])
        self.auth_timeout_s = float(cfg["SOCKET_AUTH_TIMEOUT_S"])
        self._server = server
        connect, disconnect = server._handle_eio_connect, server._handle_eio_disconnect

        def on_connect(eio_sid, environ):
            if not self.open(eio_sid, environ.get("REMOTE_ADDR") or "-"):
                return False  # engine.io answers 401 and keeps no session
            return connect(eio_sid, environ)

        def on_disconnect(eio_sid, reason=None):
            self.close(eio_sid)
            return disconnect(eio_sid, reason)

        message = server._handle_eio_message

        def on_message(eio_sid, data):
            try:
                return message(eio_sid, data)
            except ValueError as exc:
                # A packet socketio cannot place: malformed, or a frame still arriving for a socket
                # that a revocation has just closed. Bad input: close that connection, no traceback.
                log.info("closing a connection after an unexpected packet (%s)", exc)
                try:
                    close_connection(server, eio_sid)
                except Exception:  # noqa: BLE001 - already gone
                    log.debug("connection already closed", exc_info=True)

        handle_event = server._handle_event

        def on_event(eio_sid, namespace, id, data):
            # socketio hands a client's event named "connect" or "disconnect" to the namespace's
            # own handlers: a socket could drop itself from the revocation registry and stay in
            # its rooms, or re-run authorisation. Those names are the server's: close the socket.
            name = data[0] if isinstance(data, list) and data else None
            if isinstance(name, str) and name in RESERVED_EVENTS:
                log.info("closing a connection that sent the reserved event %r", name)
                close_connection(server, eio_sid)
                return None
            return handle_event(eio_sid, namespace, id, data)

        server._handle_event = on_event
        server.eio.on("connect", on_connect)
        server.eio.on("message", on_message)
        server.eio.on("disconnect", on_disconnect)

    def fit_threads(self, threads: int) -> None:
        """At most the server's threads less a reserve for HTTP (a tenth, at least 8)."""
        reserve = max(8, threads // 10)
        self.max_connections = max(1, min(self.max_connections, threads - reserve))

    def open(self, eio_sid: str, address: str) -> bool:
        with self._lock:
            if (
                len(self._conns) >= self.max_connections
                or self._per_address[address] >= self.max_per_address
                or self._pending_per_address[address] >= self.max_pending_per_address
            ):
                self.refused += 1
                return False
            self._conns[eio_sid] = _Conn(address)
            self._per_address[address] += 1
            self._pending_per_address[address] += 1
        self._ensure_janitor()
        return True

    def authenticated(self, sid: str, namespace: str) -> None:
        """A namespace accepted this connection: it no longer counts as pending."""
        try:
            eio_sid = self._server.manager.eio_sid_from_sid(sid, namespace) if self._server else None
        except Exception:  # noqa: BLE001 - test clients have no engine.io session
            eio_sid = None
        with self._lock:
            conn = self._conns.get(eio_sid) if eio_sid else None
            if conn is not None and not conn.authenticated:
                conn.authenticated = True
                self._pending_per_address[conn.address] -= 1

    def close(self, eio_sid: str) -> None:
        with self._lock:
            conn = self._conns.pop(eio_sid, None)
            if conn is None:
                return
            self._per_address[conn.address] -= 1
            if not conn.authenticated:
                self._pending_per_address[conn.address] -= 1
            for counter in (self._per_address, self._pending_per_address):
                if counter[conn.address] <= 0:
                    del counter[conn.address]

    def open_connections(self) -> int:
        return len(self._conns)

    def _ensure_janitor(self) -> None:
        if self._janitor is None:
            with self._lock:
                if self._janitor is None:
                    self._janitor = threading.Thread(target=self._sweep, name="socket-guard", daemon=True)
                    self._janitor.start()

    def _sweep(self) -> None:
        while True:
            time.sleep(min(1.0, self.auth_timeout_s / 2))
            deadline = time.monotonic() - self.auth_timeout_s
            with self._lock:
                idle = [sid for sid, c in self._conns.items() if not c.authenticated and c.opened < deadline]
            for eio_sid in idle:
                try:
                    close_connection(self._server, eio_sid)
                except Exception:  # noqa: BLE001 - already gone
                    log.debug("closing idle connection failed", exc_info=True)
                self.close(eio_sid)  # engine.io may not call back for a half-open socket
                self.closed_idle += 1


def close_connection(server, eio_sid: str) -> None:
    """Close an engine.io connection without waiting for its send queue to drain: engine.io's own
    ``disconnect`` joins that queue, which blocks the caller (an HTTP request revoking a camera)
    for as long as the client does not read, or for ever when its writer has already stopped."""
    eio = server.eio
    sock = eio.sockets.get(eio_sid)
    if sock is None:
        return
    sock.close(wait=False, reason=eio.reason.SERVER_DISCONNECT)
    eio.sockets.pop(eio_sid, None)


guard = ConnectionGuard()
