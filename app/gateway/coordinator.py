"""The gateway: the server pulls its enabled stream cameras and feeds the one intake path.

``make gateway`` (``python -m app.gateway``) runs it as a process beside the web
processes; several may run, and they share the cameras by leases in Redis (app/gateway/leases.py):
each camera is pulled by exactly one of them, each holds its fair share, and the cameras of a
gateway that dies are taken over when its leases expire (LEASE_S). In the embedded mode
(``make run``) it is a thread of the web process (gunicorn.conf.py), with leases in memory.

Every ``TICK_S`` the coordinator renews its leases; every ``POLL_S`` it reads the listing of
enabled stream cameras, so that a camera added, disabled, deleted or given another source is
noticed within seconds. One thread per pulled camera reads the source (app/streams/source.py):
at each connection it resolves the source's host once, checks every address against
STREAM_SOURCES_ALLOW and connects to the checked address only (no second resolution, no
redirect followed, as for webhooks), and hands each sampled frame, decoded, to
``intake.accept_frame`` (which encodes it to JPEG once, in memory).
Statuses go to ``set_stream_status``; nothing logged names credentials (``redact``).
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable

from flask import Flask

from app.gateway.leases import Leases, MemoryLeases, RedisLeases, fair_share
from app.services import cameras as camera_service
from app.services import intake
from app.services.cameras import StreamSource
from app.services.errors import ServiceError
from app.streams.source import Backoff, SourceError, SourceSpec, Status, frames, redact, require_capture_options

log = logging.getLogger("emotiscan.gateway")

LEASE_S = 5.0
TICK_S = 1.5
POLL_S = 2.0
SAFETY_S = 1.0  # a puller stops feeding this long before its lease could expire by our clock
STOPPING = ("camera_gone", "camera_disabled", "token_revoked")

# FFmpeg follows HTTP redirects unless told not to, whatever address they name; RTSP over TCP only
# (a UDP transport would send packets to ports the camera names). Process-wide, set before any
# puller opens a capture; the operator's other options are kept.
require_capture_options(rtsp_transport="tcp", max_redirects="0")


class Puller(threading.Thread):
    """Pulls one camera while its lease is valid; the coordinator stops it."""

    def __init__(self, app: Flask, source: StreamSource, lease_valid: Callable[[], bool]):
        super().__init__(name=f"gateway camera {source.id}", daemon=True)
        self.app, self.source, self.lease_valid = app, source, lease_valid
        self.stop_event = threading.Event()
        self.feeding = threading.Lock()  # held while a frame is handed over: stop() waits for it
        self.session = intake.IntakeSession(
            source.id, source.tenant_id, source.site_id, source.fps, None, tokens=source.fps * 1.5
        )
        self.state: tuple[str, str | None] | None = None
        self.accepted = 0
        self.refused: dict[str, int] = {}

    @property
    def fps(self) -> int:
        return self.session.fps

    def update(self, source: StreamSource) -> None:
        """A new rate or site without reconnecting (the source itself is unchanged)."""
        self.session.fps, self.session.site_id, self.source = source.fps, source.site_id, source

    def stop(self) -> None:
        """No frame of this camera is handed to intake once this returns."""
        self.stop_event.set()
        with self.feeding:
            pass

    def _set_status(self, state: str, error: str | None = None) -> None:
        if self.state == (state, error):
            return
        self.state = (state, error)
        log.info("camera %d: %s%s (%s)", self.source.id, state, f": {error}" if error else "", redact(self.source.source_url))
        with self.app.app_context():
            camera_service.set_stream_status(self.source.id, state, error)

    def _pin(self, spec: SourceSpec) -> str:
        """The address to connect to, resolved and checked now (not only when the camera was
        saved: the name may point elsewhere today); the connection goes to it and nowhere else."""
        with self.app.app_context():
            try:
                return camera_service.check_stream_source(self.source.source_url)
            except ServiceError as exc:
                raise SourceError(exc.code, exc.message) from None

    def _on_status(self, status: Status) -> None:
        if self.stop_event.is_set():
            return
        if status.state == "connecting":
            self._set_status("connecting")
        elif status.state == "live":
            self._set_status("live")
        else:  # unreachable (retried by frames()) or ended
            self._set_status("unreachable", f"{status.error}: {status.message}")

    def _feed(self, image, ts: float) -> str | None:
        """Hand one frame to intake; the error code of a refusal, or None."""
        with self.feeding:
            if self.stop_event.is_set() or not self.lease_valid():
                return None
            try:
                with self.app.app_context():
                    ack = intake.accept_frame(self.session, image, received_at=ts)
            except Exception:  # noqa: BLE001 - the state store or database down: drop this frame, keep the stream
                log.exception("camera %d: a frame could not be handed to analysis", self.source.id)
                return None
        if ack.get("ok"):
            self.accepted += 1
            return None
        code = ack.get("error", "?")
        self.refused[code] = self.refused.get(code, 0) + 1
        if self.refused[code] == 1 and code not in ("rate_limited", "busy"):
            log.warning("camera %d: frames refused: %s", self.source.id, code)
        return code

    def run(self) -> None:
        backoff = Backoff()
        username, password = self.source.credentials or (None, None)
        spec = SourceSpec(self.source.source_url, username or None, password or None)
        while not self.stop_event.is_set():
            try:
                rate = lambda: self.session.fps  # noqa: E731 - read at each frame: a new rate applies at once
                for image, ts in frames(spec, rate, self.stop_event, self._on_status, backoff, pin=self._pin):
                    if self._feed(image, ts) in STOPPING:
                        self.stop_event.set()  # the listing drops it too within POLL_S
                        break
            except Exception as exc:  # noqa: BLE001 - one camera's failure never stops the gateway
                # The type only: a library's message may quote the URL it was given.
                log.error("camera %d: pulling failed (%s)", self.source.id, type(exc).__name__)
                self._set_status("unreachable", f"unreachable: the gateway failed ({type(exc).__name__})")
            self.stop_event.wait(backoff.next())


class Gateway:
    """The coordinator: leases, the listing, and one Puller per camera held."""

    def __init__(self, app: Flask, leases: Leases, poll_s: float = POLL_S, tick_s: float = TICK_S):
        self.app, self.leases, self.poll_s, self.tick_s = app, leases, poll_s, tick_s
        self.pullers: dict[int, Puller] = {}
        self.valid_until: dict[int, float] = {}
        self.listing: dict[int, StreamSource] = {}
        self.next_poll = 0.0
        self.stop_event = threading.Event()

    def _valid(self, camera_id: int) -> Callable[[], bool]:
        return lambda: time.monotonic() < self.valid_until.get(camera_id, 0.0)

    def _start(self, source: StreamSource, since: float) -> None:
        self.valid_until[source.id] = since + self.leases.ttl_s - SAFETY_S
        puller = Puller(self.app, source, self._valid(source.id))
        self.pullers[source.id] = puller
        log.info("camera %d: pulled by %s", source.id, self.leases.owner)
        puller.start()

    def _stop(self, camera_id: int, release: bool = True) -> Puller:
        puller = self.pullers.pop(camera_id)
        puller.stop()
        self.valid_until.pop(camera_id, None)
        if release:
            try:
                self.leases.release(camera_id)
            except Exception:  # noqa: BLE001 - it expires by itself
                log.warning("camera %d: lease not released (it expires in %.0f s)", camera_id, self.leases.ttl_s)
        return puller

    def _removed(self, camera_id: int) -> None:
        """A camera no longer listed: show it disabled when it still exists (a status written by
        its puller after the camera was disabled is overwritten)."""
        with self.app.app_context():
            camera_service.mark_stream_disabled(camera_id)

    def tick(self) -> None:
        started = time.monotonic()
        self.leases.join()
        for camera_id in list(self.pullers):
            if self.leases.renew(camera_id):
                self.valid_until[camera_id] = started + self.leases.ttl_s - SAFETY_S
            else:
                log.warning("camera %d: lease lost", camera_id)
                self._stop(camera_id, release=False)
        if started >= self.next_poll:
            with self.app.app_context():
                self.listing = {s.id: s for s in camera_service.stream_cameras_enabled()}
            self.next_poll = started + self.poll_s
        for camera_id in list(self.pullers):
            source = self.listing.get(camera_id)
            old = self.pullers[camera_id].source
            if source is None:
                self._stop(camera_id)
                self._removed(camera_id)
            elif (source.source_url, source.credentials) != (old.source_url, old.credentials):
                self._stop(camera_id, release=False)  # the lease is kept: reconnect with the new source
                self._start(source, started)
            else:
                self.pullers[camera_id].update(source)
        share = fair_share(len(self.listing), self.leases.members())
        for camera_id in sorted(self.pullers, reverse=True)[: max(0, len(self.pullers) - share)]:
            log.info("camera %d: handed over (share %d)", camera_id, share)
            self._stop(camera_id)
        # Start at a point of our own in the list: gateways starting together contend less.
        free = [cid for cid in sorted(self.listing) if cid not in self.pullers]
        offset = hash(self.leases.owner) % len(free) if free else 0
        for camera_id in free[offset:] + free[:offset]:
            if len(self.pullers) >= share:
                break
            if self.leases.acquire(camera_id):
                self._start(self.listing[camera_id], started)

    def run(self) -> None:
        log.info("gateway %s started", self.leases.owner)
        failing: str | None = None
        while not self.stop_event.is_set():
            try:
                self.tick()
            except Exception as exc:  # noqa: BLE001 - Redis or the database away: pullers stop feeding when leases lapse
                if failing != repr(exc):  # the traceback once per distinct failure, not every round
                    log.exception("gateway round failed (retried every %.1f s)", self.tick_s)
                failing = repr(exc)
            else:
                if failing is not None:
                    log.info("gateway rounds work again")
                failing = None
            self.stop_event.wait(self.tick_s)
        self.shutdown()

    def shutdown(self, wait_s: float = 12.0) -> None:
        pullers = [self._stop(camera_id) for camera_id in list(self.pullers)]
        # Wait for the readers to release their captures: a VideoCapture still reading when the
        # interpreter exits aborts the process (app/streams/source.py).
        deadline = time.monotonic() + wait_s
        for puller in pullers:
            puller.join(timeout=max(0.0, deadline - time.monotonic()))
        try:
            self.leases.leave()
        except Exception:  # noqa: BLE001 - the membership expires by itself
            pass
        log.info("gateway %s stopped", self.leases.owner)


def leases_for(app: Flask) -> Leases:
    """Redis leases when REDIS_URL is set (gateways in several processes), else in memory."""
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    url = app.config.get("REDIS_URL")
    if not url:
        return MemoryLeases(owner, LEASE_S)
    import redis

    return RedisLeases(redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2), owner, LEASE_S)


def start_embedded_gateway(app: Flask) -> threading.Thread:
    """The embedded mode's gateway: a daemon thread in the web process, leases in memory."""
    gateway = Gateway(app, MemoryLeases(f"embedded:{os.getpid()}", LEASE_S))
    thread = threading.Thread(target=gateway.run, name="gateway", daemon=True)
    thread.gateway = gateway  # type: ignore[attr-defined]
    thread.start()

    def stop() -> None:  # the worker exits: end the pulls before the interpreter goes
        gateway.stop_event.set()
        thread.join(timeout=15)

    atexit.register(stop)
    return thread


def main() -> None:
    """``make gateway``: one gateway process until SIGTERM or Ctrl-C."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from app import create_app

    app = create_app()
    from app.realtime.access import subscriber

    subscriber.ensure(app)  # change events (revocations) reach this process's intake sessions at once
    if not app.config.get("REDIS_URL"):
        log.warning("REDIS_URL is not set: this gateway cannot share the cameras with another one")
    gateway = Gateway(app, leases_for(app))
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: gateway.stop_event.set())
    gateway.run()
