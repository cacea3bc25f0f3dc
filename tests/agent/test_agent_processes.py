"""The edge agent as a real process against the app started as `make run` starts it (and the
distributed mode), streaming an RTSP server started here (Debian's ffmpeg), a video file, and
HTTP snapshot sources; only HTTP and Socket.IO between them."""

from __future__ import annotations

import base64
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.agent.clips import face_clip
from tests.agent.rtsp import RtspServer
from tests.images import face_jpeg
from tests.processes import BIN, ApiClient, LiveListener, Proc, base_env, free_port, make_run

pytestmark = pytest.mark.process

PASSWORD = "Vry-s3cret-cam-pw"
AGENT = str(BIN / "emotiscan-agent")


@pytest.fixture(scope="module")
def app_run(tmp_path_factory):
    """One `make run` for the module: each test makes its own organisation."""
    tmp = tmp_path_factory.mktemp("agent-run")
    with make_run(tmp) as (base, proc, _):
        yield base, proc


def agent(tmp_path: Path, name: str, *args: str) -> Proc:
    return Proc([AGENT, "--stats-interval", "1", *args], base_env(tmp_path, 0), tmp_path / f"agent-{name}.log")


def wait_for(predicate, timeout: float, what: str, proc: Proc | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} within {timeout}s" + (f":\n{proc.output()[-3000:]}" if proc else ""))


def faces_for(live: LiveListener, camera_id: int) -> list[dict]:
    return [o for o in live.observations if o["camera_id"] == camera_id and o["faces"]]


def test_agent_streams_an_rtsp_camera_into_the_live_room_until_its_token_is_revoked(app_run, tmp_path):
    base, web = app_run
    clip = face_clip(tmp_path / "clip.mp4", seconds=3)
    rtsp = RtspServer(clip, tmp_path, "viewer", PASSWORD)
    url = rtsp.url
    tenant, other = ApiClient(base, "Agent School"), ApiClient(base, "Other Shop")
    cam = tenant.camera()
    live, live_other = LiveListener(base, tenant.token), LiveListener(base, other.token)
    proc = agent(
        tmp_path,
        "rtsp",
        "--server",
        base,
        "--token",
        cam["capture_token"],
        "--fps",
        "2",
        "--username",
        "viewer",
        "--password",
        PASSWORD,
        url,
    )
    try:
        started = time.monotonic()
        wait_for(lambda: len(faces_for(live, cam["id"])) >= 3, 45, "no observations with faces", proc)
        first = faces_for(live, cam["id"])[0]
        assert first["faces"][0]["emotion"] and first["faces"][0]["scores"]
        # At 2 frames/s: no burst beyond the rate (the server answers nothing but ok).
        time.sleep(3)
        seen = faces_for(live, cam["id"])
        span = time.monotonic() - started
        assert len(seen) <= 2 * span + 3, (len(seen), span)
        counters = [line.split("camera: ", 1)[1] for line in proc.output().splitlines() if "camera: sent" in line]
        sent, acked, _, refused = (int(part.split()[-1]) for part in counters[-1].split(", ")[:4])
        assert sent >= 6 and acked >= sent - 1 and refused == 0, counters[-1]  # one may still be in flight
        stored = tenant.call("GET", f"/api/v1/observations?camera_id={cam['id']}").json()["items"]
        assert stored and all(o["camera_id"] == cam["id"] for o in stored)
        assert live_other.observations == []
        assert tenant.call("GET", f"/api/v1/cameras/{cam['id']}").json()["last_seen_at"]
        # The camera's token is renewed: the agent stops with its message and a non-zero status.
        assert tenant.call("POST", f"/api/v1/cameras/{cam['id']}/rotate-token").status_code == 200
        proc.popen.wait(timeout=30)
        assert proc.popen.returncode == 3, proc.output()[-3000:]
        assert "refused the capture token" in proc.output()
    finally:
        proc.stop(), rtsp.stop(), live.close(), live_other.close()
    log = proc.output()
    assert PASSWORD not in log and "viewer:" not in log and "Traceback" not in log
    assert "rtsp://127.0.0.1" in log  # the source is named, redacted
    assert PASSWORD not in web.output()


def test_a_video_file_is_streamed_as_a_camera_then_the_agent_ends(app_run, tmp_path):
    base, _ = app_run
    clip = face_clip(tmp_path / "scene.mp4", seconds=3)
    tenant = ApiClient(base, "Replay Clinic")
    cam = tenant.camera()
    live = LiveListener(base, tenant.token)
    proc = agent(tmp_path, "file", "--server", base, "--token", cam["capture_token"], "--fps", "2", str(clip))
    try:
        proc.popen.wait(timeout=40)
        assert proc.popen.returncode == 0, proc.output()[-3000:]
        wait_for(lambda: len(faces_for(live, cam["id"])) >= 3, 15, "no observations from the file", proc)
        assert len(faces_for(live, cam["id"])) <= 8  # 3 s at 2/s: each frame once, none queued
        assert "ended" in proc.output()
    finally:
        proc.stop(), live.close()


