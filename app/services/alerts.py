"""Alert rules, their evaluation on each observation, and the alert lifecycle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Select, or_, select

from app.extensions import db
from app.infra.state import store
from app.models import Alert, AlertRule, Camera, Site, User
from app.models.alert import RULE_FIELDS
from app.models.base import utcnow
from app.rules import AlertEnded, AlertStarted, RuleSpec, RuleState, evaluate, sample_from_faces
from app.services import audit
from app.services.errors import ServiceError
from app.tenancy import scoped
from app.timefmt import iso_utc


def rule_dict(rule: AlertRule) -> dict:
    return {
        "id": rule.id,
        "site_id": rule.site_id,
        "camera_id": rule.camera_id,
        **{f: getattr(rule, f) for f in RULE_FIELDS},
        "created_at": iso_utc(rule.created_at),
    }


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
    }


def save_rule(rule: AlertRule, data: dict, site: Site | None, camera: Camera | None, actor_id: int | None = None) -> AlertRule:
    """Create or change a rule; a camera rule belongs to the camera's site."""
    if camera is not None:
        rule.camera_id, rule.site_id = camera.id, camera.site_id
    elif site is not None:
        rule.camera_id, rule.site_id = None, site.id
    if rule.site_id is None:
        raise ServiceError("validation_error", "A rule needs a camera_id or a site_id.", fields={"camera_id": "required"})
    for name in RULE_FIELDS:
        if name in data:
            setattr(rule, name, data[name])
    if bool(rule.active_from) != bool(rule.active_to):
        db.session.rollback()
        raise ServiceError(
            "validation_error", "Give both active_from and active_to, or neither.", fields={"active_to": "required"}
        )
    created = rule.id is None
    db.session.add(rule)
    db.session.flush()
    audit.record(
        rule.tenant_id,
        actor_id,
        "rule.created" if created else "rule.changed",
        "alert_rule",
        rule.id,
        commit=False,
        **{k: getattr(rule, k) for k in RULE_FIELDS},
    )
    db.session.commit()
    return rule


def delete_rule(rule: AlertRule, actor_id: int | None = None) -> None:
    audit.record(rule.tenant_id, actor_id, "rule.deleted", "alert_rule", rule.id, commit=False, name=rule.name)
    db.session.delete(rule)
    db.session.commit()


def spec_of(rule: AlertRule, timezone: str) -> RuleSpec:
    return RuleSpec(
        id=rule.id,
        emotion=rule.emotion,
        threshold=rule.threshold,
        duration_s=rule.duration_s,
        min_share=rule.min_share,
        min_faces=rule.min_faces,
        cooldown_s=rule.cooldown_s,
        active_from=rule.active_from,
        active_to=rule.active_to,
        timezone=timezone,
    )


def rules_for_camera(tenant_id: int, site_id: int, camera_id: int) -> list[AlertRule]:
    return list(
        db.session.scalars(
            select(AlertRule).where(
                AlertRule.tenant_id == tenant_id,
                AlertRule.enabled.is_(True),
                or_(AlertRule.camera_id == camera_id, (AlertRule.camera_id.is_(None)) & (AlertRule.site_id == site_id)),
            )
        )
    )


