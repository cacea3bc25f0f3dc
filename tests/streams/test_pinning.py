"""Gateway pulls connect to the address that was checked against STREAM_SOURCES_ALLOW and nowhere
else: the name is not resolved again (by requests nor FFmpeg), and a redirect (HTTP or RTSP) is an
``unreachable`` status, never followed to another address."""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.gateway import coordinator as gw  # noqa: F401 - sets the FFmpeg options the gateway runs with
from app.streams.source import (
    UNREACHABLE,
    Backoff,
    SourceError,
    SourceSpec,
    _http_probe,
    _RtspRelay,
    frames,
    open_capture,
)
from tests.services.test_outbound import FakeDNS
from tests.streams.sources import PASSWORD, SnapshotServer
from tests.streams.test_gateway import run_gateway, status, stop_gateway, stream_camera, wait_for

TRAP_HOST = "127.0.0.2"  # loopback too, but another address: what a redirect or a second lookup would reach


class Trap:
    """A port on TRAP_HOST that counts the connections it gets (and answers none)."""

    def __init__(self, port: int = 0, host: str = TRAP_HOST):
        self.sock = socket.create_server((host, port))
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.handle(conn)

    def handle(self, conn: socket.socket) -> None:
        self.connections += 1
        conn.close()

    def close(self) -> None:
        self.sock.close()


class Redirecting:
    """An HTTP server on 127.0.0.1 that answers every GET with ``code`` to ``location``."""

    def __init__(self, location: str, code: int = 302):
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                self.send_response(code)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class RtspRedirecting:
    """An RTSP server on 127.0.0.1 that answers every request with a 302 to ``location``."""

    def __init__(self, location: str):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"rtsp://127.0.0.1:{self.sock.getsockname()[1]}/cam"
        self.location = location
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            buffer = b""
            try:
                while True:
                    while b"\r\n\r\n" not in buffer:
                        chunk = conn.recv(4096)
                        if not chunk:
                            return
                        buffer += chunk
                    head, buffer = buffer.split(b"\r\n\r\n", 1)
                    cseq = next(
                        (x.split(":", 1)[1].strip() for x in head.decode().split("\r\n") if x.lower().startswith("cseq")), "0"
                    )
                    conn.sendall(f"RTSP/1.0 302 Moved\r\nCSeq: {cseq}\r\nLocation: {self.location}\r\n\r\n".encode())
            except OSError:
                return

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def trap():
    t = Trap()
    yield t
    t.close()


@pytest.fixture
def dns(monkeypatch) -> FakeDNS:
    fake = FakeDNS()
    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return fake


# --- the streams module, given a checked address -------------------------------------------------


def test_a_pinned_http_source_connects_to_the_checked_address_and_never_resolves_the_name(dns, trap):
    server = SnapshotServer()
    try:
        port = server.server.server_address[1]
        dns.table["camera.example"] = [TRAP_HOST]  # a lookup now would lead to the trap
        spec = SourceSpec(f"http://camera.example:{port}/snap.jpg", "viewer", PASSWORD)
        assert _http_probe(SourceSpec(spec.source, spec.username, spec.password, address="127.0.0.1")) == "snapshot"
        stop, pins, got = threading.Event(), [], []
        for frame, _ in frames(spec, 5, stop, pin=lambda s: pins.append(s.source) or "127.0.0.1"):
            got.append(frame.shape)
            if len(got) == 2:
                stop.set()
    finally:
        server.stop()
    assert len(got) == 2 and pins == [spec.source]
    assert "camera.example" not in dns.calls and trap.connections == 0
    # The address is only where to connect: the request still names the camera's host (a camera
    # behind a name-based proxy answers by it; for https:// the certificate is checked against it).
    assert server.hosts and set(server.hosts) == {f"camera.example:{port}"}


def test_a_pin_that_refuses_is_an_unreachable_status_with_its_code_and_nothing_is_opened(dns):
    def refuse(spec):
        raise SourceError("source_not_allowed", "not in STREAM_SOURCES_ALLOW")

    stop, statuses = threading.Event(), []

    def on_status(s):
        statuses.append(s)
        if s.state == "unreachable":
            stop.set()

    assert list(frames(SourceSpec("http://camera.example/snap.jpg"), 2, stop, on_status, Backoff(0.01, 0.01), pin=refuse)) == []
    assert [(s.state, s.error) for s in statuses] == [("connecting", None), ("unreachable", "source_not_allowed")]
    assert dns.calls == []


