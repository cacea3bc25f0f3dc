"""The live room's curves of the last minutes, read back from stored observations: bucket means of
the classified faces, oldest first, only the caller's cameras (never another tenant's, nor a site
outside a limited manager's), and frames without a classified face left out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.extensions import db
from app.services import observations

HAPPY = {"angry": 0.0, "disgust": 0.0, "fear": 0.0, "happy": 0.8, "sad": 0.0, "surprise": 0.0, "neutral": 0.2}
SAD = HAPPY | {"happy": 0.0, "sad": 0.6, "neutral": 0.4}


def _face(scores: dict) -> dict:
    return {"box": [10, 10, 80, 80], "emotion": max(scores, key=scores.get), "confidence": max(scores.values()), "scores": scores}


def test_the_trend_is_bucket_means_of_the_callers_cameras_only(app, client, tenant_a, tenant_b):
    site_a, site_b = tenant_a.site("Gate"), tenant_b.site("Ward")
    cam_a, cam_b = tenant_a.camera(site_a["id"], "Door"), tenant_b.camera(site_b["id"], "Bed")
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(seconds=now.timestamp() % 5) - timedelta(seconds=60)  # a bucket's start
    with app.app_context():
        # One bucket of two frames (happy then sad), a frame with no face, and one 10 min ago.
        observations.record(tenant_a.id, site_a["id"], cam_a["id"], start + timedelta(seconds=1), "t", [_face(HAPPY)], 5.0)
        observations.record(tenant_a.id, site_a["id"], cam_a["id"], start + timedelta(seconds=2), "t", [_face(SAD)], 5.0)
        observations.record(tenant_a.id, site_a["id"], cam_a["id"], start + timedelta(seconds=7), "t", [], 5.0)
        observations.record(tenant_a.id, site_a["id"], cam_a["id"], now - timedelta(minutes=10), "t", [_face(SAD)], 5.0)
        observations.record(tenant_b.id, site_b["id"], cam_b["id"], start + timedelta(seconds=1), "t", [_face(SAD)], 5.0)
        db.session.remove()
    client.post("/auth/login", data={"email": tenant_a.email, "password": "secret-pass-1"})
    body = client.get("/live/trend").get_json()
    assert body["window_s"] == 300 and set(body["cameras"]) == {str(cam_a["id"])}
    (point,) = body["cameras"][str(cam_a["id"])]
    assert datetime.fromisoformat(point["t"].replace("Z", "+00:00")) == start + timedelta(seconds=2.5)  # its middle
    assert point["scores"]["happy"] == 0.4 and point["scores"]["sad"] == 0.3 and point["scores"]["neutral"] == 0.3
    assert client.get(f"/live/trend?site_id={site_b['id']}").status_code == 404
    assert client.get(f"/live/trend?site_id={site_a['id']}").get_json()["cameras"][str(cam_a["id"])] == [point]
