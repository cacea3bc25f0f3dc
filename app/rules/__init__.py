"""Pure alert-rule evaluation: rule types in a registry, ``evaluate()`` -> events. No I/O here;
the caller loads and saves each (rule, camera) state (memory or Redis)."""

from app.rules.engine import AlertEnded, AlertStarted, RuleSpec, RuleState, Sample, evaluate, sample_from_faces
from app.rules.registry import RULE_TYPES, score_of

__all__ = [
    "RULE_TYPES",
    "AlertEnded",
    "AlertStarted",
    "RuleSpec",
    "RuleState",
    "Sample",
    "evaluate",
    "sample_from_faces",
    "score_of",
]
