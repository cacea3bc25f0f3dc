"""An alert's life after it opens: its public shape, acknowledgement, escalation, and the
camera-offline alerts that no expression rule raises."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Alert, AlertRule, Camera, User
from app.models.base import utcnow
from app.services import audit
from app.services.alerts.rules import spec_of
from app.timefmt import iso_utc


def alert_dict(alert: Alert) -> dict:
    return {
        "id": alert.id,
        "rule_id": alert.rule_id,
        "camera_id": alert.camera_id,
        "site_id": alert.site_id,
        "emotion": alert.emotion,
        "severity": alert.severity,
        "value": alert.value,
        "status": alert.status,
        "started_at": iso_utc(alert.started_at),
        "acknowledged_at": iso_utc(alert.acknowledged_at),
        "acknowledged_by": alert.acknowledged_by,
        "note": alert.note,
        "resolved_at": iso_utc(alert.resolved_at),
        "escalated_at": iso_utc(alert.escalated_at),
        # kind-specific numbers and opaque ids (a person alert: track_id and box); None for share
        "details": alert.details,
    }


NOTE_MAX = 2000


def acknowledge(alert: Alert, user: User, note: str | None) -> bool:
    """Acknowledge an open alert, with an optional note. Two people tapping the same alert on two
    tablets both succeed: the first acknowledges it; a later note is added under the earlier one
    (never replacing it), and a later tap without a new note changes nothing. True when the alert
    changed (then screens and webhooks are told)."""
    note = (note or "").strip()
    if alert.status == "open":
        alert.status = "acknowledged"
        alert.acknowledged_at = utcnow()
        alert.acknowledged_by = user.id
        alert.note = note[:NOTE_MAX] or alert.note
    elif note and note not in (alert.note or "").split("\n"):
        alert.note = (f"{alert.note}\n{note}" if alert.note else note)[:NOTE_MAX]
    else:
        return False
    audit.record(alert.tenant_id, user.id, "alert.acknowledged", "alert", alert.id, commit=False, note=note or None)
    db.session.commit()
    return True


def escalate_overdue(now: datetime | None = None) -> list[Alert]:
    """Open alerts left unacknowledged past their rule's ``escalate_after_s``, now escalated."""
    now = now or utcnow()
    candidates = db.session.execute(
        select(Alert, AlertRule.escalate_after_s)
        .join(AlertRule, Alert.rule_id == AlertRule.id)
        .where(Alert.status == "open", Alert.escalated_at.is_(None), AlertRule.escalate_after_s.is_not(None))
    )
    escalated = []
    for alert, after in candidates:
        if alert.started_at <= now - timedelta(seconds=after):
            alert.escalated_at = now
            audit.record(alert.tenant_id, None, "alert.escalated", "alert", alert.id, commit=False, after_s=after)
            escalated.append(alert)
    db.session.commit()
    return escalated


OFFLINE = "camera_offline"


def check_cameras(offline_after_s: float, now: datetime | None = None) -> tuple[list[Alert], list[Alert]]:
    """Raise an alert for each enabled camera that stopped sending while one of its rules is
    active (it sent within the last day, so that retired tablets do not ring), and resolve it when
    the camera is back, or disabled (silent on purpose, of any kind). Returns (raised, resolved)."""
    now = now or utcnow()
    raised, resolved = [], []
    open_offline = {
        a.camera_id: a for a in db.session.scalars(select(Alert).where(Alert.emotion == OFFLINE, Alert.resolved_at.is_(None)))
    }
    rules = list(db.session.scalars(select(AlertRule).where(AlertRule.enabled.is_(True))))
    disabled = db.session.scalars(select(Camera.id).where(Camera.id.in_(list(open_offline)), Camera.enabled.is_(False)))
    for camera_id in list(disabled):
        alert = open_offline.pop(camera_id)
        alert.resolved_at, alert.status = now, "resolved"
        resolved.append(alert)
    cameras = db.session.scalars(
        select(Camera).where(
            Camera.enabled.is_(True), Camera.last_seen_at.is_not(None), Camera.last_seen_at >= now - timedelta(days=1)
        )
    )
    for camera in cameras:
        silent = now - camera.last_seen_at > timedelta(seconds=offline_after_s)
        alert = open_offline.get(camera.id)
        if not silent:
            if alert is not None:
                alert.resolved_at, alert.status = now, "resolved"
                resolved.append(alert)
            continue
        watching = [r for r in rules if r.camera_id == camera.id or (r.camera_id is None and r.site_id == camera.site_id)]
        if alert is None and any(spec_of(r, camera.site.timezone).active_at(now.timestamp()) for r in watching):
            alert = Alert(
                tenant_id=camera.tenant_id,
                rule_id=None,
                site_id=camera.site_id,
                camera_id=camera.id,
                emotion=OFFLINE,
                severity="warning",
                value=0.0,
                status="open",
                started_at=now,
            )
            db.session.add(alert)
            raised.append(alert)
    db.session.commit()
    return raised, resolved
