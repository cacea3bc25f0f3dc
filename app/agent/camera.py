"""One agent camera: a source read by app.streams.source, its sampled frames sent to /capture."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import cv2
import numpy as np
import socketio

from app.agent.flow import FlowControl
from app.streams.source import Backoff, SourceSpec, Status, frames, redact

log = logging.getLogger("emotiscan.agent")

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_REFUSED = 0, 1, 2, 3
# The server's limits (config MAX_FRAME_BYTES, MAX_FRAME_PIXELS) are far above what the agent
# sends: 640 px wide, as the capture page, is what the detector works at.
MAX_BYTES = 2 * 1024 * 1024


@dataclass
class CameraConfig:
    server: str
    token: str
    source: SourceSpec
    name: str = "camera"
    fps: float | None = None  # None: the camera's rate, as the server says in "ready"
    max_width: int = 640
    quality: int = 80
    stats_interval: float = 30.0


def encode_jpeg(frame: np.ndarray, max_width: int = 640, quality: int = 80, max_bytes: int = MAX_BYTES) -> bytes:
    """Downscaled (never enlarged) JPEG; lower quality until it fits the server's byte limit."""
    h, w = frame.shape[:2]
    if w > max_width:
        frame = cv2.resize(frame, (max_width, max(1, round(h * max_width / w))), interpolation=cv2.INTER_AREA)
    while True:
        data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes()
        if len(data) <= max_bytes or quality <= 30:
            return data
        quality -= 15