@pytest.mark.parametrize("code", [301, 302, 307])
def test_an_http_redirect_is_refused_and_its_target_never_reached(trap, code):
    redirect = Redirecting(f"http://{TRAP_HOST}:{trap.port}/snap.jpg", code)
    try:
        with pytest.raises(SourceError) as refused:
            _http_probe(SourceSpec(f"{redirect.base}/snap.jpg?token=abc", address="127.0.0.1"))
    finally:
        redirect.close()
    assert refused.value.code == UNREACHABLE and f"redirect (HTTP {code})" in refused.value.message
    assert "abc" not in refused.value.message and TRAP_HOST not in refused.value.message
    assert trap.connections == 0


def test_ffmpeg_follows_no_http_redirect_for_a_pinned_source(trap):
    """The probe's GET may pass and FFmpeg's get a redirect (a server that answers each its own
    way): FFmpeg itself is told to follow none."""
    redirect = Redirecting(f"http://{TRAP_HOST}:{trap.port}/stream.mjpg")
    try:
        with pytest.raises(SourceError):
            open_capture(SourceSpec(f"{redirect.base}/stream.mjpg", address="127.0.0.1"))
    finally:
        redirect.close()
    assert trap.connections == 0


def test_an_rtsp_redirect_is_refused_and_its_target_never_reached(trap):
    """FFmpeg follows RTSP redirects with no option to stop it: the relay ends the connection first."""
    server = RtspRedirecting(f"rtsp://{TRAP_HOST}:{trap.port}/cam")
    try:
        started = time.monotonic()
        with pytest.raises(SourceError) as refused:
            open_capture(SourceSpec(server.url, "viewer", PASSWORD, address="127.0.0.1"))
        assert time.monotonic() - started < 10
    finally:
        server.close()
    assert refused.value.code == UNREACHABLE and "redirect (RTSP 302)" in refused.value.message
    assert PASSWORD not in refused.value.message
    assert trap.connections == 0


class TlsListener(Trap):
    """A TLS port on 127.0.0.1 with a self-signed certificate for ``camera.example``: it counts
    the handshakes that complete (a client that checks the certificate completes none)."""

    def __init__(self, tmp_path):
        self.cert, key = tmp_path / "camera.pem", tmp_path / "camera.key"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=camera.example",
             "-addext", "subjectAltName=DNS:camera.example", "-keyout", str(key), "-out", str(self.cert)],
            check=True, capture_output=True,
        )  # fmt: skip
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(self.cert, key)
        self.handshakes = 0
        super().__init__(host="127.0.0.1")

    def handle(self, conn: socket.socket) -> None:
        try:
            with self.context.wrap_socket(conn, server_side=True):
                self.handshakes += 1
        except OSError:
            conn.close()


def test_a_pinned_rtsps_camera_must_show_a_certificate_valid_for_its_name(tmp_path, monkeypatch):
    """rtsps:// is chosen to keep the password and the frames from whoever sits on the path: a
    certificate that is not trusted, or not for the URL's host, ends the pull before any RTSP
    request (the password included) is sent."""
    listener = TlsListener(tmp_path)
    try:
        url = f"rtsps://camera.example:{listener.port}/cam"
        with pytest.raises(SourceError) as refused:
            open_capture(SourceSpec(url, "viewer", PASSWORD, address="127.0.0.1"))
        assert refused.value.code == UNREACHABLE and "certificate that is not trusted" in refused.value.message
        assert "self-signed" in refused.value.message and PASSWORD not in refused.value.message
        assert listener.handshakes == 0
        # Trusted (as a camera with a certificate from the organisation's authority), the relay
        # completes its handshake; the name must still match.
        monkeypatch.setenv("SSL_CERT_FILE", str(listener.cert))
        relay = _RtspRelay("127.0.0.1", listener.port, "camera.example")
        relay.close()
        wait_for(lambda: listener.handshakes == 1, 5, "a trusted handshake")
        with pytest.raises(ssl.SSLCertVerificationError):
            _RtspRelay("127.0.0.1", listener.port, "other.example")
        # An https:// camera is held to the same authorities by its first probe.
        https = SourceSpec(f"https://camera.example:{listener.port}/snap.jpg", "viewer", PASSWORD, address="127.0.0.1")
        with pytest.raises(SourceError) as answered:  # trusted: the handshake passes, then no HTTP
            _http_probe(https)
        assert "certificate" not in answered.value.message
        monkeypatch.delenv("SSL_CERT_FILE")
        with pytest.raises(SourceError) as refused:
            _http_probe(https)
        assert "certificate that is not trusted (self-signed" in refused.value.message
    finally:
        listener.close()


