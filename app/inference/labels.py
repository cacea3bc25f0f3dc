"""The expression classes, in the order of the FER2013 labels and of the model's outputs."""

EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

#: Alert-rule groups, each scored as the sum of its members' probabilities.
EMOTION_GROUPS: dict[str, tuple[str, ...]] = {
    "distress": ("fear", "sad"),
    "frustration": ("angry", "disgust"),
    "joy": ("happy",),
}
