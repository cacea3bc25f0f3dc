"""Connections cannot exhaust the web process (`make run` as a process, real WebSockets).

Before the guard, 32 raw engine.io WebSockets that never joined a namespace held every gunicorn
thread: the 33rd client and /healthz timed out.
"""

from __future__ import annotations

import select
import time

import pytest
import requests
import websocket

from tests.engineio_client import RawSocket
from tests.processes import ApiClient

pytestmark = pytest.mark.process


def closed_by_server(sockets: list[RawSocket], within_s: float) -> int:
    """How many of the sockets the server closed within the time."""
    alive = list(sockets)
    deadline = time.monotonic() + within_s
    while alive and time.monotonic() < deadline:
        ready, _, _ = select.select([s.ws.sock for s in alive], [], [], 0.2)
        alive = [s for s in alive if s.ws.sock not in ready or s.pump()]
    return len(sockets) - len(alive)


def open_raw(base: str, count: int) -> tuple[list[RawSocket], int]:
    opened, refused = [], 0
    for _ in range(count):
        try:
            opened.append(RawSocket(base, None, None, timeout=5))
        except websocket.WebSocketBadStatusException:
            refused += 1
    return opened, refused


def test_unauthorised_sockets_are_capped_and_closed_and_http_keeps_answering(embedded):
    base, _ = embedded
    signup = requests.post(
        base + "/api/v1/signup", json={"organisation": "Conn", "email": "c@conn.example", "password": "conn-pass-2026!"}
    ).json()
    pending, refused = open_raw(base, 40)
    try:
        # At most 32 pending connections per address; the rest are refused at the handshake.
        assert (len(pending), refused) == (32, 8)
        assert requests.get(base + "/healthz", timeout=5).status_code == 200
        # The 33rd client (another address) and /healthz answer at once.
        viewer = RawSocket(base, "/live", {"token": signup["token"]}, timeout=5, source="127.0.0.2")
        assert viewer.joined
        # Not authorised within SOCKET_AUTH_TIMEOUT_S (5 s): closed by the server; the viewer stays.
        assert closed_by_server(pending, within_s=12) == 32
        assert requests.get(base + "/healthz", timeout=5).status_code == 200
        again, refused = open_raw(base, 1)
        assert (len(again), refused) == (1, 0)
        viewer.ws.send("2")  # a ping of ours is harmless; the socket is still open
        assert viewer.ws.sock is not None
    finally:
        for s in pending:
            s.close()


def test_authorised_sockets_leave_threads_for_http(embedded):
    """`embedded` runs 64 threads: at most 64 - 8 sockets, whoever holds them, and HTTP still answers."""
    base, _ = embedded
    signup = requests.post(
        base + "/api/v1/signup", json={"organisation": "Full", "email": "f@full.example", "password": "full-pass-2026!"}
    ).json()
    viewers: list[RawSocket] = []
    refused = 0
    try:
        for _ in range(60):
            try:
                viewers.append(RawSocket(base, "/live", {"token": signup["token"]}, timeout=5))
            except websocket.WebSocketBadStatusException:
                refused += 1
        assert (len(viewers), refused) == (56, 4)
        assert all(v.joined for v in viewers)
        for _ in range(5):
            assert requests.get(base + "/healthz", timeout=5).status_code == 200
        assert (
            requests.get(base + "/api/v1/me", headers={"Authorization": f"Bearer {signup['token']}"}, timeout=5).status_code
            == 200
        )
    finally:
        for v in viewers:
            v.close()


def test_malformed_packets_close_the_connection_without_a_traceback(embedded):
    """A packet socketio cannot place (here a binary event for a namespace the client never joined,
    as when frames keep arriving after a revocation closed the namespace) closes that connection."""
    base, proc = embedded
    signup = requests.post(
        base + "/api/v1/signup", json={"organisation": "Bad", "email": "b@bad.example", "password": "bad-pass-2026!"}
    ).json()
    for packet in ('451-/capture,["frame",{"_placeholder":true,"num":0}]', "4Z"):
        sock = RawSocket(base, "/live", {"token": signup["token"]}, timeout=5)
        assert sock.joined
        sock.ws.send(packet)
        assert closed_by_server([sock], within_s=5) == 1, packet
    assert requests.get(base + "/healthz", timeout=5).status_code == 200
    assert "Traceback" not in proc.output()


def test_a_client_event_named_like_the_servers_own_closes_the_socket(embedded):
    """socketio hands a client's event named "disconnect" or "connect" to the namespace's handlers:
    "disconnect" took the socket out of the revocation registry while it stayed in its rooms (it
    kept receiving observations after its token was revoked), "connect" re-ran authorisation on an
    open socket. Either name now closes the connection, as any other bad packet does."""
    base, proc = embedded
    tenant = ApiClient(base, "Spoof")
    auth = {"/live": {"token": tenant.token}, "/capture": {"token": tenant.camera()["capture_token"]}}
    for name in ("disconnect", "connect", "connect_error"):
        for namespace, credentials in auth.items():
            sock = RawSocket(base, namespace, credentials, timeout=5)
            assert sock.joined, (name, namespace)
            sock.ws.send(f'42{namespace},["{name}",{{}}]')
            assert closed_by_server([sock], within_s=5) == 1, (name, namespace)
    assert requests.get(base + "/healthz", timeout=5).status_code == 200
    assert "Traceback" not in proc.output()