@pytest.mark.process
def test_a_pinned_rtsp_stream_plays_through_the_relay_without_resolving_the_name(tmp_path, dns, trap):
    from tests.agent.clips import face_clip
    from tests.agent.rtsp import RtspServer

    server = RtspServer(face_clip(tmp_path / "clip.mp4", seconds=2), tmp_path, "viewer", "pw:@/x")
    try:
        port = server.listener.getsockname()[1]
        dns.table["camera.example"] = [TRAP_HOST]
        spec = SourceSpec(f"rtsp://camera.example:{port}/cam", "viewer", "pw:@/x")
        stop, got, statuses = threading.Event(), [], []
        started = time.monotonic()
        for frame, _ in frames(spec, 4, stop, statuses.append, Backoff(0.2, 1), pin=lambda s: "127.0.0.1"):
            got.append(frame.shape)
            if len(got) == 4 or time.monotonic() - started > 30:
                stop.set()
    finally:
        server.stop()
    assert got == [(480, 640, 3)] * 4, statuses
    assert "PLAY" in server.requests
    assert "camera.example" not in dns.calls and trap.connections == 0


# --- the gateway --------------------------------------------------------------------------------


@pytest.fixture
def allowed(app):
    app.config["STREAM_SOURCES_ALLOW"] = ["127.0.0.0/8"]
    return app


pytestmark_gateway = pytest.mark.parametrize("app", ["sqlite"], indirect=True)


@pytestmark_gateway
def test_the_gateway_shows_a_redirect_as_unreachable_and_never_reaches_its_target(allowed, client, trap):
    from tests.conftest import Tenant

    redirect = Redirecting(f"http://{TRAP_HOST}:{trap.port}/snap.jpg")
    tenant = Tenant(client, "Redirects")
    cam = stream_camera(tenant, tenant.site()["id"], f"{redirect.base}/snap.jpg?pwd=s3cret-q")
    gateway, thread = run_gateway(allowed)
    try:
        wait_for(lambda: status(tenant, cam["id"])["status"] == "unreachable", 20, "redirect not refused")
    finally:
        stop_gateway(gateway, thread)
        redirect.close()
    error = status(tenant, cam["id"])["error"]
    assert error.startswith("unreachable:") and "redirect (HTTP 302)" in error and "s3cret-q" not in error
    assert trap.connections == 0


@pytestmark_gateway
def test_a_name_that_now_resolves_outside_the_allowed_networks_is_refused_at_connect_time(allowed, client, dns):
    from tests.conftest import Tenant

    server = SnapshotServer()
    served = server.served
    port = server.server.server_address[1]
    dns.table["camera.example"] = ["127.0.0.1"]
    tenant = Tenant(client, "Rebinding")
    cam = stream_camera(
        tenant, tenant.site()["id"], f"http://camera.example:{port}/snap.jpg", username="viewer", password=PASSWORD
    )
    dns.table["camera.example"] = ["10.0.0.5"]  # outside 127.0.0.0/8 since the camera was saved
    gateway, thread = run_gateway(allowed)
    try:
        wait_for(lambda: (status(tenant, cam["id"])["error"] or "").startswith("source_not_allowed"), 20, "not refused")
        assert served == []
        dns.table["camera.example"] = ["127.0.0.1"]  # back inside: pulled again at the next try
        wait_for(lambda: status(tenant, cam["id"])["status"] == "live", 40, "not live again")
    finally:
        stop_gateway(gateway, thread)
        server.stop()
    assert served and all(p == "/snap.jpg" for p in served)
