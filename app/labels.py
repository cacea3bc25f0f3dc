"""Translated names of the classes, groups and severities, for forms, pages and reports."""

from flask_babel import lazy_gettext as _l

EMOTION_LABELS = {
    "distress": _l("Distress (fear + sadness)"), "frustration": _l("Frustration (anger + disgust)"), "joy": _l("Joy"),
    "angry": _l("Anger"), "disgust": _l("Disgust"), "fear": _l("Fear"), "happy": _l("Happiness"), "sad": _l("Sadness"),
    "surprise": _l("Surprise"), "neutral": _l("Neutral"), "camera_offline": _l("Camera offline"),
}
SEVERITY_LABELS = {"info": _l("Information"), "warning": _l("Warning"), "critical": _l("Critical")}
CAVEAT = _l("Scores describe facial expressions, not inner feelings. They are not to be used alone for decisions "
            "about a person.")
FREQUENCY_WORDS = {"daily": _l("daily"), "weekly": _l("weekly"), "monthly": _l("monthly")}
