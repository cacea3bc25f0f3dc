"""Alert rules and alerts."""

from __future__ import annotations

from werkzeug.exceptions import NotFound

from app import events
from app.api import bp
from app.api import schemas as s
from app.api.contract import operation
from app.api.validation import page_of, params, payload
from app.models import Alert, AlertRule, Camera, Site
from app.services import alerts, listings
from app.services.errors import ServiceError
from app.tenancy import admin_required, check_role, current_actor, get_for_tenant, member_required


def _target(data: dict) -> tuple[Site | None, Camera | None]:
    try:
        camera = get_for_tenant(Camera, data["camera_id"]) if data.get("camera_id") is not None else None
        site = get_for_tenant(Site, data["site_id"]) if data.get("site_id") is not None and camera is None else None
    except NotFound:
        raise ServiceError("validation_error", "Unknown camera or site.", fields={"camera_id": "unknown"}) from None
    return site, camera


@bp.get("/alert-rules")
@operation("List alert rules", query=s.ListQuery, returns=s.page(s.Rule))
@member_required
def list_rules():
    return page_of(listings.alert_rules(), AlertRule.id, alerts.rule_dict)


@bp.post("/alert-rules")
@operation("Create an alert rule (admin)", body=s.RuleIn, returns=s.Rule, status=201, errors=(403,))
@admin_required
def create_rule():
    data = payload()
    site, camera = _target(data)
    if site is None and camera is None:
        raise ServiceError("validation_error", "A rule needs a camera_id or a site_id.", fields={"camera_id": "required"})
    rule = AlertRule(tenant_id=current_actor().tenant_id)
    return alerts.rule_dict(alerts.save_rule(rule, data, site, camera, current_actor().id)), 201


@bp.post("/alert-rules/simulate")
@operation(
    "Replay recent observations against an unsaved rule", body=s.RuleSimulation, returns=s.page(s.SimulatedEvent, cursor=False)
)
@member_required
def simulate_rule():
    """What a rule (not saved) would have done over the last hours of stored observations."""
    data = payload()
    site, camera = _target(data)
    if site is None and camera is None:
        raise ServiceError("validation_error", "A rule needs a camera_id or a site_id.", fields={"camera_id": "required"})
    rule = AlertRule(id=0, **{k: v for k, v in data.items() if k in alerts.RULE_FIELDS})
    alerts.apply_kind(rule, data)  # any kind, validated like a saved rule
    for name, default in (("min_share", 0.6), ("min_faces", 1), ("cooldown_s", 300)):
        if getattr(rule, name) is None:
            setattr(rule, name, default)
    target_site = camera.site if camera is not None else site
    camera_ids = [camera.id] if camera is not None else listings.camera_ids_of_site(site.id)
    events = alerts.simulate(rule, target_site.timezone, camera_ids, float(data.get("hours", 4)))
    return {"items": events, "next_cursor": None}


@bp.get("/alert-rules/<id:rule_id>")
@operation("An alert rule", returns=s.Rule)
@member_required
def get_rule(rule_id: int):
    return alerts.rule_dict(get_for_tenant(AlertRule, rule_id))


@bp.patch("/alert-rules/<id:rule_id>")
@operation("Change an alert rule (admin)", body=s.RulePatch, returns=s.Rule, errors=(403,))
def update_rule(rule_id: int):
    rule = get_for_tenant(AlertRule, rule_id)
    check_role("admin")
    data = payload()
    site, camera = _target(data)
    return alerts.rule_dict(alerts.save_rule(rule, data, site, camera, current_actor().id))


@bp.delete("/alert-rules/<id:rule_id>")
@operation("Delete an alert rule (admin)", status=204, errors=(403,))
def delete_rule(rule_id: int):
    rule = get_for_tenant(AlertRule, rule_id)
    check_role("admin")
    alerts.delete_rule(rule, current_actor().id)
    return "", 204


@bp.get("/alerts")
@operation("Alerts (?status=&camera_id=&since=), all statuses by default", query=s.AlertQuery, returns=s.page(s.Alert))
@member_required
def list_alerts():
    args = params()
    stmt = alerts.alerts_query(status=args.get("status"), camera_id=args.get("camera_id"), since=args.get("since"))
    return page_of(stmt, Alert.id, alerts.alert_dict)


@bp.post("/alerts/<id:alert_id>/ack")
@operation("Acknowledge an alert, with an optional note", body=s.AckIn, body_required=False, returns=s.Alert)
def acknowledge_alert(alert_id: int):
    alert = get_for_tenant(Alert, alert_id)
    user = check_role("admin", "manager", "staff")
    data = payload()
    changed = alerts.acknowledge(alert, user, data.get("note"))
    body = alerts.alert_dict(alert)
    if changed:  # every screen and webhook hears of it, once per change
        events.alert(alert.tenant_id, body, "alert.acknowledged")
    return body
