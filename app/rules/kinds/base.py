"""What every rule kind provides."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from flask_babel import lazy_gettext as _l

from app.labels import EMOTION_WORDS


def emotion_words(emotion: str) -> str:
    """The expression's short lower-case word in the reader's language ("joie")."""
    return str(EMOTION_WORDS.get(emotion, emotion))


def points(value: float) -> int:
    """A score difference 0..1 as percentage points."""
    return round(value * 100)


@dataclass(frozen=True)
class Param:
    """A kind-specific parameter: a number within bounds, with a default."""

    name: str
    minimum: float
    maximum: float
    default: float
    integer: bool = False
    label: Any = field(default="", compare=False)  # the admin form's label (a lazy string)
    doc: str = field(default="", compare=False)  # the API document's description (English), e.g. "past weeks of history needed"

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


class History(Protocol):
    """What a kind's ``context`` may read of a camera's past (given by the caller, which does the I/O)."""

    camera_id: int
    timezone: str

    def rollups(self, members: tuple[str, ...], since_slot: int, until_slot: int) -> list[tuple[int, int, float]]:
        """(slot, classified faces, score sum of ``members``) of the camera's 15-minute rollups."""
        ...


class Kind:
    """A rule kind. ``sample`` turns one frame's faces into the engine's Sample; ``decide`` takes the
    decision at one sample time from the samples of the window (see app/rules/engine.py).

    A kind also says how it is shown and asked for: ``label`` (its short name), ``help`` (what it
    watches), ``threshold_label`` (what the score means for it), ``uses`` (the optional fields common
    to rules that it reads) and its own ``params``; the admin form and the API's schemas are built
    from these (app/admin/rule_forms.py, app/api/schemas.py)."""

    name: str = ""
    params: tuple[Param, ...] = ()
    label: Any = ""
    help: Any = ""
    threshold_label: Any = _l("Above this score (0 to 1)")
    uses: tuple[str, ...] = ()  # of the common fields min_share and min_faces
    position: int = 100  # where the admin form lists it (share first: the default)
    context_ttl_s: int = 900  # how long a context is reused (see ``context``)

    @property
    def has_context(self) -> bool:
        return type(self).context is not Kind.context

    def context(self, rule, history: History, now: float) -> dict:
        """What the kind needs beyond the frames (baseline: usual levels learnt from past rollups),
        put in the rule's ``context``; none by default. Reused for ``context_ttl_s``."""
        return {}

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

    # Words, in the reader's language (called inside a request or a forced locale). Each kind says
    # what it watches in its own terms, so that adding a kind stays one module.

    def describe(self, rule) -> str:
        """The rule's condition as a short phrase (the rules list). ``rule``: anything with the
        rule's fields (a stored AlertRule or a RuleSpec) and its ``params``."""
        raise NotImplementedError

    def explain(self, details: dict | None) -> str:
        """An alert's kind-specific details as a phrase (simulator lines, e-mails); "" when none."""
        return ""

    def alert_text(self, emotion: str, value: float, details: dict | None) -> str:
        """What an alert of this kind says happened, e.g. "joy above the rule's threshold (72 %)"
        (``emotion`` already in words, ``value`` the alert's score 0..1)."""
        raise NotImplementedError

    def decide(self, rule, state, samples: list, now: float) -> tuple:
        raise NotImplementedError
