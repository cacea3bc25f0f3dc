"""Rule kinds as registered strategies: each module defines one ``Kind`` (its own parameters with
their bounds and labels, its names and help for the admin form, its per-frame sample, its decision,
its wording and any context it reads beyond the frames) and registers it; the engine keeps the
window, watermark and cooldown bookkeeping common to all. The admin form (app/admin/rule_forms.py),
the API's validation and OpenAPI schemas (app/api/schemas.py) and the evaluation's context
(app/services/alerts/evaluation.py) are read from this registry, so adding a kind is one module here
plus its translations (tests/rules/test_kind_in_one_module.py)."""

from __future__ import annotations

from typing import Any

from app.rules.kinds.base import Kind, Param

KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    KINDS[kind.name] = kind
    return kind


def kind_of(name: str | None) -> Kind:
    """The strategy of a rule; a rule without a kind is a ``share`` rule (today's behaviour)."""
    return KINDS[name or "share"]


def validate_params(name: Any, params: dict) -> tuple[dict, dict[str, str]]:
    """(cleaned parameters, field -> reason). An unknown kind is an error on ``kind``."""
    if not isinstance(name, str) or name not in KINDS:
        return {}, {"kind": "invalid"}
    return KINDS[name].clean(params)


from app.rules.kinds import baseline, person, rise, share  # noqa: E402,F401 - each registers its kind

__all__ = ["KINDS", "Kind", "Param", "kind_of", "register", "validate_params"]
