"""Outbound requests to tenants' URLs: SSRF refused at creation and at connect time, outcomes that
do not map ports, webhook signing secrets encrypted at rest (and rotatable)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import re
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask import Flask
from sqlalchemy import text

from app import outbound
from app.infra import secrets as data_secrets
from tests.processes import free_port
from tests.services.test_webhooks import Receiver

PUBLIC = "93.184.216.34"  # a public address; nothing here is sent to it (no route out of the test machine)
_real_getaddrinfo = socket.getaddrinfo

SSRF_CORPUS = [
    "https://93.184.215.14:0/",  # a public address, but port 0: nothing can listen there
    "https://hooks.example:0/",
    "http://127.0.0.1:6379/",
    "http://169.254.169.254/latest/meta-data/",
    "http://localhost/",
    "http://localhost.:8080/",
    "http://2130706433/",
    "http://0x7f.1/",
    "http://017700000001/",
    "http://127.1/",
    "http://0177.0.0.1/",
    "http://[fd00:ec2::254]/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://[::1]/",
    "http://0.0.0.0/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::127.0.0.1]/",
    "http://[2002:7f00:1::]/",
    "http://[64:ff9b::a9fe:a9fe]/",
    "http://[fe80::1]/",
    "http://[fec0::1]/",
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://224.0.0.1/",
    "http://255.255.255.255/",
    "http://user:pass@example.com/",
    "http://user@example.com/",
    "ftp://example.com/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_INFO",
    "http:///nohost",
    "http://mixed.example/",
    "http://nowhere.example/",
    "http://internal.example/",
    "https://sub.localhost/",
]


class FakeDNS:
    """socket.getaddrinfo for names in ``table`` (a name to its addresses); address literals resolve
    as usual; other names do not resolve. ``lie_after`` answers every later call, literals too, with
    that address: a resolver that changes its answer between the check and the connection."""

    def __init__(self):
        self.table: dict[str, list[str]] = {
            "example.com": [PUBLIC],
            "hooks.example": [PUBLIC],
            "metadata.google.internal": ["169.254.169.254"],
            "mixed.example": [PUBLIC, "10.0.0.5"],
            "internal.example": ["fd00::5"],
            "localhost": ["127.0.0.1"],
        }
        self.calls: list[str] = []
        self.lie_after: tuple[int, str] | None = None

    def __call__(self, host, port, family=0, type=0, proto=0, flags=0):  # noqa: A002 - socket's names
        self.calls.append(host)
        name = host.decode() if isinstance(host, bytes) else host
        if self.lie_after and len(self.calls) > self.lie_after[0]:
            return [self._info(self.lie_after[1], port)]
        if name.rstrip(".") in self.table:
            return [self._info(a, port) for a in self.table[name.rstrip(".")]]
        return _real_getaddrinfo(host, port, family, type, proto, flags | socket.AI_NUMERICHOST)

    @staticmethod
    def _info(address: str, port):
        if ipaddress.ip_address(address).version == 6:
            return socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, int(port or 0), 0, 0)
        return socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port or 0))


@pytest.fixture
def dns(monkeypatch) -> FakeDNS:
    fake = FakeDNS()
    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return fake


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def bare_app():
    """An app context without a database, for the outbound module alone."""
    application = Flask("outbound-test")
    application.config.update(OUTBOUND_ALLOW_NETWORKS="127.0.0.0/8")
    with application.app_context():
        yield application


def deliveries(tenant, hook_id: int) -> list[dict]:
    return tenant.call("GET", f"/api/v1/webhooks/{hook_id}/deliveries").get_json()["items"]


def deliver(app, hook_id: int) -> bool:
    from app.services import webhooks

    with app.app_context():
        return webhooks.attempt(hook_id, "alert.open", {"id": None, "emotion": "joy"}, 1)


# --- refused at creation ------------------------------------------------------------------------


def test_ssrf_corpus_is_refused_by_the_api(app, tenant_a, dns):
    accepted = {}
    for url in SSRF_CORPUS:
        r = tenant_a.call("POST", "/api/v1/webhooks", json={"url": url})
        error = (r.get_json() or {}).get("error", {})
        if (r.status_code, error.get("code"), error.get("fields")) != (400, "url_not_allowed", {"url": "not_allowed"}):
            accepted[url] = (r.status_code, error)
    assert accepted == {}
    assert tenant_a.call("GET", "/api/v1/webhooks").get_json()["items"] == []
    # The same API takes a public receiver (a refusal of everything would pass the loop above).
    r = tenant_a.call("POST", "/api/v1/webhooks", json={"url": "https://hooks.example/emotiscan"})
    assert r.status_code == 201 and r.get_json()["url"] == "https://hooks.example/emotiscan"


def test_internal_names_and_missing_names_get_the_same_message(app, tenant_a, dns):
    """A tenant cannot enumerate internal DNS names through the error message."""
    missing = tenant_a.call("POST", "/api/v1/webhooks", json={"url": "http://nowhere.example/"}).get_json()["error"]
    internal = tenant_a.call("POST", "/api/v1/webhooks", json={"url": "http://internal.example/"}).get_json()["error"]
    assert missing == internal and "public internet address" in missing["message"]


def test_admin_page_refuses_a_private_url_and_shows_the_plain_secret(app, client, tenant_a, dns):
    client.post("/auth/login", data={"email": tenant_a.email, "password": "secret-pass-1"})
    r = client.post("/admin/webhooks", data={"url": "http://169.254.169.254/latest/"}, headers={"Accept-Language": "en"})
    assert r.status_code == 400 and "public internet address" in r.get_data(as_text=True)
    assert tenant_a.call("GET", "/api/v1/webhooks").get_json()["items"] == []
    page = client.post("/admin/webhooks", data={"url": "https://hooks.example/h"}).get_data(as_text=True)
    shown = re.search(r'id="secret" class="copy" type="text" readonly value="([^"]+)"', page).group(1)
    assert re.fullmatch(r"[0-9a-f]{48}", shown)  # the secret itself, not its ciphertext
    with app.app_context():
        from app.extensions import db

        stored = db.session.execute(text("SELECT secret FROM webhooks")).scalar_one()
        assert stored != shown and data_secrets.decrypt(stored) == shown


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.31.255.255",
        "192.168.0.1",
        "169.254.169.254",
        "100.64.0.1",
        "100.127.255.254",
        "0.0.0.0",
        "0.1.2.3",
        "192.0.0.8",
        "198.18.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "224.0.0.251",
        "::",
        "::1",
        "fe80::1",
        "fe80::1%1",
        "fec0::1",
        "fc00::1",
        "fd00:ec2::254",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:8.8.8.8",
        "::127.0.0.1",
        "2002:7f00:1::1",
        "2002:a00:1::1",
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",
        "64:ff9b::7f00:1",
        "64:ff9b:1::1",
        "2001:db8::1",
        "not an address",
    ],
)
def test_address_is_refused(address):
    assert not outbound.address_allowed(address)


@pytest.mark.parametrize("address", [PUBLIC, "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450:4007:80e::200e"])
def test_public_address_is_allowed(address):
    assert outbound.address_allowed(address)


def test_allow_networks_opens_only_what_it_names():
    allow = (ipaddress.ip_network("10.20.0.0/16"),)
    assert outbound.address_allowed("10.20.1.2", allow) and not outbound.address_allowed("10.21.1.2", allow)
    assert not outbound.address_allowed("127.0.0.1", allow)
    # Never a receiver, whatever the operator allows.
    assert not outbound.address_allowed("0.0.0.0", (ipaddress.ip_network("0.0.0.0/0"),))


# --- checked at connect time ---------------------------------------------------------------------


def test_dns_rebinding_after_creation_is_blocked_at_connect_time(app, tenant_a, dns, receiver):
    dns.table["rebind.example"] = [PUBLIC]
    r = tenant_a.call("POST", "/api/v1/webhooks", json={"url": f"http://rebind.example:{receiver.port}/hook"})
    assert r.status_code == 201
    dns.table["rebind.example"] = ["127.0.0.1"]  # the attacker's DNS now points at the platform itself
    assert deliver(app, r.get_json()["id"]) is False
    assert receiver.requests == []
    log = deliveries(tenant_a, r.get_json()["id"])
    assert [(d["ok"], d["status_code"], d["error"]) for d in log] == [(False, None, "blocked_address")]


def test_peer_address_is_checked_after_connect(bare_app, dns, receiver, monkeypatch):
    """Even when the resolver changes its answer between the check and the connection (here: it
    answers the public address once, then 127.0.0.1 to everything), the connected peer is checked."""
    monkeypatch.setitem(bare_app.config, "OUTBOUND_ALLOW_NETWORKS", "")
    dns.table["rebind.example"] = [PUBLIC]
    dns.lie_after = (len(dns.calls) + 1, "127.0.0.1")
    outcome = outbound.post(f"http://rebind.example:{receiver.port}/hook", b"{}", {}, timeout=2)
    assert outcome == outbound.Outcome("blocked_address") and receiver.requests == []
    assert len(dns.calls) >= 2  # the lie was served: the block came from the peer check


def test_allow_networks_lets_the_local_receiver_in(app, tenant_a, receiver):
    url = receiver.url
    assert tenant_a.call("POST", "/api/v1/webhooks", json={"url": url}).status_code == 400
    app.config["OUTBOUND_ALLOW_NETWORKS"] = "10.0.0.0/8"  # another private network: still refused
    assert tenant_a.call("POST", "/api/v1/webhooks", json={"url": url}).status_code == 400
    app.config["OUTBOUND_ALLOW_NETWORKS"] = "10.0.0.0/8, 127.0.0.0/8"
    r = tenant_a.call("POST", "/api/v1/webhooks", json={"url": url})
    assert r.status_code == 201
    assert deliver(app, r.get_json()["id"]) is True
    assert len(receiver.requests) == 1
    assert [(d["ok"], d["status_code"], d["error"]) for d in deliveries(tenant_a, r.get_json()["id"])] == [(True, 204, None)]
    # Taken back: the same hook is refused at delivery too, not only at creation.
    app.config["OUTBOUND_ALLOW_NETWORKS"] = ""
    assert deliver(app, r.get_json()["id"]) is False and len(receiver.requests) == 1


def test_redirects_are_not_followed(bare_app, receiver):
    class Redirect(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's hook name
            self.send_response(307)
            self.send_header("Location", receiver.url)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        outcome = outbound.post(f"http://127.0.0.1:{server.server_port}/", b"{}", {}, timeout=2)
    finally:
        server.shutdown()
    assert outcome == outbound.Outcome("http_error", 307) and receiver.requests == []


def test_proxy_settings_of_the_environment_are_ignored(bare_app, receiver, monkeypatch):
    proxy = Receiver()
    try:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
        monkeypatch.setenv("NO_PROXY", "")
        assert outbound.post(receiver.url, b"{}", {}, timeout=2).ok
    finally:
        proxy.close()
    assert proxy.requests == [] and len(receiver.requests) == 1


# --- outcomes that do not scan ports --------------------------------------------------------------


class SilentPort:
    """A port that accepts connections (the kernel's backlog) and never answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]


class ChattyPort:
    """A port that answers every connection with a non-HTTP banner (Redis, SSH...) and closes."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.sendall(b"-ERR unknown command 'POST'\r\nSSH-2.0-OpenSSH_9.6\r\n")


def test_closed_silent_and_non_http_ports_look_the_same(app, tenant_a):
    app.config.update(OUTBOUND_ALLOW_NETWORKS="127.0.0.0/8", WEBHOOK_TIMEOUT_S=0.5)
    silent, chatty = SilentPort(), ChattyPort()
    try:
        closed_port = free_port()  # bound then released: nothing listens there
        errors = {}
        for name, port in (("closed", closed_port), ("silent", silent.port), ("chatty", chatty.port)):
            r = tenant_a.call("POST", "/api/v1/webhooks", json={"url": f"http://127.0.0.1:{port}/"})
            assert r.status_code == 201
            assert deliver(app, r.get_json()["id"]) is False
            [entry] = deliveries(tenant_a, r.get_json()["id"])
            errors[name] = (entry["ok"], entry["status_code"], entry["error"])
    finally:
        silent.sock.close()
        chatty.sock.close()
    assert errors == {
        "closed": (False, None, "unreachable"),
        "silent": (False, None, "unreachable"),
        "chatty": (False, None, "unreachable"),
    }


def test_outcomes_are_categories_only(bare_app, dns):
    silent = SilentPort()
    try:
        outcomes = [
            outbound.post(url, b"{}", {}, timeout=0.5)
            for url in (
                f"http://127.0.0.1:{free_port()}/",
                f"http://127.0.0.1:{silent.port}/",
                f"https://127.0.0.1:{silent.port}/",
                "http://nowhere.example/",
                "http://127.0.0.1:99999/",
                "http://[::1",
                "http://10.0.0.1/",
            )
        ]
    finally:
        silent.sock.close()
    assert [o.category for o in outcomes] == ["unreachable"] * 4 + ["blocked_address"] * 3
    assert {o.status_code for o in outcomes} == {None}


def _self_signed(tmp_path) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_file), str(key_file)


def test_untrusted_certificate_is_a_tls_error_and_a_plain_port_is_not(bare_app, tmp_path, receiver):
    cert, key = _self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert outbound.post(f"https://127.0.0.1:{server.server_port}/", b"{}", {}, timeout=2) == outbound.Outcome("tls_error")
    finally:
        server.shutdown()
    # An HTTP (not TLS) server behind an https:// URL: nothing more than unreachable.
    plain = outbound.post(f"https://127.0.0.1:{receiver.port}/", b"{}", {}, timeout=2)
    assert plain == outbound.Outcome("unreachable")


# --- secrets at rest ----------------------------------------------------------------------------


def _stored_secret(app, hook_id: int) -> str:
    with app.app_context():
        from app.extensions import db

        return db.session.execute(text("SELECT secret FROM webhooks WHERE id = :id"), {"id": hook_id}).scalar_one()


def test_secret_is_not_stored_in_clear_and_signatures_verify(app, tenant_a, receiver):
    app.config["OUTBOUND_ALLOW_NETWORKS"] = "127.0.0.0/8"
    hook = tenant_a.call("POST", "/api/v1/webhooks", json={"url": receiver.url}).get_json()
    plain = hook["secret"]
    assert re.fullmatch(r"[0-9a-f]{48}", plain)
    stored = _stored_secret(app, hook["id"])
    assert plain not in stored and data_secrets.is_encrypted(stored)
    assert deliver(app, hook["id"]) is True
    headers, body = receiver.requests[-1]
    assert headers["X-EmotiScan-Signature"] == "sha256=" + hmac.new(plain.encode(), body, hashlib.sha256).hexdigest()
    assert "secret" not in tenant_a.call("GET", "/api/v1/webhooks").get_json()["items"][0]


def test_secret_stored_before_encryption_still_signs_and_is_then_encrypted(app, tenant_a, receiver):
    app.config["OUTBOUND_ALLOW_NETWORKS"] = "127.0.0.0/8"
    legacy = "0123456789abcdef" * 3
    with app.app_context():
        from app.extensions import db
        from app.models import Webhook

        hook = Webhook(tenant_id=tenant_a.id, url=receiver.url, secret=legacy)
        db.session.add(hook)
        db.session.commit()
        hook_id = hook.id
    assert deliver(app, hook_id) is True
    headers, body = receiver.requests[-1]
    assert headers["X-EmotiScan-Signature"] == "sha256=" + hmac.new(legacy.encode(), body, hashlib.sha256).hexdigest()
    stored = _stored_secret(app, hook_id)
    assert stored != legacy and data_secrets.is_encrypted(stored)
    with app.app_context():
        assert data_secrets.decrypt(stored) == legacy


def test_data_keys_rotate(app, tenant_a, receiver):
    app.config["OUTBOUND_ALLOW_NETWORKS"] = "127.0.0.0/8"
    before = tenant_a.call("POST", "/api/v1/webhooks", json={"url": receiver.url}).get_json()  # key from SECRET_KEY
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    app.config["DATA_KEYS"] = old
    hook = tenant_a.call("POST", "/api/v1/webhooks", json={"url": receiver.url}).get_json()
    stored = _stored_secret(app, hook["id"])
    assert Fernet(old).decrypt(stored.encode()).decode() == hook["secret"]
    app.config["DATA_KEYS"] = f"{new},{old}"  # rotation: the new key first, the old one still decrypts
    for created in (hook, before):
        assert deliver(app, created["id"]) is True
        headers, body = receiver.requests[-1]
        signed = "sha256=" + hmac.new(created["secret"].encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-EmotiScan-Signature"] == signed
    with app.app_context():
        rotated = data_secrets.reencrypt(stored)
        assert Fernet(new).decrypt(rotated.encode()).decode() == hook["secret"]
        assert Fernet(new).decrypt(data_secrets.encrypt("x").encode()) == b"x"  # the first key encrypts
    app.config["DATA_KEYS"] = new  # the old key dropped: its values no longer read, loudly
    with app.app_context(), pytest.raises(InvalidToken):
        data_secrets.decrypt(stored)
