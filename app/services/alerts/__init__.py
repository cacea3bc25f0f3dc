"""Alerts: rules (rules.py), their evaluation on each observation and in the simulator
(evaluation.py), an alert's lifecycle (lifecycle.py), the history query (history.py) and the
alert e-mails (notifications.py). Callers keep using ``from app.services import alerts``."""

from app.models import User
from app.models.alert import RULE_FIELDS
from app.services.alerts.evaluation import (
    Reading,
    batch_alerts,
    evaluate_batch,
    evaluate_observation,
    rule_updates,
    simulate,
)
from app.services.alerts.history import ALERT_STATUSES, alerts_query
from app.services.alerts.lifecycle import OFFLINE, acknowledge, alert_dict, check_cameras, escalate_overdue
from app.services.alerts.rules import (
    apply_kind,
    delete_rule,
    describe_rule,
    explain_details,
    kind_field_names,
    kind_fields,
    rule_dict,
    rules_for_camera,
    save_rule,
    spec_of,
)

__all__ = [
    "ALERT_STATUSES",
    "OFFLINE",
    "RULE_FIELDS",
    "User",
    "acknowledge",
    "Reading",
    "alert_dict",
    "alerts_query",
    "batch_alerts",
    "apply_kind",
    "check_cameras",
    "delete_rule",
    "describe_rule",
    "escalate_overdue",
    "evaluate_batch",
    "evaluate_observation",
    "explain_details",
    "kind_field_names",
    "kind_fields",
    "rule_dict",
    "rule_updates",
    "rules_for_camera",
    "save_rule",
    "simulate",
    "spec_of",
]
