"""Open a video source and sample its latest frames at a given rate, reconnecting with backoff.

SOURCE is an ``rtsp(s)://`` URL, an ``http(s)://`` MJPEG stream or snapshot URL (one JPEG per
GET), a video file, or a local device index ("0"). ``frames()`` yields ``(bgr, ts)`` pairs: a
reader thread keeps grabbing (decoding) so that a sampled frame is always the newest one and
nothing piles up while the consumer is busy; only sampled frames are converted to BGR. Files play
at their own frame rate (real time), once or looped. Failures are reported through a status
callback with a code (``unreachable``, ``auth_failed``, ``not_video``, ``ended``) and retried
with capped, jittered exponential backoff, except the end of a file that is not looped.

Credentials are put into the URL only when it is handed to FFmpeg; anything logged or reported
goes through ``redact()``.

A spec with an ``address`` (the gateway: the IP its caller resolved and checked against
STREAM_SOURCES_ALLOW) is never resolved again and never redirected elsewhere: HTTP requests
connect to that address (Host and TLS still name the URL's host) and follow no redirect; FFmpeg
gets the address literal and no redirect (``max_redirects`` 0 for HTTP; RTSP, whose redirects
FFmpeg always follows, goes through a local relay that connects to the address and ends the
connection on a redirect answer). A redirect is reported as ``unreachable``.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import random
import re
import selectors
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

# RTSP over TCP: UDP loses packets behind NAT and firewalls, and an agent connects out. Set before
# cv2 reads it (at each open); an operator's own value wins.
os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", "rtsp_transport;tcp")
# FFmpeg's own messages may quote a URL too; failures are reported by this module instead.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import requests  # noqa: E402
from requests.adapters import HTTPAdapter  # noqa: E402
from urllib3.connection import HTTPConnection, HTTPSConnection  # noqa: E402
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool  # noqa: E402

# OpenCV's warnings may quote the URL it was given, credentials included: keep it quiet.
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
# urllib3 logs each request's path and query at DEBUG, where cameras take passwords (?pwd=).
logging.getLogger("urllib3.connectionpool").setLevel(logging.INFO)

UNREACHABLE, AUTH_FAILED, NOT_VIDEO, ENDED = "unreachable", "auth_failed", "not_video", "ended"
OPEN_TIMEOUT_MS = 8000
READ_TIMEOUT_MS = 8000


class SourceError(Exception):
    """A failure with a code the status and the logs show (never the credentials)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class SourceSpec:
    source: str
    username: str | None = None
    password: str | None = None
    loop: bool = False
    # The checked IP address to connect to: the host is not resolved again and no redirect is
    # followed (the gateway). None: resolved as usual, redirects of snapshot URLs followed (the agent).
    address: str | None = None

    @property
    def kind(self) -> str:
        return source_kind(self.source)

    def __repr__(self) -> str:  # a spec printed by accident shows no password
        return f"SourceSpec({redact(self.source)!r}, loop={self.loop}, address={self.address!r})"


@dataclass(frozen=True)
class Status:
    """connecting -> live; unreachable (error set, retrying) or ended (final)."""

    state: str
    error: str | None = None
    message: str | None = None


StatusCallback = Callable[[Status], None]


def source_kind(source: str) -> str:
    """rtsp, http, device or file."""
    scheme = urlsplit(source).scheme.lower()
    if scheme in ("rtsp", "rtsps"):
        return "rtsp"
    if scheme in ("http", "https"):
        return "http"
    if source.strip().isdigit():
        return "device"
    return "file"