def evaluate_observation(tenant_id: int, site_id: int, camera_id: int, ts: float, faces: list[dict]) -> list[Alert]:
    """Feed one observation to the camera's rules; returns the alerts that started or ended.

    Each (rule, camera) state is updated atomically in the shared store, so that workers given
    interleaved frames of one camera produce each alert exactly once.
    """
    rules = rules_for_camera(tenant_id, site_id, camera_id)
    if not rules:
        return []
    timezone = db.session.scalar(select(Site.timezone).where(Site.id == site_id)) or "UTC"
    changed: list[Alert] = []
    for rule in rules:
        spec = spec_of(rule, timezone)
        sample = sample_from_faces(spec, ts, faces)
        produced: list = []

        def step(data: dict | None, spec=spec, sample=sample, produced=produced) -> dict:
            produced.clear()
            state, events = evaluate(spec, RuleState.from_dict(data), sample)
            produced.extend(events)
            return state.to_dict()

        store().update_json(f"rule:{rule.id}:camera:{camera_id}", step, ttl_s=int(3 * rule.duration_s + rule.cooldown_s + 60))
        for event in produced:
            if isinstance(event, AlertStarted):
                alert = Alert(
                    tenant_id=tenant_id,
                    rule_id=rule.id,
                    site_id=site_id,
                    camera_id=camera_id,
                    emotion=rule.emotion,
                    severity=rule.severity,
                    value=event.value,
                    status="open",
                    started_at=datetime.fromtimestamp(event.ts, UTC),
                )
                db.session.add(alert)
                changed.append(alert)
            elif isinstance(event, AlertEnded):
                alert = db.session.scalar(
                    select(Alert)
                    .where(Alert.rule_id == rule.id, Alert.camera_id == camera_id, Alert.resolved_at.is_(None))
                    .order_by(Alert.id.desc())
                    .limit(1)
                )
                if alert is not None:
                    alert.resolved_at = datetime.fromtimestamp(event.ts, UTC)
                    alert.status = "resolved"
                    changed.append(alert)
    db.session.commit()
    return changed


ALERT_STATUSES = ("open", "acknowledged", "resolved")


def alerts_query(
    user: User | None = None,
    *,
    site_id: int | None = None,
    camera_id: int | None = None,
    rule_id: int | None = None,
    status: str | None = None,
    since: datetime | None = None,
) -> Select:
    """The alerts that the actor (``user``, else the request's) may see, filtered: the one query
    behind the API's alert list and the admin alert history. None (or "") leaves a filter out."""
    stmt = scoped(select(Alert), Alert, user)
    for column, value in ((Alert.site_id, site_id), (Alert.camera_id, camera_id), (Alert.rule_id, rule_id)):
        if value is not None:
            stmt = stmt.where(column == value)
    if status:
        stmt = stmt.where(Alert.status == status)
    if since is not None:
        stmt = stmt.where(Alert.started_at >= since)
    return stmt


def acknowledge(alert: Alert, user: User, note: str | None) -> Alert:
    if alert.status == "open":
        alert.status = "acknowledged"
        alert.acknowledged_at = utcnow()
        alert.acknowledged_by = user.id
    if note:
        alert.note = note[:2000]
    audit.record(alert.tenant_id, user.id, "alert.acknowledged", "alert", alert.id, commit=False, note=alert.note)
    db.session.commit()
    return alert


def simulate(rule: AlertRule, timezone: str, camera_ids: list[int], hours: float) -> list[dict]:
    """Replay the last ``hours`` of stored observations of these cameras against an unsaved
    rule: when it would have fired and ended (no alert is stored, nothing is emitted)."""
    from app.models import Observation

    since = utcnow() - timedelta(hours=hours)
    spec = spec_of(rule, timezone)
    results: list[dict] = []
    for camera_id in camera_ids:
        state = RuleState()
        rows = db.session.execute(
            select(Observation.ts, Observation.faces)
            .where(Observation.camera_id == camera_id, Observation.ts >= since)
            .order_by(Observation.ts)
        )
        for ts, faces in rows:
            state, events = evaluate(spec, state, sample_from_faces(spec, ts.timestamp(), faces or []))
            for event in events:
                results.append(
                    {
                        "camera_id": camera_id,
                        "event": "started" if isinstance(event, AlertStarted) else "ended",
                        "at": iso_utc(datetime.fromtimestamp(event.ts, UTC)),
                        "value": getattr(event, "value", None),
                    }
                )
    return sorted(results, key=lambda r: r["at"])


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
    """Raise an alert for each camera that stopped sending while one of its rules is active (it
    sent within the last day, so that retired tablets do not ring), and resolve it when the
    camera is back. Returns (raised, resolved)."""
    now = now or utcnow()
    raised, resolved = [], []
    open_offline = {
        a.camera_id: a for a in db.session.scalars(select(Alert).where(Alert.emotion == OFFLINE, Alert.resolved_at.is_(None)))
    }
    rules = list(db.session.scalars(select(AlertRule).where(AlertRule.enabled.is_(True))))
    cameras = db.session.scalars(
        select(Camera).where(Camera.last_seen_at.is_not(None), Camera.last_seen_at >= now - timedelta(days=1))
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