class AgentCamera:
    """Connects to /capture with the camera's token (reconnecting with backoff), then streams the
    source's newest frames with at most one in flight. ``run()`` returns an exit code."""

    def __init__(self, config: CameraConfig, flow: FlowControl | None = None):
        self.config = config
        self.flow = flow or FlowControl()
        self.sio: socketio.Client | None = None
        self.ready = threading.Event()
        self.server_fps: float | None = None
        self.refusal: str | None = None
        self.source_status: Status | None = None
        self.ended = False
        self._stats_at = time.monotonic()

    # --- rate -----------------------------------------------------------------------------
    def fps(self) -> float:
        """The rate asked for, never above the camera's own (the server limits to it)."""
        wanted = self.config.fps or self.server_fps or 2.0
        return min(wanted, self.server_fps) if self.server_fps else wanted

    # --- server connection ------------------------------------------------------------------
    def _client(self) -> socketio.Client:
        sio = socketio.Client(reconnection=False, logger=False, engineio_logger=False)
        name = self.config.name

        greeted = []  # this connection's first "ready" came

        def on_ready(info):
            # Sent at connect, and again when the camera's rate or site changes: frames() reads
            # fps() at each sample, so the new rate applies from the next frame.
            before, self.server_fps = self.server_fps, float(info.get("fps") or 0) or None
            if greeted:
                if self.server_fps != before:
                    log.info("%s: the server asks for %.1f frames/s now", name, self.fps())
                return
            log.info(
                "%s: connected as camera %s (%s, site %s) at %.1f frames/s",
                name,
                info.get("camera_id"),
                info.get("name"),
                info.get("site_name"),
                self.fps(),
            )
            if info.get("refusal"):
                log.warning("%s: the server refuses analysis at this site (%s)", name, info["refusal"])
            greeted.append(True)
            self.ready.set()

        def on_revoked(data=None):
            self.flow.fatal = "token_revoked"

        def on_connect_error(data=None):
            self.refusal = data.get("message") if isinstance(data, dict) else str(data)

        sio.on("ready", on_ready, namespace="/capture")
        sio.on("revoked", on_revoked, namespace="/capture")
        sio.on("connect_error", on_connect_error, namespace="/capture")
        return sio

    def _connection_loop(self, stop: threading.Event) -> None:
        backoff = Backoff(base=1.0, cap=30.0)
        name = self.config.name
        while not stop.is_set() and not self.flow.fatal:
            sio, self.refusal = self._client(), None
            try:
                sio.connect(
                    self.config.server,
                    namespaces=["/capture"],
                    auth={"token": self.config.token},
                    transports=["websocket"],
                    wait_timeout=10,
                )
            except (socketio.exceptions.ConnectionError, ValueError, OSError) as exc:
                if self.refusal == "invalid_token":
                    self.flow.fatal = "invalid_token"
                    break
                delay = backoff.next()
                log.warning("%s: cannot connect to %s (%s); retrying in %.0f s", name, self.config.server, exc, delay)
                self._wait(stop, delay)
                continue
            self.flow.reset()
            self.sio = sio
            connected_at = time.monotonic()
            while sio.connected and not stop.is_set() and not self.flow.fatal:
                self._wait(stop, 0.5)
            self.sio = None
            self.flow.reset()
            lost = not stop.is_set() and not self.flow.fatal
            try:
                sio.disconnect()
            except Exception:  # noqa: BLE001 - already gone
                pass
            if lost:
                if time.monotonic() - connected_at > 30:
                    backoff.reset()
                delay = backoff.next()
                log.warning("%s: disconnected from the server; reconnecting in %.0f s", name, delay)
                self._wait(stop, delay)

    def _wait(self, stop: threading.Event, seconds: float) -> None:
        """Sleep, logging the counters when they are due."""
        deadline = time.monotonic() + seconds
        while not stop.is_set() and not self.flow.fatal:
            self._log_stats()
            left = deadline - time.monotonic()
            if left <= 0 or stop.wait(min(left, 0.5)):
                return

    def _log_stats(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._stats_at >= self.config.stats_interval:
            self._stats_at = now
            log.info("%s: %s", self.config.name, self.flow.counters.line())

    # --- frames -------------------------------------------------------------------------------
    def _on_status(self, status: Status) -> None:
        self.source_status = status
        where = redact(self.config.source.source)
        if status.state == "live":
            log.info("%s: source %s is live", self.config.name, where)
        elif status.state == "unreachable":
            log.warning("%s: source %s: %s (%s); retrying", self.config.name, where, status.error, status.message)
        elif status.state == "ended":
            log.info("%s: source %s ended", self.config.name, where)

    def _on_ack(self, ack=None) -> None:
        if self.flow.settle(ack) == "fatal":
            log.debug("%s: refused: %s", self.config.name, self.flow.fatal)

    def send(self, frame: np.ndarray, ts: float) -> bool:
        """Send one sampled frame unless one is in flight or the server is away (then drop it)."""
        sio = self.sio
        if sio is None or not sio.connected:
            self.flow.counters.dropped += 1
            return False
        if not self.flow.try_send():
            return False
        jpeg = encode_jpeg(frame, self.config.max_width, self.config.quality)
        try:
            sio.emit("frame", {"ts": int(ts * 1000), "jpeg": jpeg}, namespace="/capture", callback=self._on_ack)
        except Exception:  # noqa: BLE001 - disconnected between the check and the send
            self.flow.cancel()
            return False
        return True

    def run(self, stop: threading.Event) -> int:
        cfg = self.config
        log.info("%s: source %s, server %s", cfg.name, redact(cfg.source.source), cfg.server)
        own_stop = threading.Event()  # ends this camera's threads without stopping the others

        def watch():
            while not own_stop.wait(0.2):
                if stop.is_set() or self.flow.fatal:
                    own_stop.set()

        threading.Thread(target=watch, daemon=True, name=f"{cfg.name} watch").start()
        connection = threading.Thread(target=self._connection_loop, args=(own_stop,), daemon=True, name=f"{cfg.name} server")
        connection.start()
        try:
            while not own_stop.is_set() and not self.ready.wait(0.2):
                pass
            if not own_stop.is_set():
                for frame, ts in frames(cfg.source, self.fps, own_stop, on_status=self._on_status):
                    self.send(frame, ts)
                    self._log_stats()
                self.ended = self.source_status is not None and self.source_status.state == "ended"
                if self.ended:
                    self._drain()
        finally:
            own_stop.set()
            connection.join(timeout=15)
            self._log_stats(force=True)
        if self.flow.fatal:
            log.error(
                "%s: the server refused the capture token (%s): the camera was deleted or its token renewed; "
                "copy the camera's new capture token from its site page",
                cfg.name,
                self.flow.fatal,
            )
            return EXIT_REFUSED
        return EXIT_OK

    def _drain(self, timeout: float = 5.0) -> None:
        """At the end of a file, wait for the last acknowledgement before disconnecting."""
        deadline = time.monotonic() + timeout
        while self.flow.in_flight_since is not None and time.monotonic() < deadline:
            time.sleep(0.05)
