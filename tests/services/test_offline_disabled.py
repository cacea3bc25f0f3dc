"""Camera-offline alerts leave disabled cameras alone, browser and stream cameras alike: a camera
disabled on purpose is silent, not offline, and an offline alert it had is resolved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.extensions import db
from app.models import Alert, Camera
from app.services.alerts import OFFLINE, check_cameras
from tests.services.test_alerts import HAPPY


def test_disabled_cameras_raise_no_offline_alert_and_disabling_resolves_one(app, tenant_a):
    app.config["STREAM_SOURCES_ALLOW"] = ["127.0.0.0/8"]
    site = tenant_a.site()
    browser_on, browser_off = tenant_a.camera(site["id"], "On"), tenant_a.camera(site["id"], "Off")
    streams = []
    for name in ("CCTV on", "CCTV off"):
        body = {"site_id": site["id"], "name": name, "kind": "stream", "source_url": "rtsp://127.0.0.1:1/cam"}
        r = tenant_a.call("POST", "/api/v1/cameras", json=body)
        assert r.status_code == 201, r.get_json()
        streams.append(r.get_json())
    stream_on, stream_off = streams
    assert tenant_a.call("POST", "/api/v1/alert-rules", json={**HAPPY, "site_id": site["id"]}).status_code == 201
    for cam in (browser_off, stream_off):
        assert tenant_a.call("PATCH", f"/api/v1/cameras/{cam['id']}", json={"enabled": False}).status_code == 200
    with app.app_context():
        for cam in (browser_on, browser_off, stream_on, stream_off):  # all silent for 10 minutes
            db.session.get(Camera, cam["id"]).last_seen_at = datetime.now(UTC) - timedelta(minutes=10)
        db.session.commit()
        raised, resolved = check_cameras(60)
        assert sorted(a.camera_id for a in raised) == sorted([browser_on["id"], stream_on["id"]]) and resolved == []
    # Disabled while its offline alert is open: resolved at the next round, and not raised again.
    assert tenant_a.call("PATCH", f"/api/v1/cameras/{stream_on['id']}", json={"enabled": False}).status_code == 200
    with app.app_context():
        raised, resolved = check_cameras(60)
        assert raised == [] and [a.camera_id for a in resolved] == [stream_on["id"]]
        assert check_cameras(60) == ([], [])
        still_open = db.session.scalars(db.select(Alert.camera_id).where(Alert.emotion == OFFLINE, Alert.resolved_at.is_(None)))
        assert list(still_open) == [browser_on["id"]]
