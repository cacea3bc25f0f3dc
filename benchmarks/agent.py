"""`make bench`: the edge agent's CPU per camera at 2 frames/s (python -m benchmarks.agent alone).

One agent process streams CAMERAS cameras, each from the same RTSP stream (the tests' relay of
Debian's ffmpeg, a clip of the committed photos) into the embedded app; the agent's CPU time
(user + system, /proc) over the run is divided by the cameras and the seconds. The agent decodes
every frame of a stream (so that the frame it samples is the newest), so the figure grows with
the camera's resolution and frame rate: both a 640x480 10 frames/s and a 1280x720 25 frames/s
stream are measured.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.agent.clips import PHOTOS  # noqa: E402
from tests.agent.rtsp import RtspServer  # noqa: E402
from tests.conftest import FIXTURES  # noqa: E402
from tests.processes import BIN, ApiClient, Proc, base_env, free_port, wait_ready  # noqa: E402

CAMERAS = 4
SECONDS = 20


def clip(path: Path, width: int, height: int, fps: int, seconds: int = 4) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    for i in range(seconds * fps):
        image = cv2.imread(str(FIXTURES / PHOTOS[i * len(PHOTOS) // (seconds * fps)]))
        scale = min(width / image.shape[1], height / image.shape[0])
        image = cv2.resize(image, (int(image.shape[1] * scale), int(image.shape[0] * scale)), interpolation=cv2.INTER_AREA)
        canvas = np.zeros((height, width, 3), np.uint8)
        canvas[: image.shape[0], : image.shape[1]] = image
        writer.write(np.roll(canvas, i * 4, axis=1))  # a slow pan: every block changes, as in a real scene
    writer.release()
    return path


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(base: str, tmp: Path, width: int, height: int, fps: int) -> tuple[float, str]:
    server = RtspServer(clip(tmp / f"clip-{width}.mp4", width, height, fps), tmp)
    tenant = ApiClient(base, f"Agent bench {width}")
    config = tmp / f"agent-{width}.toml"
    lines = [f'server = "{base}"', "fps = 2", f"stats_interval = {SECONDS}"]
    for i in range(CAMERAS):
        lines += ["[[cameras]]", f'name = "cam{i}"', f'token = "{tenant.camera()["capture_token"]}"', f'source = "{server.url}"']
    config.write_text("\n".join(lines) + "\n")
    agent = Proc([str(BIN / "emotiscan-agent"), "--config", str(config)], base_env(tmp, 0), tmp / f"agent-{width}.log")
    try:
        deadline = time.monotonic() + 30
        while agent.output().count("is live") < CAMERAS and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(2)  # connected and streaming: measure the steady state only
        start = cpu_s(agent.popen.pid)
        time.sleep(SECONDS)
        used = cpu_s(agent.popen.pid) - start
    finally:
        agent.stop()
        server.stop()
    counters = [line.split(": ", 1)[1] for line in agent.output().splitlines() if "cam0: sent" in line]
    return used / SECONDS / CAMERAS, counters[-1] if counters else "no counters"


def bench_agent() -> None:
    print(f"## Edge agent, CPU per camera at 2 frames/s ({CAMERAS} RTSP cameras in one agent, {SECONDS} s)")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        port = free_port()
        proc = Proc(["make", "--no-print-directory", "run", f"PORT={port}"], base_env(tmp, port), tmp / "run.log")
        try:
            wait_ready(f"http://127.0.0.1:{port}", proc)
            for width, height, fps in ((640, 480, 10), (1280, 720, 25)):
                per_camera, counters = measure(f"http://127.0.0.1:{port}", tmp, width, height, fps)
                print(
                    f"agent, {width}x{height} {fps} frames/s MPEG-4 stream: {per_camera * 100:.1f}% of a core per camera "
                    f"(one camera: {counters})"
                )
        finally:
            proc.stop()


if __name__ == "__main__":
    bench_agent()
