"""person and rise alerts through the alert services: webhook bodies carry the kind's details,
cooldown and acknowledgement work as for share rules (stored observations' faces fed to the
rules at simulated times, published as the frame task publishes them)."""

from __future__ import annotations

import json
import time

import pytest

from tests.services.test_webhooks import Receiver

HAPPY = {"happy": 0.9, "neutral": 0.1, "angry": 0.0, "sad": 0.0, "fear": 0.0, "surprise": 0.0, "disgust": 0.0}
NEUTRAL = {"happy": 0.05, "neutral": 0.95, "angry": 0.0, "sad": 0.0, "fear": 0.0, "surprise": 0.0, "disgust": 0.0}
LEFT, RIGHT = [40, 60, 120, 120], [400, 60, 120, 120]
FPS = 4


@pytest.fixture
def receiver(app):
    app.config["OUTBOUND_ALLOW_NETWORKS"] = "127.0.0.0/8"  # the receiver is local
    r = Receiver()
    yield r
    r.close()


class Feed:
    """Frames of one camera at simulated times (seconds from a start in the recent past), fed to
    its rules; each alert change goes out as the frame task sends it (live room, webhooks)."""

    def __init__(self, app, tenant, site: dict, cam: dict):
        self.app, self.tenant, self.site, self.cam = app, tenant, site, cam
        self.start = time.time() - 3600

    def run(self, since: float, until: float, faces) -> list[tuple[str, dict]]:
        from app import events
        from app.services import alerts

        changed = []
        with self.app.app_context():
            for i in range(int((until - since) * FPS)):
                t = since + i / FPS
                for alert in alerts.evaluate_observation(
                    self.tenant.id, self.site["id"], self.cam["id"], self.start + t, faces(t)
                ):
                    body = alerts.alert_dict(alert)
                    events.alert(self.tenant.id, body, f"alert.{alert.status}")
                    changed.append((alert.status, body))
        return changed


def _bodies(receiver: Receiver) -> list[dict]:
    return [json.loads(body) for _, body in receiver.requests]


def _rule(tenant, cam: dict, **fields) -> dict:
    body = {"camera_id": cam["id"], "emotion": "joy", "cooldown_s": 60, **fields}
    r = tenant.call("POST", "/api/v1/alert-rules", json=body)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_person_alert_webhook_details_acknowledgement_and_cooldown(app, tenant_a, receiver):
    site = tenant_a.site()
    cam = tenant_a.camera(site["id"])
    tenant_a.call("POST", "/api/v1/webhooks", json={"url": receiver.url})
    rule = _rule(tenant_a, cam, kind="person", threshold=0.6, duration_s=4, min_share=0.8)
    feed = Feed(app, tenant_a, site, cam)

    def faces(happy: bool):
        return lambda t: [
            {"track_id": "a1b2", "box": LEFT, "scores": HAPPY if happy else NEUTRAL},
            {"track_id": "c3d4", "box": RIGHT, "scores": NEUTRAL},
        ]

    opened = feed.run(0, 8, faces(True))
    assert [s for s, _ in opened] == ["open"]
    alert = opened[0][1]
    assert alert["rule_id"] == rule["id"] and alert["details"] == {"track_id": "a1b2", "box": LEFT}
    # The webhook body of a person alert carries its track and box.
    (sent,) = _bodies(receiver)
    assert sent["event"] == "alert.open" and sent["data"]["details"] == {"track_id": "a1b2", "box": LEFT}

    # Acknowledged: every webhook hears it, details kept; the same person still smiling is the
    # same alert, not a new one.
    acked = tenant_a.call("POST", f"/api/v1/alerts/{alert['id']}/ack", json={"note": "on my way"})
    assert acked.status_code == 200 and acked.get_json()["status"] == "acknowledged"
    sent = _bodies(receiver)[-1]
    assert sent["event"] == "alert.acknowledged" and sent["data"]["details"]["track_id"] == "a1b2"
    assert feed.run(8, 16, faces(True)) == []

    # The person stops smiling: the acknowledged alert is resolved.
    ended = feed.run(16, 26, faces(False))
    assert [(s, b["id"], b["note"]) for s, b in ended] == [("resolved", alert["id"], "on my way")]
    assert _bodies(receiver)[-1]["event"] == "alert.resolved"

    # Smiling again within the cooldown (60 s from the start of the first alert): no alert...
    assert feed.run(26, 40, faces(True)) == []
    # ...after it, a new one.
    again = feed.run(70, 80, faces(True))
    assert [s for s, _ in again] == ["open"] and again[0][1]["id"] != alert["id"]
    stored = tenant_a.call("GET", f"/api/v1/alerts?camera_id={cam['id']}").get_json()["items"]
    assert sorted(a["status"] for a in stored) == ["open", "resolved"]
    assert [b["event"] for b in _bodies(receiver)] == ["alert.open", "alert.acknowledged", "alert.resolved", "alert.open"]


def test_rise_alert_webhook_details_acknowledgement_and_cooldown(app, tenant_a, receiver):
    site = tenant_a.site()
    cam = tenant_a.camera(site["id"])
    tenant_a.call("POST", "/api/v1/webhooks", json={"url": receiver.url})
    rule = _rule(tenant_a, cam, kind="rise", threshold=0.3, duration_s=5)
    feed = Feed(app, tenant_a, site, cam)

    def level(happy: float):
        scores = {**NEUTRAL, "happy": happy, "neutral": 1 - happy}
        return lambda t: [{"track_id": "e5f6", "box": LEFT, "scores": scores}]

    assert feed.run(0, 12, level(0.1)) == []  # a steady level is no rise
    opened = feed.run(12, 20, level(0.8))
    assert [s for s, _ in opened] == ["open"]
    alert = opened[0][1]
    assert alert["rule_id"] == rule["id"] and alert["details"]["rise"] >= 0.3
    assert alert["details"]["previous_mean"] == pytest.approx(0.1, abs=0.01)
    (sent,) = _bodies(receiver)
    assert sent["event"] == "alert.open" and sent["data"]["details"] == alert["details"]

    acked = tenant_a.call("POST", f"/api/v1/alerts/{alert['id']}/ack")
    assert acked.status_code == 200 and acked.get_json()["status"] == "acknowledged"
    assert _bodies(receiver)[-1]["data"]["details"] == alert["details"]
    # The level stays high: no longer a rise, the alert ends (once).
    ended = feed.run(20, 30, level(0.8))
    assert [(s, b["id"]) for s, b in ended] == [("resolved", alert["id"])]

    # Down and up again within the cooldown: silent; after it, a new alert.
    assert feed.run(30, 42, level(0.1)) == []
    assert feed.run(42, 50, level(0.8)) == []
    assert feed.run(50, 70, level(0.1)) == []
    again = feed.run(70, 80, level(0.8))
    assert [s for s, _ in again] == ["open"] and again[0][1]["id"] != alert["id"]
    assert [b["event"] for b in _bodies(receiver)] == ["alert.open", "alert.acknowledged", "alert.resolved", "alert.open"]
