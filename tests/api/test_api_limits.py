"""Inputs at and past the limits: each was a 500 (or an HTML page, or a missing header) before.

Ids beyond the 32-bit id columns in paths, query strings, bodies and cursors; JSON nested 100,000
deep; NaN and Infinity; NUL and other control characters; bidi overrides in names; 405 with Allow;
gunicorn's own 414/431 in the API's error format.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

BIG = [2**31, 2**63, 10**30]  # past PostgreSQL's integer, past SQLite's, past both


def _error(r, status: int, code: str | None = None) -> dict:
    assert r.status_code == status, (r.status_code, r.get_data(as_text=True)[:300])
    assert r.is_json, r.content_type
    error = r.get_json()["error"]
    assert error["message"] and (code is None or error["code"] == code), error
    return error


@pytest.fixture
def world(tenant_a):
    site = tenant_a.site()
    camera = tenant_a.camera(site["id"])
    return tenant_a, site, camera


@pytest.mark.parametrize("big", BIG)
def test_huge_ids_in_paths_are_404(world, big):
    tenant, _, _ = world
    for method, path in [
        ("GET", "/sites/{}"),
        ("PATCH", "/sites/{}"),
        ("DELETE", "/cameras/{}"),
        ("GET", "/users/{}"),
        ("POST", "/alerts/{}/ack"),
        ("DELETE", "/tokens/{}"),
        ("GET", "/webhooks/{}/deliveries"),
        ("PATCH", "/alert-rules/{}"),
        ("POST", "/cameras/{}/rotate-token"),
    ]:
        r = tenant.call(method, "/api/v1" + path.format(big), json={"name": "x"} if method == "PATCH" else None)
        _error(r, 404, "not_found")


def test_path_ids_at_the_bounds(world):
    tenant, site, _ = world
    assert tenant.call("GET", f"/api/v1/sites/{site['id']}").status_code == 200
    for value in ("0", str(2**31 - 1), "-1", "1e3", "1.0", "0x1", "9" * 5000):
        _error(tenant.call("GET", f"/api/v1/sites/{value}"), 404, "not_found")
    # 405 only where the path names a resource with other methods, never for an id out of range.
    _error(tenant.call("DELETE", "/api/v1/alert-rules/0"), 404)


@pytest.mark.parametrize("big", BIG)
def test_huge_ids_in_query_strings_are_400(world, big):
    tenant, _, _ = world
    for path in (
        "/cameras?site_id={}",
        "/alerts?camera_id={}",
        "/observations?camera_id={}",
        "/reports/emotions?site_id={}",
        "/reports/emotions?camera_id={}",
        "/sites?limit={}",
    ):
        error = _error(tenant.call("GET", "/api/v1" + path.format(big)), 400, "validation_error")
        assert set(error["fields"].values()) == {"out_of_range"}, error


def test_query_numbers_are_whole_numbers(world):
    tenant, site, _ = world
    assert tenant.call("GET", f"/api/v1/cameras?site_id={site['id']}.0&limit=5.0").status_code == 200  # JSON's 5.0 is 5
    for value in ("abc", "1.5", "1e3", "0x10", "٣"):
        error = _error(tenant.call("GET", f"/api/v1/cameras?site_id={value}"), 400, "validation_error")
        assert error["fields"] == {"site_id": "wrong_type"}
    assert tenant.call("GET", "/api/v1/cameras?site_id=").status_code == 200  # empty: no filter, as before


@pytest.mark.parametrize("big", BIG)
def test_huge_ids_in_bodies_are_400_out_of_range(world, big):
    tenant, site, camera = world
    calls = [
        ("POST", "/api/v1/cameras", {"site_id": big, "name": "x"}, "site_id"),
        ("PATCH", f"/api/v1/cameras/{camera['id']}", {"site_id": big}, "site_id"),
        ("POST", "/api/v1/users", {"email": "q@x.example", "role": "staff", "site_ids": [site["id"], big]}, "site_ids"),
        ("POST", "/api/v1/alert-rules", {"camera_id": big, "emotion": "joy", "threshold": 0.5, "duration_s": 5}, "camera_id"),
        (
            "POST",
            "/api/v1/alert-rules/simulate",
            {"site_id": big, "emotion": "joy", "threshold": 0.5, "duration_s": 5},
            "site_id",
        ),
        ("POST", "/api/v1/tokens", {"email": "a@b.example", "password": "x", "ttl_days": big}, "ttl_days"),
    ]
    for method, path, body, field in calls:
        error = _error(tenant.call(method, path, json=body), 400, "validation_error")
        assert error["fields"] == {field: "out_of_range"}, (path, error)


def test_cursors_past_the_id_range_are_400(world):
    tenant, _, _ = world
    for cursor in (*(format(last_id, "x") for last_id in (2**31, 2**63, 10**30, -5)), "MTI", "%%%", "7FFFFFFF", "1" * 40):
        error = _error(tenant.call("GET", f"/api/v1/sites?cursor={cursor}"), 400, "invalid_cursor")
        assert error["fields"] == {"cursor": "invalid"}


def test_cursor_round_trip_at_the_top_of_the_range(world):
    tenant, site, _ = world
    assert tenant.call("GET", "/api/v1/sites?cursor=7fffffff").get_json() == {"items": [], "next_cursor": None}
    assert tenant.call("GET", "/api/v1/sites?cursor=0").get_json()["items"][0]["id"] == site["id"]


@pytest.mark.parametrize("opener,closer", [("[", "]"), ('{"a":', "}")])
def test_deeply_nested_json_is_a_quick_400(world, opener, closer):
    tenant, _, _ = world
    body = opener * 100_000 + closer * 100_000
    started = time.perf_counter()
    for path in ("/api/v1/sites", "/api/v1/tokens"):
        error = _error(tenant.call("POST", path, data=body, content_type="application/json"), 400, "malformed_json")
        assert "32" in error["message"]
    assert time.perf_counter() - started < 2
    _error(tenant.client.post("/api/v1/tokens", data=body, content_type="application/json"), 400, "malformed_json")


def test_nesting_up_to_the_limit_is_read(world):
    tenant, _, _ = world
    nested = '{"name": "Deep", "extra": ' + "[" * 31 + "]" * 31 + "}"
    assert tenant.call("POST", "/api/v1/sites", data=nested, content_type="application/json").status_code == 201
    brackets_in_strings = '{"name": "' + "[" * 100 + '"}'
    assert tenant.call("POST", "/api/v1/sites", data=brackets_in_strings, content_type="application/json").status_code == 201


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused(world, literal):
    tenant, _, camera = world
    body = f'{{"camera_id": {camera["id"]}, "emotion": "joy", "threshold": {literal}, "duration_s": 5}}'
    for path in ("/api/v1/alert-rules", "/api/v1/alert-rules/simulate"):
        _error(tenant.call("POST", path, data=body, content_type="application/json"), 400, "malformed_json")
    assert tenant.call("GET", "/api/v1/alert-rules").get_json()["items"] == []


def test_numbers_too_large_for_a_float_are_out_of_range(world):
    tenant, _, camera = world
    body = f'{{"camera_id": {camera["id"]}, "emotion": "joy", "threshold": 1e400, "duration_s": 5}}'
    error = _error(tenant.call("POST", "/api/v1/alert-rules", data=body, content_type="application/json"), 400)
    assert error["fields"] == {"threshold": "out_of_range"}


def test_bools_are_not_numbers_and_integral_floats_are_integers(world):
    tenant, _, camera = world
    rule = {"camera_id": camera["id"], "emotion": "joy", "threshold": 0.5, "duration_s": 5}
    for field, value in (
        ("threshold", True),
        ("duration_s", False),
        ("camera_id", True),
        ("duration_s", 5.5),
        ("duration_s", "5"),
    ):
        error = _error(tenant.call("POST", "/api/v1/alert-rules", json={**rule, field: value}), 400, "validation_error")
        assert error["fields"] == {field: "wrong_type"}, (field, value, error)
    created = tenant.call("POST", "/api/v1/alert-rules", json={**rule, "duration_s": 5.0, "threshold": 1})
    assert created.status_code == 201 and created.get_json()["duration_s"] == 5


# Every kind of text: (method, path, body) built from the ids and the text, and the field it lands in.
TEXT_FIELDS = {
    "site name": (lambda i, x: ("POST", "/api/v1/sites", {"name": x}), "name"),
    "site rename": (lambda i, x: ("PATCH", f"/api/v1/sites/{i['site']}", {"name": x}), "name"),
    "camera name": (lambda i, x: ("POST", "/api/v1/cameras", {"site_id": i["site"], "name": x}), "name"),
    "rule name": (
        lambda i, x: (
            "POST",
            "/api/v1/alert-rules",
            {"camera_id": i["camera"], "emotion": "joy", "threshold": 0.5, "duration_s": 5, "name": x},
        ),
        "name",
    ),
    "e-mail": (lambda i, x: ("POST", "/api/v1/users", {"email": f"n{x}@x.example", "role": "staff"}), "email"),
    "password": (
        lambda i, x: ("POST", "/api/v1/users", {"email": "n@x.example", "role": "staff", "password": f"long-enough-{x}"}),
        "password",
    ),
    "own password": (lambda i, x: ("PATCH", "/api/v1/me", {"password": f"long-enough-{x}"}), "password"),
    "webhook url": (lambda i, x: ("POST", "/api/v1/webhooks", {"url": f"https://example.com/{x}"}), "url"),
    "note": (lambda i, x: ("POST", f"/api/v1/alerts/{i['alert']}/ack", {"note": f"seen {x}"}), "note"),
}


@pytest.fixture
def alert_id(app, world) -> int:
    from datetime import UTC, datetime

    from app.extensions import db
    from app.models import Alert

    tenant, site, camera = world
    with app.app_context():
        alert = Alert(
            tenant_id=tenant.id,
            site_id=site["id"],
            camera_id=camera["id"],
            emotion="joy",
            severity="info",
            value=0.5,
            status="open",
            started_at=datetime.now(UTC),
        )
        db.session.add(alert)
        db.session.commit()
        return alert.id


@pytest.mark.parametrize("kind", TEXT_FIELDS)
def test_control_characters_are_refused_in_every_text(world, alert_id, kind):
    tenant, site, camera = world
    build, field = TEXT_FIELDS[kind]
    for char in ("\x00", "\x07", "\x1b", "\x7f", "\x85", "\ud800"):  # NUL, C0, DEL, C1, a lone surrogate
        method, path, body = build({"site": site["id"], "camera": camera["id"], "alert": alert_id}, f"a{char}b")
        error = _error(tenant.call(method, path, json=body), 400, "validation_error")
        assert error["fields"] == {field: "invalid"}, (char, error)


def test_deep_json_does_not_break_the_sign_in_throttle_key(app):
    from app.security import account_key

    body = "[" * 100_000 + "]" * 100_000
    with app.test_request_context("/api/v1/tokens", method="POST", data=body, content_type="application/json"):
        assert account_key() == "account:-"  # was a RecursionError: a 500 whenever rate limits are on


def test_nul_is_refused_before_any_lookup_without_credentials(client, tenant_a):
    for body in (
        {"email": "a\x00b@x.example", "password": "whatever-1"},
        {"email": tenant_a.email, "password": "x\x00"},
        {"email": tenant_a.email, "password": "secret-pass-1", "name": "ci\x00"},
    ):
        _error(client.post("/api/v1/tokens", json=body), 400, "validation_error")
    _error(
        client.post("/api/v1/signup", json={"organisation": "N\x00", "email": "n@x.example", "password": "a-b-c-d-e-f"}),
        400,
        "validation_error",
    )


def test_newlines_and_tabs_only_in_notes(world, alert_id):
    tenant, _, _ = world
    acked = tenant.call("POST", f"/api/v1/alerts/{alert_id}/ack", json={"note": "line one\n\tline two\r\n"})
    assert acked.status_code == 200 and acked.get_json()["note"] == "line one\n\tline two"
    for char in ("\n", "\t"):
        _error(tenant.call("POST", "/api/v1/sites", json={"name": f"Gate{char}B"}), 400, "validation_error")


def test_bidi_overrides_are_refused_in_names(client, world):
    tenant, site, camera = world
    for char in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069":
        name = f"invoice{char}fdp.exe"
        for method, path, body in [
            ("POST", "/api/v1/sites", {"name": name}),
            ("PATCH", f"/api/v1/sites/{site['id']}", {"name": name}),
            ("POST", "/api/v1/cameras", {"site_id": site["id"], "name": name}),
            ("PATCH", f"/api/v1/cameras/{camera['id']}", {"name": name}),
            (
                "POST",
                "/api/v1/alert-rules",
                {"camera_id": camera["id"], "emotion": "joy", "threshold": 0.5, "duration_s": 5, "name": name},
            ),
            ("POST", "/api/v1/tokens", {"email": tenant.email, "password": "x", "name": name}),
        ]:
            error = _error(tenant.call(method, path, json=body), 400, "validation_error")
            assert error["fields"] == {"name": "invalid"}, (char, path)
    signup = {"organisation": "Acme\u202eCorp", "email": "bidi@x.example", "password": "a-b-c-d-e-f-g"}
    assert _error(client.post("/api/v1/signup", json=signup), 400)["fields"] == {"organisation": "invalid"}
    # Right-to-left text itself is fine.
    assert tenant.call("POST", "/api/v1/sites", json={"name": "מרפאה"}).status_code == 201


def test_405_says_which_methods_are_allowed(world):
    tenant, site, _ = world
    for method, path, allowed in [
        ("PUT", "/api/v1/sites", {"GET", "POST"}),
        ("POST", f"/api/v1/sites/{site['id']}", {"GET", "PATCH", "DELETE"}),
        ("GET", "/api/v1/alert-rules/simulate", {"POST"}),
        ("DELETE", "/api/v1/me", {"GET", "PATCH"}),
    ]:
        r = tenant.call(method, path)
        _error(r, 405, "method_not_allowed")
        assert {m.strip() for m in r.headers["Allow"].split(",")} - {"HEAD", "OPTIONS"} == allowed, (path, r.headers)
    r = tenant.client.put("/api/v1/sites")  # before authentication: the method is wrong whoever asks
    assert r.status_code == 405 and "POST" in r.headers["Allow"]


# gunicorn's own answers, produced by its request parser on a real socket.


def _gunicorn_answer(request: bytes) -> tuple[str, dict]:
    import json

    from gunicorn.config import Config
    from gunicorn.http.parser import RequestParser

    from app.server import JsonErrorWorker

    class Log:
        def warning(self, *args): ...
        def debug(self, *args): ...
        def exception(self, *args): ...
        def access(self, *args): ...

    worker = object.__new__(JsonErrorWorker)  # handle_error needs only cfg and log
    worker.cfg, worker.log = Config(), Log()
    server, peer = socket.socketpair()
    with server, peer:
        peer.sendall(request)
        peer.shutdown(socket.SHUT_WR)
        try:
            next(RequestParser(worker.cfg, server, ("127.0.0.1", 1)))
        except Exception as exc:  # noqa: BLE001 - whichever refusal gunicorn's parser raises
            worker.handle_error(None, server, ("127.0.0.1", 1), exc)
        else:
            raise AssertionError("gunicorn accepted the request")
        server.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := peer.recv(65536):
            answer += chunk
    head, _, body = answer.decode("latin-1").partition("\r\n\r\n")
    assert "Content-Type: application/json" in head and f"Content-Length: {len(body)}" in head, head
    return head.split("\r\n")[0], json.loads(body)


@pytest.mark.parametrize(
    "request_bytes,status,code",
    [
        (b"GET /api/v1/sites?" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", "414 URI Too Long", "uri_too_long"),
        (
            b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(120)) + b"\r\n",
            "431 Request Header Fields Too Large",
            "headers_too_large",
        ),
        (b"GET / HTTP/1.1\r\nX-Big: " + b"v" * 9000 + b"\r\n\r\n", "431 Request Header Fields Too Large", "headers_too_large"),
        (b"NOT HTTP\r\n\r\n", "400 Bad Request", "bad_request"),
    ],
)
def test_gunicorn_refusals_are_json(request_bytes, status, code):
    status_line, body = _gunicorn_answer(request_bytes)
    assert status_line == f"HTTP/1.1 {status}"
    assert body["error"]["code"] == code and body["error"]["message"]
    assert "aaaa" not in body["error"]["message"]  # nothing of the request is echoed


def test_gunicorn_config_selects_the_json_worker():
    """`make run` and the distributed mode start gunicorn with --config gunicorn.conf.py."""
    import runpy

    from gunicorn.config import Config

    from app.server import JsonErrorWorker

    cfg = Config()
    cfg.set("worker_class", runpy.run_path(str(Path(__file__).parents[2] / "gunicorn.conf.py"))["worker_class"])
    cfg.set("threads", 16)
    assert cfg.worker_class is JsonErrorWorker
