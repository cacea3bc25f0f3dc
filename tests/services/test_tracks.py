"""Anonymous tracks through the real pipeline: two people are two tracks with their own readings."""

from __future__ import annotations

import time

import cv2
import numpy as np

from tests.conftest import FACES


def side_by_side(left: str = "deepface_img15.jpg", right: str = "deepface_img11.jpg", height: int = 360) -> bytes:
    """A happy face (left) and a neutral one (right) in one frame, from the committed photos."""
    parts = []
    for name in (left, right):
        image = cv2.imread(str(FACES / name))
        parts.append(cv2.resize(image, (round(image.shape[1] * height / image.shape[0]), height), interpolation=cv2.INTER_AREA))
    ok, data = cv2.imencode(".jpg", np.hstack(parts), [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return data.tobytes()


def test_two_faces_keep_their_tracks_and_their_own_smoothing(app, tenant_a, tenant_b):
    from app.services.analysis import process_frame

    site = tenant_a.site()
    cam = tenant_a.camera(site["id"])
    jpeg = side_by_side()
    payloads = []
    with app.app_context():
        app.config["STALE_FRAME_S"] = 600
        start = time.time() - 30
        for i in range(5):
            payloads.append(process_frame(tenant_a.id, site["id"], cam["id"], f"f{i}", start + i * 0.2, jpeg).payload)
    first = sorted(payloads[0]["faces"], key=lambda f: f["box"][0])
    assert len(first) == 2 and first[0]["track_id"] != first[1]["track_id"]
    left, right = first[0]["track_id"], first[1]["track_id"]
    for p in payloads:
        faces = sorted(p["faces"], key=lambda f: f["box"][0])
        assert [f["track_id"] for f in faces] == [left, right]
        assert p["people"] == 2 and set(p["tracks"]) == {left, right}
    tracks = payloads[-1]["tracks"]
    # Per-track smoothing never blends the two: the happy face stays happy, the other does not.
    assert tracks[left]["happy"] > 0.5 > tracks[right]["happy"]
    assert tracks[left]["happy"] - tracks[right]["happy"] > 0.3
    # Stored rows and the API carry the opaque id; the other tenant sees none of it.
    body = tenant_a.call("GET", f"/api/v1/observations?camera_id={cam['id']}").get_json()
    assert len(body["items"]) == 5
    assert {f["track_id"] for o in body["items"] for f in o["faces"]} == {left, right}
    assert all(o["people"] == 2 for o in body["items"])
    assert tenant_b.call("GET", "/api/v1/observations").get_json()["items"] == []
    assert tenant_b.call("GET", f"/api/v1/observations?camera_id={cam['id']}").status_code == 404
