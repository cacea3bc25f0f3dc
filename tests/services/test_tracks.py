"""Anonymous tracks through the real pipeline: two people are two tracks with their own readings."""

from __future__ import annotations

import time
from functools import cache

import cv2
import numpy as np

from tests.conftest import FACES


def side_by_side(left: str = "deepface_img15.jpg", right: str = "deepface_img32.jpg", height: int = 360) -> bytes:
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


# --- Taking turns through the real pipeline ---------------------------------------------------
# deepface_img1 is classified happy (0.93) and deepface_img32 neutral (happy 0.03), also cropped
# and side by side at 640x480 (checked with the pipeline when this test was written).
HAPPY_PHOTO, NEUTRAL_PHOTO = "deepface_img1.jpg", "deepface_img32.jpg"
TURN_S, FPS = 1.5, 5
RULE = {"emotion": "joy", "threshold": 0.6, "duration_s": 4, "min_share": 0.8, "cooldown_s": 600}


@cache
def _portrait(name: str, side: int = 280, face: int = 140) -> np.ndarray:
    """The photo scaled so that its face is ``face`` px wide, cropped ``side`` px square around it:
    both people's faces are then the same size at the same place, so that a swap reads to the
    tracker as the two people changing expression, not as people moving."""
    from app.inference.pipeline import analyze_jpeg
    from app.inference.registry import get_models
    from config import TestingConfig

    image = cv2.imread(str(FACES / name))
    models = get_models(TestingConfig.MODEL_DIR)
    (found,) = analyze_jpeg(cv2.imencode(".jpg", image)[1].tobytes(), models.detector, models.classifier).faces
    x, y, w, h = found.as_dict()["box"]
    scale = face / w
    image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    padded = cv2.copyMakeBorder(image, side, side, side, side, cv2.BORDER_REPLICATE)
    x0, y0 = round((x + w / 2) * scale - side / 2) + side, round((y + h / 2) * scale - side / 2) + side
    return padded[y0 : y0 + side, x0 : x0 + side]


@cache
def two_people(left: str, right: str) -> bytes:
    """A 640x480 camera frame with two people side by side."""
    canvas = np.full((480, 640, 3), 190, np.uint8)
    canvas[100:380, 20:300], canvas[100:380, 340:620] = _portrait(left), _portrait(right)
    ok, data = cv2.imencode(".jpg", canvas, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return data.tobytes()


def _stream(app, tenant, site: dict, cam: dict, seconds: float, frame_at) -> list[dict]:
    """Feed ``seconds`` of simulated time at FPS through process_frame (received_at advancing);
    returns the observation payloads."""
    from app.services.analysis import process_frame

    payloads = []
    with app.app_context():
        app.config["STALE_FRAME_S"] = 600  # simulated time lies in the recent past
        start = time.time() - seconds - 5
        for i in range(int(seconds * FPS)):
            t = i / FPS
            outcome = process_frame(tenant.id, site["id"], cam["id"], f"f{i}", start + t, frame_at(t))
            assert outcome.payload is not None, outcome.error
            payloads.append(outcome.payload)
    return payloads


def test_people_taking_turns_fire_a_share_rule_but_not_a_person_rule(app, tenant_a):
    """The photos swap places every 1.5 s, so a happy face is always in view: the camera's highest
    face is happy in every frame (share), while each person is happy only half of the time."""
    site = tenant_a.site()
    turns, steady = tenant_a.camera(site["id"], "Turns"), tenant_a.camera(site["id"], "Steady")
    rules = {}
    for cam in (turns, steady):
        for kind in ("share", "person"):
            r = tenant_a.call("POST", "/api/v1/alert-rules", json={**RULE, "kind": kind, "camera_id": cam["id"]})
            assert r.status_code == 201, r.get_json()
            rules[cam["id"], kind] = r.get_json()["id"]

    def taking_turns(t: float) -> bytes:
        happy_left = int(t // TURN_S) % 2 == 0
        return two_people(HAPPY_PHOTO, NEUTRAL_PHOTO) if happy_left else two_people(NEUTRAL_PHOTO, HAPPY_PHOTO)

    payloads = _stream(app, tenant_a, site, turns, 12, taking_turns)
    # The pipeline saw what the scenario says: two people, one of them happy, in every frame, and
    # each position keeps its track while its expression changes.
    for p in payloads:
        faces = sorted(p["faces"], key=lambda f: f["box"][0])
        assert len(faces) == 2 and p["people"] == 2
        assert max(f["scores"]["happy"] for f in faces) > 0.8 > min(f["scores"]["happy"] for f in faces)
    assert len({f["track_id"] for p in payloads for f in p["faces"]}) == 2

    # One that stays happy on the left, beside a neutral one.
    steady_payloads = _stream(app, tenant_a, site, steady, 8, lambda t: two_people(HAPPY_PHOTO, NEUTRAL_PHOTO))

    alerts = tenant_a.call("GET", "/api/v1/alerts").get_json()["items"]
    fired = {(a["camera_id"], a["rule_id"]) for a in alerts}
    assert (turns["id"], rules[turns["id"], "share"]) in fired
    assert (turns["id"], rules[turns["id"], "person"]) not in fired
    assert (steady["id"], rules[steady["id"], "person"]) in fired
    person = next(a for a in alerts if a["rule_id"] == rules[steady["id"], "person"])
    happy_face = min(steady_payloads[-1]["faces"], key=lambda f: f["box"][0])
    assert person["details"]["track_id"] == happy_face["track_id"]
    assert abs(person["details"]["box"][0] - happy_face["box"][0]) < 10  # the happy face's box, not the other's
    assert len([a for a in alerts if a["rule_id"] in rules.values()]) == 3  # each once
