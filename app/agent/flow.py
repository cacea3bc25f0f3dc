"""Back-pressure of one agent camera: at most one frame in flight, late frames dropped, not queued."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

# Refusals after which the agent only drops (the server keeps the connection); any other error is
# counted as refused too. Revocation is fatal.
DROPPED_BY_SERVER = frozenset({"busy", "rate_limited"})
FATAL = frozenset({"token_revoked", "invalid_token", "unauthorized"})
PAUSE_ON = frozenset({"purpose_not_allowed", "unavailable", "server_error"})


@dataclass
class Counters:
    sent: int = 0
    acked: int = 0
    dropped: int = 0  # dropped here: a frame was in flight, or not connected
    refused: int = 0  # answered busy, rate_limited or another error by the server
    lost: int = 0  # no acknowledgement within the timeout

    def line(self) -> str:
        return f"sent {self.sent}, acked {self.acked}, dropped {self.dropped}, refused {self.refused}, lost {self.lost}"


@dataclass
class FlowControl:
    """Whether a new frame may be sent now, and what an acknowledgement means.

    One frame in flight: the server admits two per camera, so one is never refused for the
    agent's own backlog, and the frame sent is always the newest. A frame without an answer
    after ``ack_timeout`` s is given up (a lost packet must not stop the camera). ``pause`` s
    after purpose_not_allowed / unavailable: ask again later, as the capture page does.
    """

    clock: Callable[[], float] = time.monotonic
    ack_timeout: float = 10.0
    pause: float = 10.0
    counters: Counters = field(default_factory=Counters)
    in_flight_since: float | None = None
    paused_until: float = 0.0
    fatal: str | None = None
    last_error: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def try_send(self) -> bool:
        """True when this frame may go (then it counts as sent and in flight), else it is dropped."""
        with self._lock:
            now = self.clock()
            if self.in_flight_since is not None and now - self.in_flight_since >= self.ack_timeout:
                self.in_flight_since = None
                self.counters.lost += 1
            if self.fatal or self.in_flight_since is not None or now < self.paused_until:
                self.counters.dropped += 1
                return False
            self.in_flight_since = now
            self.counters.sent += 1
            return True

    def cancel(self) -> None:
        """The send itself failed (disconnected meanwhile): nothing is in flight."""
        with self._lock:
            self.in_flight_since = None
            self.counters.sent -= 1
            self.counters.dropped += 1

    def reset(self) -> None:
        """A new connection: an acknowledgement of the old one will never come."""
        with self._lock:
            self.in_flight_since = None

    def settle(self, ack: object) -> str:
        """The server's answer: 'ok', 'dropped', 'paused' or 'fatal'."""
        with self._lock:
            self.in_flight_since = None
            if isinstance(ack, dict) and ack.get("ok") is True:
                self.counters.acked += 1
                return "ok"
            error = ack.get("error") if isinstance(ack, dict) else None
            self.counters.refused += 1
            self.last_error = str(error)
            if error in FATAL:
                self.fatal = error
                return "fatal"
            if error in PAUSE_ON:
                self.paused_until = self.clock() + self.pause
                return "paused"
            return "dropped"