def redact(source: str) -> str:
    """The source as it may be logged: no user info, no query values (tokens hide there too)."""
    parts = urlsplit(source)
    if not parts.scheme or parts.scheme.lower() not in ("rtsp", "rtsps", "http", "https"):
        return source
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = ("***@" if parts.username or parts.password else "") + host + (f":{parts.port}" if parts.port else "")
    params = (p for p in re.split(r"[&;]", parts.query) if p)
    query = "&".join(p.partition("=")[0] + "=***" if "=" in p else "***" for p in params)  # a bare ?token too
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def _netloc(host: str, port: int | None) -> str:
    return (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")


def with_address(url: str, address: str) -> str:
    """The URL with its host replaced by an IP address literal (user info and port kept)."""
    parts = urlsplit(url)
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = (userinfo + "@" if userinfo else "") + _netloc(address, parts.port)
    return urlunsplit(parts._replace(netloc=netloc))


def require_capture_options(**options: str) -> None:
    """Force these FFmpeg options for every capture this process opens, keeping the operator's
    other ones. OPENCV_FFMPEG_CAPTURE_OPTIONS is process-wide and read at each open: call this
    before any capture thread starts."""
    current = os.environ.get("OPENCV_FFMPEG_CAPTURE_OPTIONS", "")
    pairs = dict(item.split(";", 1) for item in current.split("|") if ";" in item)
    pairs.update(options)
    os.environ["OPENCV_FFMPEG_CAPTURE_OPTIONS"] = "|".join(f"{k};{v}" for k, v in pairs.items())


def with_credentials(url: str, username: str | None, password: str | None) -> str:
    """The URL with user info for FFmpeg (percent-encoded, so that ':' or '@' in a password work)."""
    if not username and not password:
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    userinfo = quote(username or "", safe="") + (":" + quote(password, safe="") if password else "")
    netloc = f"{userinfo}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class Backoff:
    """Exponential delays, capped, with jitter (between half and all of the delay), so that many
    cameras failing at once do not come back in lockstep."""

    def __init__(self, base: float = 1.0, cap: float = 30.0, rand: Callable[[], float] = random.random):
        self.base, self.cap, self.rand = base, cap, rand
        self.attempt = 0

    def next(self) -> float:
        delay = min(self.cap, self.base * 2**self.attempt)
        self.attempt += 1
        return delay * (0.5 + 0.5 * self.rand())

    def reset(self) -> None:
        self.attempt = 0


def _rtsp_port(parts) -> int:
    return parts.port or (322 if parts.scheme == "rtsps" else 554)


def _redirected(url: str, what: str) -> SourceError:
    # The Location is not quoted: it may carry a token of its own.
    return SourceError(
        UNREACHABLE, f"{redact(url)} answered a redirect ({what}); redirects are not followed: give the final address"
    )


def _rtsp_probe(url: str, username: str | None, address: str | None = None) -> SourceError:
    """Why OpenCV could not open an RTSP URL: FFmpeg says only that it failed. A DESCRIBE without
    credentials tells an absent server from one that wants (other) credentials or has no such stream."""
    parts = urlsplit(url)
    port = _rtsp_port(parts)
    clean = urlunsplit(parts._replace(netloc=_netloc(parts.hostname or "", parts.port)))
    try:
        with socket.create_connection((address or parts.hostname, port), timeout=5) as raw:
            conn = (
                ssl.create_default_context().wrap_socket(raw, server_hostname=parts.hostname) if parts.scheme == "rtsps" else raw
            )
            conn.sendall(f"DESCRIBE {clean} RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\n\r\n".encode())
            answer = conn.recv(512).decode("latin-1", "replace")
    except OSError as exc:
        return SourceError(UNREACHABLE, f"cannot connect to {redact(url)}: {type(exc).__name__}")
    first = answer.split("\r\n", 1)[0]
    if not first.startswith("RTSP/"):
        return SourceError(NOT_VIDEO, f"{redact(url)} does not answer RTSP")
    code = first.split(" ")[1] if " " in first else ""
    if code == "401":
        return SourceError(
            AUTH_FAILED, f"{redact(url)} refused the " + ("credentials" if username else "request: credentials needed")
        )
    if code in ("404", "415", "454"):
        return SourceError(NOT_VIDEO, f"{redact(url)} has no such stream (RTSP {code})")
    if code.startswith("3"):
        return _redirected(url, f"RTSP {code}")
    return SourceError(UNREACHABLE, f"{redact(url)} did not start a stream (RTSP {code or '?'})")


class _PinnedAdapter(HTTPAdapter):
    """Connections to one IP address whatever the URL's host (which still names the Host header,
    SNI and the certificate): the name the caller checked is not resolved again."""

    def __init__(self, address: str):
        self.address = address  # before HTTPAdapter.__init__, which builds the pool manager
        super().__init__()

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        address = self.address

        class Pinned:
            def _new_conn(self) -> socket.socket:
                # An address literal: create_connection queries no DNS. Only for the connection:
                # the Host header and TLS (SNI, the certificate's name) read the same attribute.
                host, self._dns_host = self._dns_host, address
                try:
                    return super()._new_conn()
                finally:
                    self._dns_host = host

        class HTTP(HTTPConnectionPool):
            ConnectionCls = type("PinnedHTTPConnection", (Pinned, HTTPConnection), {})

        class HTTPS(HTTPSConnectionPool):
            ConnectionCls = type("PinnedHTTPSConnection", (Pinned, HTTPSConnection), {})

        # A new dict: urllib3's default one is shared by every PoolManager of the process.
        self.poolmanager.pool_classes_by_scheme = {"http": HTTP, "https": HTTPS}


def _session(spec: SourceSpec) -> requests.Session:
    session = requests.Session()
    if spec.address is not None:
        session.trust_env = False  # a proxy from the environment would connect in our stead
        # The same authorities as rtsps:// (OpenSSL's, where SSL_CERT_FILE names another bundle)
        session.verify = os.environ.get("SSL_CERT_FILE") or True
        adapter = _PinnedAdapter(spec.address)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
    return session


def _get(session: requests.Session, spec: SourceSpec, **kwargs) -> requests.Response:
    """A GET of the source; a redirect is an error for a pinned spec (it could lead anywhere)."""
    auth = (spec.username or "", spec.password or "") if spec.username or spec.password else None
    r = session.get(spec.source, auth=auth, allow_redirects=spec.address is None, **kwargs)
    if 300 <= r.status_code < 400:
        r.close()
        raise _redirected(spec.source, f"HTTP {r.status_code}")
    return r


def _causes(exc: BaseException):
    """The exception, its arguments and what caused it, depth first (urllib3 wraps ssl's errors)."""
    seen, todo = set(), [exc]
    while todo:
        e = todo.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        todo.extend(
            a
            for a in (*getattr(e, "args", ()), e.__cause__, e.__context__, getattr(e, "reason", None))
            if isinstance(a, BaseException)
        )


def _http_probe(spec: SourceSpec) -> str:
    """'snapshot' (one JPEG per GET) or 'stream' (MJPEG or a video over HTTP), or a SourceError."""
    try:
        with _session(spec) as session, _get(session, spec, stream=True, timeout=(5, 8)) as r:
            if r.status_code in (401, 403):
                raise SourceError(AUTH_FAILED, f"{redact(spec.source)} refused the credentials (HTTP {r.status_code})")
            if r.status_code >= 400:
                raise SourceError(UNREACHABLE, f"{redact(spec.source)} answered HTTP {r.status_code}")
            kind = r.headers.get("Content-Type", "").split(";")[0].strip().lower()
    except requests.exceptions.SSLError as exc:
        reason = next((a.verify_message for a in _causes(exc) if isinstance(a, ssl.SSLCertVerificationError)), None)
        if reason is None:
            raise SourceError(UNREACHABLE, f"cannot reach {redact(spec.source)}: TLS failed") from None
        raise SourceError(UNREACHABLE, f"{redact(spec.source)} has a certificate that is not trusted ({reason})") from None
    except requests.RequestException as exc:
        raise SourceError(UNREACHABLE, f"cannot reach {redact(spec.source)}: {type(exc).__name__}") from None
    if kind.startswith("image/"):
        return "snapshot"
    if kind.startswith(("multipart/", "video/", "application/octet-stream")) or not kind:
        return "stream"
    raise SourceError(NOT_VIDEO, f"{redact(spec.source)} is not a video ({kind})")


class _RtspAnswers:
    """The camera's side of an RTSP-over-TCP connection, read message by message: interleaved
    packets (``$``, channel, length) pass, answers pass whole, and a redirect answer stops
    everything (``refused`` says why)."""

    MAX_HEAD = 64 * 1024

    def __init__(self):
        self.buffer = bytearray()
        self.refused: str | None = None

    def feed(self, data: bytes) -> bytes | None:
        """The complete messages received so far, to forward; None when the connection must end."""
        buf = self.buffer
        buf += data
        at = 0
        while at < len(buf):
            if buf[at] == 0x24:  # "$": an RTP or RTCP packet
                if len(buf) - at < 4:
                    break
                end = at + 4 + int.from_bytes(buf[at + 2 : at + 4], "big")
            else:
                head_end = buf.find(b"\r\n\r\n", at)
                if head_end < 0:
                    if len(buf) - at > self.MAX_HEAD:
                        self.refused = "not RTSP"
                        return None
                    break
                lines = bytes(buf[at:head_end]).decode("latin-1").split("\r\n")
                status = lines[0].split(" ")
                if lines[0].startswith("RTSP/") and len(status) > 1 and status[1].startswith("3"):
                    self.refused = f"RTSP {status[1][:3]}"
                    return None
                length = next(
                    (v.strip() for k, _, v in (x.partition(":") for x in lines[1:]) if k.strip().lower() == "content-length"), "0"
                )
                if not length.isdigit():
                    self.refused = "not RTSP"
                    return None
                end = head_end + 4 + int(length)
            if end > len(buf):
                break
            at = end
        out = bytes(buf[:at])
        del buf[:at]
        return out


class _RtspRelay:
    """A local port that FFmpeg opens instead of the camera (FFmpeg follows RTSP redirects with no
    option to stop it). One connection, relayed to the checked address (TLS to the camera for
    rtsps://, so that answers can be read); a redirect answer ends it before FFmpeg sees it."""

    def __init__(self, address: str, port: int, tls_host: str | None):
        upstream = socket.create_connection((address, port), timeout=5)  # an address literal: no DNS
        if tls_host is not None:
            # The camera's certificate must be valid for the URL's host, as for https:// sources:
            # rtsps:// is chosen to keep credentials and frames from whoever sits on the path.
            context = ssl.create_default_context()
            try:
                upstream = context.wrap_socket(upstream, server_hostname=tls_host)
            except (OSError, ValueError):
                upstream.close()
                raise
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(OPEN_TIMEOUT_MS / 1000 + 2)
        self.port = self.listener.getsockname()[1]
        self.answers = _RtspAnswers()
        threading.Thread(target=self._serve, daemon=True, name="rtsp relay").start()

    @property
    def refused(self) -> str | None:
        return self.answers.refused

    def _serve(self) -> None:
        try:
            client, _ = self.listener.accept()
        except OSError:  # FFmpeg never came
            self.upstream.close()
            return
        finally:
            self.listener.close()
        # One thread for both ways: an SSL socket must not be read and written by two threads.
        with client, self.upstream as upstream, selectors.DefaultSelector() as selector:
            for sock in (client, upstream):
                sock.settimeout(READ_TIMEOUT_MS / 1000 + 2)  # a peer that stops reading ends the relay
                selector.register(sock, selectors.EVENT_READ)
            while True:
                pending = isinstance(upstream, ssl.SSLSocket) and upstream.pending()
                try:
                    ready = [upstream] if pending else [key.fileobj for key, _ in selector.select(1.0)]
                    for sock in ready:
                        try:
                            data = sock.recv(65536)
                        except ssl.SSLWantReadError:
                            continue
                        if not data:
                            return
                        if sock is client:
                            upstream.sendall(data)
                            continue
                        out = self.answers.feed(data)
                        if out is None:
                            return
                        client.sendall(out)
                except (OSError, ValueError):
                    return

    def close(self) -> None:
        self.listener.close()


def _open_rtsp_pinned(spec: SourceSpec, params: list[int]) -> cv2.VideoCapture:
    parts = urlsplit(spec.source)
    try:
        relay = _RtspRelay(spec.address, _rtsp_port(parts), parts.hostname if parts.scheme.lower() == "rtsps" else None)
    except ssl.SSLCertVerificationError as exc:
        raise SourceError(
            UNREACHABLE, f"{redact(spec.source)} has a certificate that is not trusted ({exc.verify_message})"
        ) from None
    except (OSError, ValueError) as exc:
        raise SourceError(UNREACHABLE, f"cannot connect to {redact(spec.source)}: {type(exc).__name__}") from None
    local = urlunsplit(("rtsp", f"127.0.0.1:{relay.port}", parts.path, parts.query, ""))
    cap = cv2.VideoCapture(with_credentials(local, spec.username, spec.password), cv2.CAP_FFMPEG, params)
    if cap.isOpened():
        return cap
    cap.release()
    relay.close()
    if relay.refused:
        if relay.refused.startswith("RTSP 3"):
            raise _redirected(spec.source, relay.refused)
        raise SourceError(NOT_VIDEO, f"{redact(spec.source)} does not answer RTSP")
    raise _rtsp_probe(spec.source, spec.username, spec.address)


def open_capture(spec: SourceSpec) -> cv2.VideoCapture:
    """An opened VideoCapture for an RTSP/HTTP stream, a file or a device, or a SourceError."""
    kind = spec.kind
    params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, OPEN_TIMEOUT_MS, cv2.CAP_PROP_READ_TIMEOUT_MSEC, READ_TIMEOUT_MS]
    if kind == "device":
        cap = cv2.VideoCapture(int(spec.source))
        if not cap.isOpened():
            raise SourceError(UNREACHABLE, f"no video device {spec.source}")
        return cap
    if kind == "file":
        path = Path(spec.source).expanduser()
        if not path.is_file():
            raise SourceError(UNREACHABLE, f"no such file: {spec.source}")
        cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, params)
        if not cap.isOpened() or not cap.grab():
            cap.release()
            raise SourceError(NOT_VIDEO, f"{spec.source} is not a video OpenCV can read")
        cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
        return cap
    if kind == "rtsp" and spec.address is not None:
        return _open_rtsp_pinned(spec, params)
    url = spec.source if spec.address is None else with_address(spec.source, spec.address)  # HTTP: max_redirects 0
    cap = cv2.VideoCapture(with_credentials(url, spec.username, spec.password), cv2.CAP_FFMPEG, params)
    if cap.isOpened():
        return cap
    cap.release()
    if kind == "rtsp":
        raise _rtsp_probe(spec.source, spec.username)
    raise SourceError(NOT_VIDEO, f"{redact(spec.source)} gave no video frames")


