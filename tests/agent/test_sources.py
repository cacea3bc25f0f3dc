"""app.streams.source against a real RTSP server: a dropped stream comes back by itself."""

from __future__ import annotations

import threading
import time
from itertools import pairwise

import pytest

from app.streams.source import Backoff, SourceSpec, frames
from tests.agent.clips import face_clip
from tests.agent.rtsp import RtspServer

pytestmark = pytest.mark.process


def test_a_dropped_rtsp_stream_reconnects_with_backoff_and_samples_the_newest_frames(tmp_path):
    server = RtspServer(face_clip(tmp_path / "clip.mp4", seconds=2), tmp_path, "viewer", "pw:@/x")
    statuses, stop, got = [], threading.Event(), []
    try:
        started = time.monotonic()
        for frame, ts in frames(SourceSpec(server.url, "viewer", "pw:@/x"), 4, stop, statuses.append, Backoff(0.2, 1)):
            got.append((time.monotonic(), time.time() - ts))
            assert frame.shape == (480, 640, 3)
            if len(got) == 4:
                with server.lock:  # the camera drops every client, as on a network fault
                    for client in server.clients:
                        client.shutdown(2)
            if len(got) == 10 or time.monotonic() - started > 40:
                stop.set()
        states = [s.state for s in statuses]
        assert states[:2] == ["connecting", "live"] and "unreachable" in states and states[-1] == "live", statuses
        assert len(got) == 10
        # Sampled at the rate and newest first: each frame was taken from the source just before it came.
        assert all(0 <= age < 0.3 for _, age in got), got
        gaps = [b[0] - a[0] for a, b in pairwise(got[5:])]
        assert all(0.15 < g < 0.5 for g in gaps), gaps
        assert server.requests.count("PLAY") >= 2
    finally:
        server.stop()
