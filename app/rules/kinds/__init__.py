"""Rule kinds as registered strategies: each module defines one ``Kind`` (its own parameters with
their bounds, its per-frame sample and its decision) and registers it; the engine keeps the
window, watermark and cooldown bookkeeping common to all. Adding a kind: one module here (plus,
once wired, its form template and translations)."""

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
