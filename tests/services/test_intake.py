"""The intake service: one path for every camera kind (a /capture socket with its token, the
gateway without one). Frames are sent by task name; here the sender is replaced to see them."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from app import jobs
from app.extensions import db
from app.models import Camera
from app.services import cameras
from app.services.intake import ANALYZE_TASK, IntakeSession, accept_frame


def _jpeg(width: int = 96, height: int = 64) -> bytes:
    rng = np.random.default_rng(1)
    ok, buffer = cv2.imencode(".jpg", rng.integers(0, 255, (height, width, 3), dtype=np.uint8))
    assert ok
    return buffer.tobytes()


@pytest.fixture
def sent(monkeypatch) -> list[tuple]:
    frames: list[tuple] = []
    monkeypatch.setitem(jobs._senders, ANALYZE_TASK, lambda *args: frames.append(args))
    return frames


@pytest.fixture
def camera_id(app, tenant_a) -> int:
    return tenant_a.camera(tenant_a.site()["id"])["id"]


def _session(app, camera_id: int, with_token: bool = True) -> IntakeSession:
    with app.app_context():
        return IntakeSession.for_camera(db.session.get(Camera, camera_id), with_token=with_token)


def test_a_frame_is_admitted_dispatched_and_marks_the_camera_seen(app, camera_id, sent):
    session = _session(app, camera_id)
    jpeg = _jpeg()
    with app.app_context():
        ack = accept_frame(session, jpeg, client_ts=1.5e12)
        assert ack["ok"] is True and len(ack["frame_id"]) == 32
        assert db.session.get(Camera, camera_id).last_seen_at is not None
    tenant_id, site_id, cam, frame_id, received_at, data, client_ts = sent[0]
    assert (cam, frame_id, data, client_ts) == (camera_id, ack["frame_id"], jpeg, 1.5e12)
    assert site_id == session.site_id and tenant_id == session.tenant_id and received_at > 0


def test_a_decoded_image_is_encoded_once_to_jpeg(app, camera_id, sent):
    session = _session(app, camera_id, with_token=False)
    image = np.full((48, 64, 3), 128, dtype=np.uint8)
    with app.app_context():
        assert accept_frame(session, image)["ok"] is True
        assert accept_frame(session, np.zeros((4, 4), dtype=np.float32)) == {"ok": False, "error": "bad_request"}
    data = sent[0][5]
    assert data[:2] == b"\xff\xd8" and cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR).shape == (48, 64, 3)


def test_bad_frames_are_refused_before_the_queue(app, camera_id, sent):
    session = _session(app, camera_id)
    with app.app_context():
        assert accept_frame(session, None) == {"ok": False, "error": "bad_request"}
        assert accept_frame(session, "not bytes") == {"ok": False, "error": "bad_request"}
        assert accept_frame(session, b"\xff\xd8 not a jpeg")["error"] == "bad_image"
        app.config["MAX_FRAME_BYTES"] = 100
        assert accept_frame(session, _jpeg())["error"] == "too_large"
    assert sent == []


def test_the_rate_limiter_belongs_to_the_session(app, camera_id, sent):
    with app.app_context():
        cameras.update_camera(db.session.get(Camera, camera_id), fps=1)
    session = _session(app, camera_id)  # a bucket of 1.5 frames: one now, the next refused
    with app.app_context():
        assert accept_frame(session, _jpeg())["ok"] is True
        assert accept_frame(session, _jpeg()) == {"ok": False, "error": "rate_limited"}
        other = _session(app, camera_id, with_token=False)
        assert accept_frame(other, _jpeg())["ok"] is True  # the gateway's session has its own bucket
    assert len(sent) == 2


def test_a_rotated_token_stops_its_session_but_not_the_gateways(app, camera_id, sent):
    socket_session, gateway_session = _session(app, camera_id), _session(app, camera_id, with_token=False)
    with app.app_context():
        cameras.rotate_token(db.session.get(Camera, camera_id))
        assert accept_frame(socket_session, _jpeg()) == {"ok": False, "error": "token_revoked"}
        assert accept_frame(gateway_session, _jpeg())["ok"] is True
    assert len(sent) == 1


def test_disabled_and_deleted_cameras_take_no_frame(app, camera_id, sent):
    session = _session(app, camera_id, with_token=False)
    with app.app_context():
        cameras.update_camera(db.session.get(Camera, camera_id), enabled=False)
        assert accept_frame(session, _jpeg()) == {"ok": False, "error": "camera_disabled"}
        cameras.delete_camera(db.session.get(Camera, camera_id))
        assert accept_frame(session, _jpeg()) == {"ok": False, "error": "camera_gone"}
        assert accept_frame(_session_from(session, "x" * 64), _jpeg()) == {"ok": False, "error": "token_revoked"}
    assert sent == []


def _session_from(session: IntakeSession, token_hash: str) -> IntakeSession:
    return IntakeSession(session.camera_id, session.tenant_id, session.site_id, session.fps, token_hash, tokens=5)


def test_admission_caps_frames_in_flight(app, camera_id, sent):
    session = _session(app, camera_id, with_token=False)
    session.fps = 15
    session.tokens = 20
    with app.app_context():
        acks = [accept_frame(session, _jpeg()) for _ in range(app.config["MAX_FRAMES_IN_FLIGHT"] + 1)]
    assert [a["ok"] for a in acks] == [True] * app.config["MAX_FRAMES_IN_FLIGHT"] + [False]
    assert acks[-1]["error"] == "busy" and len(sent) == app.config["MAX_FRAMES_IN_FLIGHT"]
