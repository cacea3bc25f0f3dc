"""Revoking access reaches open sockets at once: /live and /capture are re-checked, then closed
or moved to the rooms that the new access allows (both databases, one process)."""

from __future__ import annotations

import select
import time

import pytest
import requests

from app.extensions import socketio
from tests.engineio_client import RawSocket
from tests.images import face_jpeg
from tests.processes import ApiClient, free_port, start_web, wait_ready


def live(app, token: str):
    return socketio.test_client(app, namespace="/live", auth={"token": token})


def capture(app, token: str):
    return socketio.test_client(app, namespace="/capture", auth={"token": token})


def received(client, namespace: str, name: str) -> list[dict]:
    """Events received so far, also after the server closed the socket (get_received refuses then)."""
    return [e["args"][0] for e in client.queue if e["namespace"] == namespace and e["name"] == name]


def stream(cap) -> dict:
    return cap.emit("frame", {"ts": int(time.time() * 1000), "jpeg": face_jpeg()}, namespace="/capture", callback=True)


def test_revoked_token_closes_its_live_socket_only(app, tenant_a):
    other = tenant_a.client.post("/api/v1/tokens", json={"email": tenant_a.email, "password": "secret-pass-1"}).get_json()
    kept, revoked = live(app, tenant_a.token), live(app, other["token"])
    assert kept.is_connected("/live") and revoked.is_connected("/live")
    assert tenant_a.call("DELETE", "/api/v1/tokens/current", token=other["token"]).status_code == 204
    assert not revoked.is_connected("/live")
    assert received(revoked, "/live", "revoked") == [{"reason": "access_revoked"}]
    assert kept.is_connected("/live")


def test_deleted_user_and_erased_tenant_lose_their_sockets(app, client, tenant_a, tenant_b):
    staff, staff_token = tenant_a.user("staff")
    viewer = live(app, staff_token)
    assert viewer.is_connected("/live")
    assert tenant_a.call("DELETE", f"/api/v1/users/{staff['id']}").status_code == 204
    assert not viewer.is_connected("/live")

    site = tenant_b.site()
    cam = tenant_b.camera(site["id"])
    viewer_b, cap_b = live(app, tenant_b.token), capture(app, cam["capture_token"])
    assert viewer_b.is_connected("/live") and cap_b.is_connected("/capture")
    client.post("/auth/login", data={"email": tenant_b.email, "password": "secret-pass-1"})
    r = client.post("/admin/privacy/erase", data={"confirmation": "Beta Clinic"})
    assert r.status_code == 302
    assert not viewer_b.is_connected("/live") and not cap_b.is_connected("/capture")
    # The next organisation gets a new id, so no room of the erased one is ever reused.
    r = client.post("/api/v1/signup", json={"organisation": "Gamma", "email": "g@gamma.example", "password": "secret-pass-1"})
    assert r.get_json()["tenant"]["id"] > tenant_b.id


def test_role_and_scope_changes_move_the_socket(app, tenant_a):
    s1, s2 = tenant_a.site("One"), tenant_a.site("Two")
    c1, c2 = tenant_a.camera(s1["id"]), tenant_a.camera(s2["id"])
    staff, token = tenant_a.user("staff", site_ids=[s1["id"]])
    viewer = live(app, token)
    cap1, cap2 = capture(app, c1["capture_token"]), capture(app, c2["capture_token"])
    assert stream(cap1)["ok"] and stream(cap2)["ok"]
    assert {o["camera_id"] for o in received(viewer, "/live", "observation")} == {c1["id"]}
    viewer.queue.clear()

    assert tenant_a.call("PATCH", f"/api/v1/users/{staff['id']}", json={"site_ids": [s2["id"]]}).status_code == 200
    assert viewer.is_connected("/live")
    time.sleep(0.7)  # the camera's rate limit
    assert stream(cap1)["ok"] and stream(cap2)["ok"]
    assert {o["camera_id"] for o in received(viewer, "/live", "observation")} == {c2["id"]}


def test_deleting_a_limited_users_only_site_leaves_it_nothing(app, tenant_a):
    s1, s2 = tenant_a.site("One"), tenant_a.site("Two")
    c2 = tenant_a.camera(s2["id"])
    manager, token = tenant_a.user("manager", site_ids=[s1["id"]])
    viewer, cap2 = live(app, token), capture(app, c2["capture_token"])
    assert tenant_a.call("DELETE", f"/api/v1/sites/{s1['id']}").status_code == 204
    assert viewer.is_connected("/live")
    assert stream(cap2)["ok"]
    assert received(viewer, "/live", "observation") == []  # not promoted to "all sites"
    assert tenant_a.call("GET", "/api/v1/sites", token=token).get_json()["items"] == []
    me = tenant_a.call("GET", "/api/v1/me", token=token).get_json()["user"]
    assert me["site_ids"] == [] and me["all_sites"] is False


