"""A minimal engine.io v4 / Socket.IO client over one WebSocket, without threads of its own, so
that a test or benchmark can hold hundreds of connections (or raw, never-authorised ones)."""

from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

import websocket


class RawSocket:
    """One engine.io WebSocket that joins a namespace with ``auth`` (or never joins, if None)."""

    def __init__(
        self, base: str, namespace: str | None, auth: dict | None, timeout: float = 30, source: str | None = None
    ) -> None:
        url = base.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        options = {}
        if source is not None:  # another loopback address (127.0.0.2): another client for per-address limits
            parsed = urlsplit(base)
            sock = socket.create_connection((parsed.hostname, parsed.port), timeout=timeout, source_address=(source, 0))
            options["socket"] = sock
        self.ws = websocket.create_connection(url, timeout=timeout, **options)
        opened = self.ws.recv()
        assert opened.startswith("0"), opened
        self.joined = False
        if namespace is not None:
            self.ws.send(f"40{namespace}," + json.dumps(auth or {}))
            while True:  # events emitted by the connect handler may come before the CONNECT answer
                reply = self.ws.recv()
                if reply == "2":
                    self.ws.send("3")
                elif reply.startswith((f"40{namespace},", f"44{namespace},")):
                    self.joined = reply.startswith("40")
                    break

    def pump(self) -> bool:
        """Answer pings; False once the server closed the socket."""
        try:
            data = self.ws.recv()
        except (websocket.WebSocketException, OSError):
            return False
        if data == "2":
            self.ws.send("3")
        return data != "" and not data.startswith("1")

    def close(self) -> None:
        try:
            self.ws.close()
        except (websocket.WebSocketException, OSError):
            pass
