"""The agent's sampling and back-pressure logic, with a fake clock and fake acknowledgements."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from app.agent.camera import AgentCamera, CameraConfig, encode_jpeg
from app.agent.cli import ConfigError, load_config, parser
from app.agent.flow import FlowControl
from app.streams.source import Backoff, SourceSpec, frames, redact, with_credentials
from tests.agent.clips import face_clip


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_one_frame_in_flight_late_frames_dropped_not_queued():
    clock = Clock()
    flow = FlowControl(clock=clock, ack_timeout=10, pause=10)
    assert flow.try_send() is True
    # Frames sampled while the first waits for its acknowledgement are dropped, not kept.
    clock.now += 0.5
    assert flow.try_send() is False
    clock.now += 0.5
    assert flow.try_send() is False
    assert flow.settle({"ok": True, "frame_id": "f1"}) == "ok"
    assert flow.try_send() is True  # the next sampled frame goes, none from before
    assert flow.counters.sent == 2 and flow.counters.acked == 1 and flow.counters.dropped == 2
    # busy and rate_limited: that frame is dropped, the next one may go at once.
    assert flow.settle({"ok": False, "error": "busy"}) == "dropped"
    assert flow.try_send() is True
    assert flow.settle({"ok": False, "error": "rate_limited"}) == "dropped"
    assert flow.counters.refused == 2
    assert flow.try_send() is True
    # No answer within the timeout: counted lost, and the camera goes on.
    clock.now += 9.9
    assert flow.try_send() is False
    clock.now += 0.2
    assert flow.try_send() is True and flow.counters.lost == 1


def test_purpose_refusal_pauses_and_revocation_is_fatal():
    clock = Clock()
    flow = FlowControl(clock=clock, pause=10)
    assert flow.try_send()
    assert flow.settle({"ok": False, "error": "purpose_not_allowed"}) == "paused"
    clock.now += 9
    assert flow.try_send() is False
    clock.now += 1.5
    assert flow.try_send() is True
    assert flow.settle({"ok": False, "error": "token_revoked"}) == "fatal"
    assert flow.fatal == "token_revoked"
    clock.now += 100
    assert flow.try_send() is False
    assert flow.settle(None) == "dropped"  # a malformed answer is a refusal, not a crash


def test_sending_through_the_camera_keeps_one_in_flight():
    """AgentCamera.send with a fake client: acknowledgements held back, then released."""
    sent = []

    class FakeClient:
        connected = True

        def emit(self, event, data, namespace, callback):
            sent.append((event, data, callback))

    camera = AgentCamera(CameraConfig("http://x", "cam_t", SourceSpec("clip.mp4"), max_width=320))
    camera.sio = FakeClient()
    frame = np.full((480, 640, 3), 128, np.uint8)
    assert camera.send(frame, 1700000000.25) is True
    assert camera.send(frame, 1700000000.75) is False  # held: one in flight
    event, data, callback = sent[0]
    assert event == "frame" and data["ts"] == 1700000000250 and data["jpeg"][:2] == b"\xff\xd8"
    callback({"ok": True, "frame_id": "a"})
    assert camera.send(frame, 1700000001.25) is True and len(sent) == 2
    sent[1][2]({"ok": False, "error": "token_revoked"})
    assert camera.flow.fatal == "token_revoked" and camera.send(frame, 1700000002.0) is False
    camera.sio = None
    assert camera.send(frame, 1700000003.0) is False  # not connected: dropped
    assert camera.flow.counters.dropped == 3


def test_encode_downscales_to_the_width_and_never_enlarges():
    import cv2

    big = np.random.default_rng(1).integers(0, 255, (1080, 1920, 3), np.uint8)
    image = cv2.imdecode(np.frombuffer(encode_jpeg(big, 640), np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (360, 640, 3)
    small = np.zeros((240, 320, 3), np.uint8)
    assert cv2.imdecode(np.frombuffer(encode_jpeg(small, 640), np.uint8), cv2.IMREAD_COLOR).shape == (240, 320, 3)
    noisy = encode_jpeg(big, 1920, 95, max_bytes=400_000)
    assert len(noisy) < len(encode_jpeg(big, 1920, 95))


def test_backoff_is_exponential_capped_and_jittered():
    b = Backoff(base=1, cap=8, rand=lambda: 1.0)
    assert [b.next() for _ in range(6)] == [1, 2, 4, 8, 8, 8]
    b.reset()
    assert b.next() == 1
    low = Backoff(base=1, cap=8, rand=lambda: 0.0)
    assert [low.next() for _ in range(3)] == [0.5, 1, 2]


def test_credentials_go_into_the_url_and_never_into_what_is_logged():
    url = with_credentials("rtsp://10.0.0.5:8554/stream1", "viewer", "p@ss:w/rd")
    assert url == "rtsp://viewer:p%40ss%3Aw%2Frd@10.0.0.5:8554/stream1"
    assert redact(url) == "rtsp://***@10.0.0.5:8554/stream1"
    assert redact("http://cam.local/snap.jpg?user=admin&pwd=secret") == "http://cam.local/snap.jpg?user=***&pwd=***"
    assert "secret" not in repr(SourceSpec("rtsp://a:secret@h/x", "a", "secret"))
    assert redact("/videos/scene.mp4") == "/videos/scene.mp4"


def test_a_video_file_plays_at_real_time_and_ends(tmp_path):
    clip = face_clip(tmp_path / "clip.mp4", seconds=2.0, fps=10)
    statuses, stop = [], threading.Event()
    started = time.monotonic()
    got = list(frames(SourceSpec(str(clip)), 4, stop, on_status=statuses.append))
    elapsed = time.monotonic() - started
    assert 1.6 < elapsed < 4, elapsed  # 2 s of video at its own rate, not decoded at full speed
    assert 6 <= len(got) <= 9 and got[0][0].shape == (480, 640, 3)
    assert [s.state for s in statuses] == ["connecting", "live", "ended"]
    # Looped, it goes on past its length until stopped.
    n, started = 0, time.monotonic()
    for _frame, _ts in frames(SourceSpec(str(clip), loop=True), 4, stop):
        n += 1
        if time.monotonic() - started > 3.2:
            stop.set()
    assert n >= 11


def test_missing_and_non_video_files_give_a_clear_status(tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n" * 100)
    for source, code in ((str(tmp_path / "absent.mp4"), "unreachable"), (str(text), "not_video")):
        statuses, stop = [], threading.Event()

        def record(status, statuses=statuses, stop=stop):
            statuses.append(status)
            if status.state == "unreachable":
                stop.set()

        assert list(frames(SourceSpec(source), 2, stop, on_status=record)) == []
        assert statuses[-1].error == code and statuses[-1].message


def test_config_file_with_several_cameras(tmp_path, monkeypatch):
    monkeypatch.setenv("GATE_PASSWORD", "s3cret")
    config = tmp_path / "agent.toml"
    config.write_text(
        'server = "https://emotiscan.example"\nfps = 2\n'
        '[[cameras]]\nname = "gate"\ntoken = "cam_a"\nsource = "rtsp://10.0.0.5/s1"\n'
        'username = "viewer"\npassword_env = "GATE_PASSWORD"\n'
        '[[cameras]]\ntoken = "cam_b"\nsource = "scene.mp4"\nloop = true\nfps = 1\n'
    )
    cams = load_config(config, parser().parse_args([]))
    assert [c.name for c in cams] == ["gate", "camera-2"]
    assert cams[0].source.password == "s3cret" and cams[0].fps == 2 and cams[1].source.loop and cams[1].fps == 1
    config.write_text('server = "https://x"\n[[cameras]]\nsource = "a.mp4"\n')
    with pytest.raises(ConfigError, match="no token"):
        load_config(config, parser().parse_args([]))
    config.write_text("server = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(config, parser().parse_args([]))