def test_moved_camera_streams_into_its_new_site(app, tenant_a):
    s1, s2 = tenant_a.site("One"), tenant_a.site("Two")
    cam = tenant_a.camera(s1["id"])
    _, token1 = tenant_a.user("staff", site_ids=[s1["id"]])
    _, token2 = tenant_a.user("staff", site_ids=[s2["id"]])
    v1, v2, cap = live(app, token1), live(app, token2), capture(app, cam["capture_token"])
    assert tenant_a.call("PATCH", f"/api/v1/cameras/{cam['id']}", json={"site_id": s2["id"]}).status_code == 200
    assert cap.is_connected("/capture")
    assert stream(cap)["ok"]
    assert received(v1, "/live", "observation") == []
    assert [o["site_id"] for o in received(v2, "/live", "observation")] == [s2["id"]]
    rows = tenant_a.call("GET", f"/api/v1/observations?camera_id={cam['id']}").get_json()["items"]
    assert [r["site_id"] for r in rows] == [s2["id"]]


def test_deleted_camera_and_site_close_their_captures(app, tenant_a):
    site = tenant_a.site()
    c1, c2 = tenant_a.camera(site["id"], "A"), tenant_a.camera(site["id"], "B")
    cap1, cap2 = capture(app, c1["capture_token"]), capture(app, c2["capture_token"])
    assert tenant_a.call("DELETE", f"/api/v1/cameras/{c1['id']}").status_code == 204
    assert not cap1.is_connected("/capture") and received(cap1, "/capture", "revoked")
    assert cap2.is_connected("/capture")
    assert tenant_a.call("DELETE", f"/api/v1/sites/{site['id']}").status_code == 204
    assert not cap2.is_connected("/capture")


@pytest.mark.process
def test_revocation_reaches_sockets_on_every_web_process(distributed, tmp_path):
    """Distributed mode: a token revoked through web process 1 closes its socket on web process 2
    (Redis pub/sub), and a camera deleted through 1 stops its capture on 2, within a second."""
    base1, _, _, env = distributed
    port2 = free_port()
    web2 = start_web(tmp_path, {**env, "PORT": str(port2), "PUBLIC_URL": f"http://127.0.0.1:{port2}"}, port2)
    base2 = f"http://127.0.0.1:{port2}"
    try:
        wait_ready(base2, web2)
        tenant = ApiClient(base1, "Revoke")
        second = requests.post(
            base1 + "/api/v1/tokens", json={"email": tenant.email, "password": "secret-pass-1"}, timeout=10
        ).json()["token"]
        kept, revoked = RawSocket(base2, "/live", {"token": tenant.token}), RawSocket(base2, "/live", {"token": second})
        cam = tenant.camera()
        capture_socket = RawSocket(base2, "/capture", {"token": cam["capture_token"]})
        assert kept.joined and revoked.joined and capture_socket.joined
        r = requests.delete(base1 + "/api/v1/tokens/current", headers={"Authorization": f"Bearer {second}"}, timeout=10)
        assert r.status_code == 204
        assert closed_within(revoked, 3) and not closed_within(kept, 1)
        assert tenant.call("DELETE", f"/api/v1/cameras/{cam['id']}").status_code == 204
        assert closed_within(capture_socket, 3)
    finally:
        web2.stop()


def closed_within(sock: RawSocket, seconds: float) -> bool:
    """True once the server closed the socket (pings are answered meanwhile)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([sock.ws.sock], [], [], 0.1)
        if ready and not sock.pump():
            return True
    return False


def test_sign_out_and_password_reset_close_the_users_sockets(app, client, tenant_a):
    from app.models import User
    from app.services import accounts

    client.post("/auth/login", data={"email": tenant_a.email, "password": "secret-pass-1"})
    by_cookie = socketio.test_client(app, namespace="/live", flask_test_client=client)
    by_token = live(app, tenant_a.token)
    assert by_cookie.is_connected("/live") and by_token.is_connected("/live")
    assert client.post("/auth/logout").status_code == 302
    assert not by_cookie.is_connected("/live")  # that session is over everywhere
    assert by_token.is_connected("/live")  # a token is not a session
    with app.app_context():
        from app.extensions import db

        token = accounts.password_reset_token(db.session.get(User, tenant_a.admin_id))
    r = client.post(f"/auth/reset/{token}", data={"password": "a-brand-new-pass-77", "confirm": "a-brand-new-pass-77"})
    assert r.status_code == 302
    assert not by_token.is_connected("/live")  # a new password revokes the tokens and their sockets
    assert tenant_a.call("GET", "/api/v1/me").status_code == 401
