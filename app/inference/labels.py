"""What the model says about a face: the single definition that models, reports, the API and pages derive from.

The expression classes in the order of the FER2013 labels and of the model's outputs; each class is
also the name of its score column in ``observations`` and ``observation_rollups``. The groups are
alert-rule targets scored as the sum of their members' probabilities. Translated labels and chart
colours live in ``app.labels`` (this package must not import Flask). tests/inference/test_face_outputs.py
fails if a class name is typed out again elsewhere in app/.
"""

EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

#: Alert-rule groups, each scored as the sum of its members' probabilities.
EMOTION_GROUPS: dict[str, tuple[str, ...]] = {
    "distress": ("fear", "sad"),
    "frustration": ("angry", "disgust"),
    "joy": ("happy",),
}

#: Column of each class's score (mean per frame in ``observations``, sum per slot in ``observation_rollups``).
EMOTION_COLUMNS: tuple[str, ...] = EMOTIONS

#: Colour of each class in charts (live sparklines, the report page and the PDF).
EMOTION_COLOURS: dict[str, str] = {
    "angry": "#d62728",
    "disgust": "#8c564b",
    "fear": "#9467bd",
    "happy": "#2ca02c",
    "sad": "#1f77b4",
    "surprise": "#ff7f0e",
    "neutral": "#7f7f7f",
}

assert tuple(EMOTION_COLOURS) == EMOTIONS, "one colour per class, in class order"
assert all(set(members) <= set(EMOTIONS) for members in EMOTION_GROUPS.values())