class Snapshots(BaseHTTPRequestHandler):
    """/snap.jpg: one JPEG per GET behind basic auth; /mjpeg: an MJPEG stream; /page: HTML (not a video)."""

    jpeg = face_jpeg("deepface_img1.jpg")
    expected = "Basic " + base64.b64encode(f"viewer:{PASSWORD}".encode()).decode()

    def do_GET(self):  # noqa: N802 - http.server's name
        if self.path == "/mjpeg":
            self.send_response(200)
            self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
            self.end_headers()
            part = b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(self.jpeg)
            try:
                while True:  # 10 frames/s until the client goes
                    self.wfile.write(part + self.jpeg + b"\r\n")
                    time.sleep(0.1)
            except OSError:
                return
        if self.path == "/page":
            body, kind = b"<html><body>login</body></html>", "text/html"
        elif self.headers.get("Authorization") != self.expected:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="cam"')
            self.end_headers()
            return
        else:
            body, kind = self.jpeg, "image/jpeg"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def snapshots():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Snapshots)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_http_sources_and_bad_sources_in_one_agent(app_run, tmp_path, snapshots):
    base, _ = app_run
    tenant = ApiClient(base, "Bad Sources")
    cams = [tenant.camera() for _ in range(6)]
    locked = RtspServer(face_clip(tmp_path / "locked.mp4", seconds=2), tmp_path, "viewer", PASSWORD)
    live = LiveListener(base, tenant.token)
    config = tmp_path / "agent.toml"
    config.write_text(
        f'server = "{base}"\nstats_interval = 1\n'
        f'[[cameras]]\nname = "nobody"\ntoken = "{cams[0]["capture_token"]}"\nsource = "rtsp://127.0.0.1:{free_port()}/cam"\n'
        f'[[cameras]]\nname = "html"\ntoken = "{cams[1]["capture_token"]}"\nsource = "{snapshots}/page"\n'
        f'[[cameras]]\nname = "wrongpw"\ntoken = "{cams[2]["capture_token"]}"\nsource = "{snapshots}/snap.jpg"\n'
        f'username = "viewer"\npassword = "not-{PASSWORD}"\n'
        f'[[cameras]]\nname = "snap"\ntoken = "{cams[3]["capture_token"]}"\nsource = "{snapshots}/snap.jpg"\n'
        f'username = "viewer"\npassword_env = "SNAP_PASSWORD"\nfps = 2\n'
        f'[[cameras]]\nname = "rtspauth"\ntoken = "{cams[4]["capture_token"]}"\nsource = "{locked.url}"\n'
        f'username = "viewer"\npassword = "wrong-{PASSWORD}"\n'
        f'[[cameras]]\nname = "mjpeg"\ntoken = "{cams[5]["capture_token"]}"\nsource = "{snapshots}/mjpeg"\nfps = 2\n'
    )
    proc = Proc([AGENT, "--config", str(config)], base_env(tmp_path, 0, SNAP_PASSWORD=PASSWORD), tmp_path / "agent-bad.log")
    try:
        out = proc.output
        wait_for(lambda: "nobody: source rtsp://127.0.0.1" in out() and "unreachable" in out(), 30, "no unreachable", proc)
        wait_for(lambda: "html: source" in out() and "not_video" in out(), 30, "no not_video", proc)
        wait_for(lambda: "wrongpw: source" in out() and "auth_failed" in out(), 30, "no auth_failed", proc)
        wait_for(lambda: f"rtspauth: source {locked.url}: auth_failed" in out(), 30, "no RTSP auth_failed", proc)
        # The good cameras of the same agent are analysed meanwhile.
        wait_for(lambda: len(faces_for(live, cams[3]["id"])) >= 2, 45, "snapshot camera not analysed", proc)
        wait_for(lambda: len(faces_for(live, cams[5]["id"])) >= 2, 45, "MJPEG camera not analysed", proc)
        time.sleep(2)
        assert proc.popen.poll() is None, out()[-3000:]  # still running, retrying the bad ones
        assert {o["camera_id"] for o in live.observations} == {cams[3]["id"], cams[5]["id"]}
    finally:
        proc.stop(), live.close(), locked.stop()
    log = proc.output()
    assert PASSWORD not in log and "Traceback" not in log


def test_an_unknown_token_ends_the_agent_at_once_with_its_message(app_run, tmp_path):
    base, _ = app_run
    proc = agent(tmp_path, "bad-token", "--server", base, "--token", "cam_not-a-token", str(tmp_path / "any.mp4"))
    proc.popen.wait(timeout=30)
    assert proc.popen.returncode == 3
    assert "refused the capture token (invalid_token)" in proc.output()
    usage = agent(tmp_path, "usage", "--server", base)
    usage.popen.wait(timeout=30)
    assert usage.popen.returncode == 2 and "give --server, --token and SOURCE" in usage.output()


def test_agent_into_the_distributed_mode(distributed, tmp_path):
    base, _, worker, _ = distributed
    clip = face_clip(tmp_path / "clip.mp4", seconds=3)
    rtsp = RtspServer(clip, tmp_path)
    url = rtsp.url
    tenant = ApiClient(base, "Distributed Agent")
    cam = tenant.camera()
    live = LiveListener(base, tenant.token)
    proc = agent(tmp_path, "dist", "--server", base, "--token", cam["capture_token"], "--fps", "2", url)
    try:
        wait_for(lambda: len(faces_for(live, cam["id"])) >= 3, 60, "no observations through the worker", proc)
        assert faces_for(live, cam["id"])[0]["faces"][0]["emotion"]
    finally:
        proc.stop(), rtsp.stop(), live.close()
    assert "Traceback" not in proc.output()
