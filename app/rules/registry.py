"""What a rule measures: one of the 7 expressions, or a group scored as the sum of its members."""

from __future__ import annotations

from app.inference.labels import EMOTION_GROUPS, EMOTIONS

#: rule type name -> the expressions summed to score it
RULE_TYPES: dict[str, tuple[str, ...]] = {**{e: (e,) for e in EMOTIONS}, **EMOTION_GROUPS}


def score_of(kind: str, scores: dict[str, float]) -> float:
    """The rule type's score for one face's 7 probabilities."""
    return float(sum(scores[member] for member in RULE_TYPES[kind]))