class _Latest:
    """One slot: the newest sampled frame replaces an unread one (the consumer never sees a backlog)."""

    def __init__(self):
        self.cond = threading.Condition()
        self.item: tuple[np.ndarray, float] | None = None
        self.error: SourceError | None = None

    def put(self, frame: np.ndarray, ts: float) -> None:
        with self.cond:
            self.item = (frame, ts)
            self.cond.notify_all()

    def fail(self, error: SourceError) -> None:
        with self.cond:
            self.error = error
            self.cond.notify_all()

    def take(self, timeout: float) -> tuple[np.ndarray, float] | SourceError | None:
        with self.cond:
            if self.item is None and self.error is None:
                self.cond.wait(timeout)
            if self.item is not None:
                item, self.item = self.item, None
                return item
            return self.error


def _checked_literal(address: str) -> str:
    """The pinned address, which must be an IP literal (a name would be resolved again)."""
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        raise SourceError(UNREACHABLE, "the checked address is not an IP address") from None


def _interval(fps: float | Callable[[], float]) -> float:
    value = fps() if callable(fps) else fps
    return 1.0 / max(0.01, float(value))


def _read_capture(cap, spec: SourceSpec, fps, slot: _Latest, stop: threading.Event, clock) -> None:
    """Grab every frame (live sources: keeps FFmpeg's buffer empty; files: at the file's rate),
    and retrieve (convert) only the frames due for sampling."""
    is_file = spec.kind == "file"
    file_fps = cap.get(cv2.CAP_PROP_FPS) if is_file else 0.0
    file_step = 1.0 / file_fps if 0 < file_fps < 240 else 1 / 25
    next_due = clock()
    played = clock()
    try:
        while not stop.is_set():
            if is_file:  # real time: wait for this frame's moment
                delay = played - clock()
                if delay > 0 and stop.wait(delay):
                    return
                played = max(played + file_step, clock() - 1.0)
            if not cap.grab():
                if is_file and spec.loop:
                    cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                    if cap.grab():
                        continue
                slot.fail(SourceError(ENDED, "the video ended") if is_file else SourceError(UNREACHABLE, "the stream stopped"))
                return
            now = clock()
            if now >= next_due:
                ok, frame = cap.retrieve()
                if ok and frame is not None:
                    slot.put(frame, time.time())
                    next_due = max(next_due + _interval(fps), now)
    finally:
        cap.release()


