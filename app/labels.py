"""Translated names of the classes, groups and severities, for forms, pages and reports."""

from flask_babel import lazy_gettext as _l

EMOTION_LABELS = {
    "distress": _l("Distress (fear + sadness)"),
    "frustration": _l("Frustration (anger + disgust)"),
    "joy": _l("Joy"),
    "angry": _l("Anger"),
    "disgust": _l("Disgust"),
    "fear": _l("Fear"),
    "happy": _l("Happiness"),
    "sad": _l("Sadness"),
    "surprise": _l("Surprise"),
    "neutral": _l("Neutral"),
    "camera_offline": _l("Camera offline"),
}
SEVERITY_LABELS = {"info": _l("Information"), "warning": _l("Warning"), "critical": _l("Critical")}
CAVEAT = _l("Scores describe facial expressions, not inner feelings. They are not to be used alone for decisions about a person.")
FREQUENCY_WORDS = {"daily": _l("daily"), "weekly": _l("weekly"), "monthly": _l("monthly")}
SETTING_LABELS = {
    "unspecified": _l("Not declared yet"),
    "education": _l("Education (school, university)"),
    "workplace": _l("Workplace"),
    "healthcare": _l("Healthcare"),
    "retail": _l("Retail"),
    "hospitality": _l("Hospitality (restaurant, hotel)"),
    "public_space": _l("Public space"),
}
PURPOSE_LABELS = {
    "unspecified": _l("Not declared yet"),
    "safety": _l("Safety"),
    "medical": _l("Medical or care"),
    "customer_experience": _l("Customer experience"),
    "research_consent": _l("Research with consent"),
}
