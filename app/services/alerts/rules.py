"""Alert rules: their settings, saving and deletion (audited), and which rules watch a camera."""

from __future__ import annotations

from sqlalchemy import or_, select

from app.extensions import db
from app.infra.state import store
from app.models import AlertRule, Camera, Site
from app.models.alert import RULE_FIELDS
from app.rules import RuleSpec
from app.rules.kinds import KINDS, kind_of, validate_params
from app.services import audit
from app.services.errors import ServiceError
from app.timefmt import iso_utc


def kind_field_names() -> tuple[str, ...]:
    """Every kind-specific field name (flat in the API body and answer, e.g. baseline's min_weeks),
    read from the registry each time: a kind registered later is included."""
    return tuple(dict.fromkeys(p.name for k in KINDS.values() for p in k.params))


def kind_fields(rule: AlertRule) -> dict:
    """The rule's kind and its own parameters (defaults filled in)."""
    kind = kind_of(rule.kind)
    params = rule.params or {}
    return {"kind": kind.name, **{p.name: params.get(p.name, p.default) for p in kind.params}}


def rule_dict(rule: AlertRule) -> dict:
    return {
        "id": rule.id,
        "site_id": rule.site_id,
        "camera_id": rule.camera_id,
        **{f: getattr(rule, f) for f in RULE_FIELDS},
        **kind_fields(rule),
        "created_at": iso_utc(rule.created_at),
    }


def apply_kind(rule: AlertRule, data: dict) -> None:
    """Set ``kind`` and its parameters from a body (absent kind: the rule keeps its kind, a new rule is
    a share rule); a refusal names the field. Parameters of the kept kind not in the body are kept."""
    name = data.get("kind") or rule.kind or "share"
    raw = dict(rule.params or {}) if name == (rule.kind or "share") else {}
    raw.update({k: data[k] for k in kind_field_names() if data.get(k) is not None})
    cleaned, errors = validate_params(name, raw)
    if errors:
        raise ServiceError("validation_error", "The rule's kind or its fields are not valid.", fields=errors)
    rule.kind, rule.params = name, cleaned or None


def save_rule(rule: AlertRule, data: dict, site: Site | None, camera: Camera | None, actor_id: int | None = None) -> AlertRule:
    """Create or change a rule; a camera rule belongs to the camera's site."""
    if camera is not None:
        rule.camera_id, rule.site_id = camera.id, camera.site_id
    elif site is not None:
        rule.camera_id, rule.site_id = None, site.id
    if rule.site_id is None:
        raise ServiceError("validation_error", "A rule needs a camera_id or a site_id.", fields={"camera_id": "required"})
    try:
        apply_kind(rule, data)
    except ServiceError:
        db.session.rollback()
        raise
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
        kind=rule.kind,
        params=rule.params,
    )
    db.session.commit()
    rules_changed(rule.tenant_id)
    return rule


def delete_rule(rule: AlertRule, actor_id: int | None = None) -> None:
    audit.record(rule.tenant_id, actor_id, "rule.deleted", "alert_rule", rule.id, commit=False, name=rule.name)
    tenant_id = rule.tenant_id
    db.session.delete(rule)
    db.session.commit()
    rules_changed(tenant_id)


_VERSION_TTL_S = 30 * 86400


def version_key(tenant_id: int) -> str:
    return f"rules_version:{tenant_id}"


def rules_changed(tenant_id: int) -> None:
    """A committed change of the tenant's rules or of a site's time zone: every worker reads the
    camera's rules again at its next batch (the tenant's version in the shared store moves)."""
    store().incr(version_key(tenant_id), _VERSION_TTL_S)


def describe_rule(rule: AlertRule) -> str:
    """The rule's condition in the reader's language, in its kind's own terms."""
    return kind_of(rule.kind).describe(rule)


def explain_details(kind: str | None, details: dict | None) -> str:
    """An alert's kind-specific details in words ("anonymous track …", "up 35 points from 10 %")."""
    return kind_of(kind).explain(details) if details else ""


def spec_of(rule: AlertRule, timezone: str, context: dict | None = None) -> RuleSpec:
    """The engine's rule; a rule without a kind (an unsaved one) is a share rule."""
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
        kind=rule.kind or "share",
        params=dict(rule.params or {}),
        context=context or {},
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
