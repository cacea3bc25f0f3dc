"""What every rule kind provides."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Param:
    """A kind-specific parameter: a number within bounds, with a default."""

    name: str
    minimum: float
    maximum: float
    default: float
    integer: bool = False

    def clean(self, value: Any) -> tuple[Any, str | None]:
        if value is None:
            return self.default, None
        if isinstance(value, bool) or not isinstance(value, int | float) or (self.integer and not isinstance(value, int)):
            return None, "invalid"
        if not self.minimum <= value <= self.maximum:
            return None, "out_of_range"
        return value, None

    def json_schema(self) -> dict:
        return {
            "type": "integer" if self.integer else "number",
            "minimum": self.minimum,
            "maximum": self.maximum,
            "default": self.default,
        }


class Kind:
    """A rule kind. ``sample`` turns one frame's faces into the engine's Sample; ``decide`` takes the
    decision at one sample time from the samples of the window (see app/rules/engine.py)."""

    name: str = ""
    params: tuple[Param, ...] = ()

    def clean(self, params: dict) -> tuple[dict, dict[str, str]]:
        cleaned, errors = {}, {}
        for param in self.params:
            value, reason = param.clean(params.get(param.name))
            if reason:
                errors[param.name] = reason
            else:
                cleaned[param.name] = value
        return cleaned, errors

    def json_schema(self) -> dict:
        return {p.name: p.json_schema() for p in self.params}

    def sample(self, rule, ts: float, faces: list[dict]):  # noqa: ANN201 - engine.Sample
        raise NotImplementedError

    def decide(self, rule, state, samples: list, now: float) -> tuple:
        raise NotImplementedError
