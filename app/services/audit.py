"""The audit trail: one call per audited action, from the services and views that perform it."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.models import AuditEntry


def record(
    tenant_id: int,
    actor_id: int | None,
    action: str,
    target_type: str = "",
    target_id: int | None = None,
    commit: bool = True,
    **details,
) -> AuditEntry:
    entry = AuditEntry(
        tenant_id=tenant_id, actor_id=actor_id, action=action, target_type=target_type, target_id=target_id, details=details
    )
    db.session.add(entry)
    if commit:
        db.session.commit()
    return entry


# Reading the trail ---------------------------------------------------------------------------------
# Each action as a sentence; the details the sentence does not name follow as "label: value" pairs.
# Values are formatted in the reader's language; None is left out (nothing happened there).

_ACTIONS = {
    "tenant.signed_up": _l("Organisation %(organisation)s created by %(email)s"),
    "tenant.export": _l("Organisation data exported"),
    "sign_in": _l("Signed in"),
    "sign_in_failed": _l("Sign-in failed (wrong password)"),
    "sign_in_refused_locked": _l("Sign-in refused: account locked"),
    "user.created": _l("User %(email)s added"),
    "user.removed": _l("User %(email)s removed"),
    "user.locked": _l("Account locked after repeated failed sign-ins"),
    "user.unlocked": _l("Account unlocked"),
    "user.password_reset": _l("Password reset by e-mail link"),
    "user.invitation_accepted": _l("Invitation accepted: password chosen"),
    "user.password_changed": _l("Password changed"),
    "user.password_change_refused": _l("Password change refused (wrong current password)"),
    "user.role_changed": _l("Role changed"),
    "user.invitation_resent": _l("Invitation of %(email)s sent again"),
    "user.invitation_revoked": _l("Invitation of %(email)s withdrawn"),
    "site.created": _l("Site %(name)s created"),
    "site.changed": _l("Site changed"),
    "site.deleted": _l("Site %(name)s deleted"),
    "site.purpose_declared": _l("Site's setting and purpose declared"),
    "camera.created": _l("Camera %(name)s added"),
    "camera.changed": _l("Camera changed"),
    "camera.deleted": _l("Camera %(name)s deleted"),
    "camera.link_renewed": _l("Capture link of camera %(name)s renewed"),
    "rule.created": _l("Alert rule %(name)s created"),
    "rule.changed": _l("Alert rule %(name)s changed"),
    "rule.deleted": _l("Alert rule %(name)s deleted"),
    "alert.acknowledged": _l("Alert acknowledged"),
    "alert.escalated": _l("Alert escalated"),
    "privacy.settings": _l("Privacy settings changed"),
    "webhook.delete": _l("Webhook deleted"),
    "report_schedule.create": _l("Scheduled report created"),
    "report_schedule.delete": _l("Scheduled report deleted"),
}
_DETAILS = {
    "name": _l("name"),
    "email": _l("e-mail"),
    "role": _l("role"),
    "timezone": _l("time zone"),
    "fps": _l("frames per second"),
    "site_id": _l("site"),
    "enabled": _l("enabled"),
    "source": _l("stream source changed"),
    "kind": _l("kind"),
    "note": _l("note"),
    "after_s": _l("after (s)"),
    "via": _l("via"),
    "known_device": _l("known device"),
    "files": _l("files"),
    "observations": _l("observations"),
    "camera_id": _l("camera"),
    "status": _l("status"),
    "setting": _l("setting"),
    "purpose": _l("purpose"),
    "analysis": _l("analysis"),
    "old": _l("before"),
    "new": _l("after"),
    "emotion": _l("expression"),
    "threshold": _l("threshold"),
    "duration_s": _l("duration (s)"),
    "min_share": _l("minimum share"),
    "min_faces": _l("minimum faces"),
    "cooldown_s": _l("pause between alerts (s)"),
    "active_from": _l("active from"),
    "active_to": _l("active until"),
    "severity": _l("severity"),
    "escalate_after_s": _l("escalate after (s)"),
    "retention_days": _l("retention (days)"),
    "audit_retention_days": _l("audit retention (days)"),
    "privacy_contact": _l("privacy contact"),
    "outside_eu": _l("outside the EU"),
    "organisation": _l("organisation"),
}
_VALUES = {
    "via": {"form": _l("sign-in page"), "api": _l("API")},
    "kind": {"browser": _l("Browser"), "stream": _l("Stream")},
}
_TARGETS = {"alert": _l("alert #%(id)s"), "webhook": _l("webhook #%(id)s"), "report_schedule": _l("schedule #%(id)s")}


def _value(value: object, key: str = "") -> str:
    from app.labels import ANALYSIS_LABELS, EMOTION_LABELS, PURPOSE_LABELS, ROLE_LABELS, SETTING_LABELS, SEVERITY_LABELS
    from app.numformat import number, percent
    from app.rules.kinds import KINDS

    names = {
        "emotion": EMOTION_LABELS,
        "setting": SETTING_LABELS,
        "purpose": PURPOSE_LABELS,
        "severity": SEVERITY_LABELS,
        "role": ROLE_LABELS,
        "analysis": ANALYSIS_LABELS,
    }
    if key in names and value in names[key]:
        return str(names[key][value])
    if key in _VALUES and value in _VALUES[key]:
        return str(_VALUES[key][value])
    if key == "kind" and isinstance(value, str) and value in KINDS:  # a rule's kind (a camera's is above)
        return str(KINDS[value].label or value)
    if key == "min_share" and isinstance(value, int | float):
        return percent(value)
    if isinstance(value, bool):
        return str(_l("yes") if value else _l("no"))
    if isinstance(value, int):
        return number(value)
    if isinstance(value, float):
        return number(value, 2)
    if isinstance(value, list | tuple):
        return ", ".join(_value(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_value(v)}" for k, v in value.items() if v is not None)
    return str(value)


def describe(entry: AuditEntry) -> tuple[str, str]:
    """The entry as (sentence, details) in the request's language."""
    details = {k: v for k, v in (entry.details or {}).items() if v is not None}
    template = _ACTIONS.get(entry.action)
    used: set[str] = set()
    if template is None:  # an action added without a sentence yet: readable, never a raw dict
        sentence = entry.action.replace("_", " ").replace(".", ": ")
    else:
        text = str(template)
        used = {k for k in details if f"%({k})s" in text}
        # A detail the sentence names but the entry lacks (a rule without a name) leaves no gap.
        sentence = re.sub(r"\s{2,}", " ", text % {k: _value(details.get(k, ""), k) for k in _named(text)})
    if entry.target_type in _TARGETS and entry.target_id:
        sentence = f"{sentence} ({_TARGETS[entry.target_type] % {'id': entry.target_id}})"
    rest = []
    for key, value in details.items():
        if key in used:
            continue
        if key == "source":
            rest.append(str(_DETAILS["source"]))
            continue
        label = _DETAILS.get(key, key.replace("_", " "))
        rest.append(str(_l("%(label)s: %(value)s", label=label, value=_value(value, key))))
    return sentence, "; ".join(rest)


def _named(text: str) -> list[str]:
    return re.findall(r"%\((\w+)\)s", text)
