"""A camera's rate changed while its capture is connected: the server says "ready" again with the
new rate (once, with the next acknowledgement), and the agent samples at it from then on."""

from __future__ import annotations

import time

from app.agent.camera import AgentCamera, CameraConfig
from app.extensions import socketio
from app.streams.source import SourceSpec
from tests.images import face_jpeg


def readies(client) -> list[dict]:
    return [e["args"][0] for e in client.get_received("/capture") if e["name"] == "ready"]


def send(cap) -> dict:
    return cap.emit("frame", {"ts": int(time.time() * 1000), "jpeg": face_jpeg()}, namespace="/capture", callback=True)


def test_the_server_tells_a_connected_capture_its_new_rate_once(app, tenant_a):
    site, other = tenant_a.site("Gate"), tenant_a.site("Hall")
    cam = tenant_a.camera(site["id"])
    cap = socketio.test_client(app, namespace="/capture", auth={"token": cam["capture_token"]})
    assert [r["fps"] for r in readies(cap)] == [5]
    assert send(cap)["ok"] is True
    assert readies(cap) == []  # nothing changed: no second "ready"

    assert tenant_a.call("PATCH", f"/api/v1/cameras/{cam['id']}", json={"fps": 2}).status_code == 200
    send(cap)
    [again] = readies(cap)
    assert again["fps"] == 2 and again["camera_id"] == cam["id"] and again["name"] == cam["name"]
    send(cap)
    assert readies(cap) == []  # said once

    # Moved to another site: the page shows the new site's name.
    assert tenant_a.call("PATCH", f"/api/v1/cameras/{cam['id']}", json={"site_id": other["id"]}).status_code == 200
    send(cap)
    assert [(r["site_id"], r["site_name"], r["fps"]) for r in readies(cap)] == [(other["id"], "Hall", 2)]


def test_the_agent_samples_at_the_rate_of_the_latest_ready():
    agent = AgentCamera(CameraConfig("http://127.0.0.1:1", "cam_x", SourceSpec("0")))
    on_ready = agent._client().handlers["/capture"]["ready"]
    on_ready({"camera_id": 1, "name": "Tablet", "site_name": "Gate", "fps": 5})
    assert agent.ready.is_set() and agent.fps() == 5
    on_ready({"camera_id": 1, "name": "Tablet", "site_name": "Gate", "fps": 2})  # the admin lowered it
    assert agent.fps() == 2
    capped = AgentCamera(CameraConfig("http://127.0.0.1:1", "cam_x", SourceSpec("0"), fps=4))
    handler = capped._client().handlers["/capture"]["ready"]
    handler({"fps": 10})
    assert capped.fps() == 4  # the operator's own --fps, below the camera's
    handler({"fps": 3})
    assert capped.fps() == 3  # never above the camera's