def _read_snapshots(spec: SourceSpec, fps, slot: _Latest, stop: threading.Event, clock) -> None:
    with _session(spec) as session:
        while not stop.is_set():
            started = clock()
            try:
                r = _get(session, spec, timeout=(5, 8))
            except SourceError as exc:
                slot.fail(exc)
                return
            except requests.RequestException as exc:
                slot.fail(SourceError(UNREACHABLE, f"cannot reach {redact(spec.source)}: {type(exc).__name__}"))
                return
            if r.status_code in (401, 403):
                slot.fail(SourceError(AUTH_FAILED, f"{redact(spec.source)} refused the credentials (HTTP {r.status_code})"))
                return
            frame = cv2.imdecode(np.frombuffer(r.content, np.uint8), cv2.IMREAD_COLOR) if r.status_code == 200 else None
            if frame is None:
                slot.fail(SourceError(NOT_VIDEO, f"{redact(spec.source)} did not answer an image (HTTP {r.status_code})"))
                return
            slot.put(frame, time.time())
            if stop.wait(max(0.0, _interval(fps) - (clock() - started))):
                return


def frames(
    spec: SourceSpec,
    fps: float | Callable[[], float],
    stop: threading.Event,
    on_status: StatusCallback | None = None,
    backoff: Backoff | None = None,
    clock: Callable[[], float] = time.monotonic,
    pin: Callable[[SourceSpec], str] | None = None,
) -> Iterator[tuple[np.ndarray, float]]:
    """Sampled frames of the source, newest first, until ``stop`` is set or a file ends.

    ``fps`` may be a callable (the rate the server asks for may change while streaming).
    ``ts`` is the wall-clock time (s) at which the frame was taken from the source.
    ``pin``, called before each connection, resolves and checks the source's host and returns the
    IP address to connect to (see ``SourceSpec.address``), or raises a SourceError (retried).
    """
    backoff = backoff or Backoff()
    report = on_status or (lambda status: None)
    while not stop.is_set():
        report(Status("connecting"))
        slot, reader_stop = _Latest(), threading.Event()
        try:
            conn = replace(spec, address=_checked_literal(pin(spec))) if pin else spec
            if conn.kind == "http" and _http_probe(conn) == "snapshot":
                target, args = _read_snapshots, (conn, fps, slot, reader_stop, clock)
            else:
                target, args = _read_capture, (open_capture(conn), conn, fps, slot, reader_stop, clock)
        except SourceError as exc:
            error = exc
        else:
            reader = threading.Thread(target=target, args=args, daemon=True, name=f"source {redact(spec.source)}")
            reader.start()
            error, live = None, False
            try:
                while not stop.is_set():
                    got = slot.take(timeout=READ_TIMEOUT_MS / 1000 + 2)
                    if isinstance(got, SourceError):
                        error = got
                        break
                    if got is None:
                        if not reader.is_alive():
                            error = SourceError(UNREACHABLE, "the source stopped")
                            break
                        continue
                    if not live:
                        live = True
                        backoff.reset()
                        report(Status("live"))
                    yield got
            finally:
                # Wait for the reader to release the capture: a VideoCapture destroyed by the
                # interpreter's exit while FFmpeg still reads aborts the process.
                reader_stop.set()
                reader.join(timeout=READ_TIMEOUT_MS / 1000 + 2)
        if stop.is_set():
            return
        if error is None:
            continue
        if error.code == ENDED:
            report(Status("ended", ENDED, error.message))
            return
        report(Status("unreachable", error.code, error.message))
        if stop.wait(backoff.next()):
            return
