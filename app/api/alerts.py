"""Alert rules and alerts."""

from __future__ import annotations

from flask import request
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from app.api import bp
from app.api.validation import Field, json_body, page_of, query_datetime, query_int, validate
from app.extensions import db
from app.models import Alert, AlertRule, Camera, Site
from app.rules import RULE_TYPES
from app.services import alerts, webhooks
from app.services.errors import ServiceError
from app.tenancy import admin_required, check_role, current_actor, get_for_tenant, member_required, scoped

HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"
RULE = {
    "camera_id": Field(int, nullable=True), "site_id": Field(int, nullable=True), "name": Field(str, max_len=120),
    "emotion": Field(str, required=True, choices=tuple(RULE_TYPES)),
    "threshold": Field((int, float), required=True, minimum=0, maximum=1),
    "duration_s": Field(int, required=True, minimum=1, maximum=3600),
    "min_share": Field((int, float), minimum=0.05, maximum=1), "min_faces": Field(int, minimum=1, maximum=50),
    "cooldown_s": Field(int, minimum=0, maximum=86400),
    "active_from": Field(str, max_len=5, nullable=True, pattern=HHMM),
    "active_to": Field(str, max_len=5, nullable=True, pattern=HHMM),
    "severity": Field(str, choices=("info", "warning", "critical")), "enabled": Field(bool),
    "escalate_after_s": Field(int, minimum=30, maximum=86400, nullable=True),
}


def _target(data: dict) -> tuple[Site | None, Camera | None]:
    try:
        camera = get_for_tenant(Camera, data["camera_id"]) if data.get("camera_id") is not None else None
        site = get_for_tenant(Site, data["site_id"]) if data.get("site_id") is not None and camera is None else None
    except NotFound:
        raise ServiceError("validation_error", "Unknown camera or site.", fields={"camera_id": "unknown"}) from None
    return site, camera


@bp.get("/alert-rules")
@member_required
def list_rules():
    return page_of(scoped(select(AlertRule), AlertRule), AlertRule.id, alerts.rule_dict)


@bp.post("/alert-rules")
@admin_required
def create_rule():
    data = validate(json_body(), RULE)
    site, camera = _target(data)
    if site is None and camera is None:
        raise ServiceError("validation_error", "A rule needs a camera_id or a site_id.", fields={"camera_id": "required"})
    rule = AlertRule(tenant_id=current_actor().tenant_id)
    return alerts.rule_dict(alerts.save_rule(rule, data, site, camera, current_actor().id)), 201


@bp.post("/alert-rules/simulate")
@member_required
def simulate_rule():
    """What a rule (not saved) would have done over the last hours of stored observations."""
    data = validate(json_body(), {**RULE, "hours": Field((int, float), minimum=0.1, maximum=72)})
    site, camera = _target(data)
    if site is None and camera is None:
        raise ServiceError("validation_error", "A rule needs a camera_id or a site_id.", fields={"camera_id": "required"})
    rule = AlertRule(id=0, **{k: v for k, v in data.items() if k in alerts.RULE_FIELDS})
    for name, default in (("min_share", 0.6), ("min_faces", 1), ("cooldown_s", 300)):
        if getattr(rule, name) is None:
            setattr(rule, name, default)
    target_site = camera.site if camera is not None else site
    camera_ids = [camera.id] if camera is not None else list(db.session.scalars(
        scoped(select(Camera.id).where(Camera.site_id == site.id), Camera)))
    events = alerts.simulate(rule, target_site.timezone, camera_ids, float(data.get("hours", 4)))
    return {"items": events, "next_cursor": None}


@bp.get("/alert-rules/<rule_id>")
@member_required
def get_rule(rule_id):
    return alerts.rule_dict(get_for_tenant(AlertRule, rule_id))


@bp.patch("/alert-rules/<rule_id>")
def update_rule(rule_id):
    rule = get_for_tenant(AlertRule, rule_id)
    check_role("admin")
    data = validate(json_body(), RULE, partial=True)
    site, camera = _target(data)
    return alerts.rule_dict(alerts.save_rule(rule, data, site, camera, current_actor().id))


@bp.delete("/alert-rules/<rule_id>")
def delete_rule(rule_id):
    rule = get_for_tenant(AlertRule, rule_id)
    check_role("admin")
    alerts.delete_rule(rule, current_actor().id)
    return "", 204


@bp.get("/alerts")
@member_required
def list_alerts():
    stmt = scoped(select(Alert), Alert)
    status = request.args.get("status")
    if status:
        if status not in ("open", "acknowledged", "resolved"):
            raise ServiceError("validation_error", "Unknown status.", fields={"status": "invalid"})
        stmt = stmt.where(Alert.status == status)
    camera_id = query_int("camera_id")
    if camera_id is not None:
        stmt = stmt.where(Alert.camera_id == camera_id)
    since = query_datetime("since")
    if since is not None:
        stmt = stmt.where(Alert.started_at >= since)
    return page_of(stmt, Alert.id, alerts.alert_dict)


@bp.post("/alerts/<alert_id>/ack")
def acknowledge_alert(alert_id):
    alert = get_for_tenant(Alert, alert_id)
    user = check_role("admin", "manager", "staff")
    data = validate(json_body() if request.get_data() else {}, {"note": Field(str, max_len=2000, nullable=True)})
    body = alerts.alert_dict(alerts.acknowledge(alert, user, data.get("note")))
    webhooks.notify(alert.tenant_id, "alert.acknowledged", body)
    return body
