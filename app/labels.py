"""Translated names of the classes, groups and severities, for forms, pages and reports.

The classes and groups themselves are defined once in ``app.inference.labels``; the dictionaries here
only translate them (tests/inference/test_face_outputs.py checks that their keys are exactly those).
"""

from flask_babel import lazy_gettext as _l

from app.inference.labels import EMOTION_COLOURS, EMOTION_GROUPS, EMOTIONS

# The msgids below are those the translations already hold: keep them.

EMOTION_LABELS = {
    "distress": _l("Distress (fear + sadness)"),
    "frustration": _l("Frustration (anger + disgust)"),
    "joy": _l("Joy (happiness)"),  # a group of the one class "happy": its own words, not "Joy" twice in French
    "angry": _l("Anger"),
    "disgust": _l("Disgust"),
    "fear": _l("Fear"),
    "happy": _l("Happiness"),
    "sad": _l("Sadness"),
    "surprise": _l("Surprise"),
    "neutral": _l("Neutral"),
    "camera_offline": _l("Camera offline"),
}
#: The short, lower-case words of the live pages' tiles and alert banners.
EMOTION_WORDS = {
    "angry": _l("angry"),
    "disgust": _l("disgust"),
    "fear": _l("fear"),
    "happy": _l("happy"),
    "sad": _l("sad"),
    "surprise": _l("surprise"),
    "neutral": _l("neutral"),
    "distress": _l("distress"),
    "frustration": _l("frustration"),
    "joy": _l("joy"),
}
SEVERITY_LABELS = {"info": _l("Information"), "warning": _l("Warning"), "critical": _l("Critical")}
CAVEAT = _l("Scores describe facial expressions, not inner feelings. They are not to be used alone for decisions about a person.")
ROLE_LABELS = {"staff": _l("Staff"), "manager": _l("Manager"), "admin": _l("Admin")}
#: Whether a site's declared setting and purpose let the analysis run (app.services.privacy).
ANALYSIS_LABELS = {"allowed": _l("allowed"), "purpose_not_allowed": _l("refused: this purpose is not allowed in this setting")}
STREAM_STATE_LABELS = {
    "connecting": _l("connecting"),
    "live": _l("live"),
    "unreachable": _l("unreachable"),
    "disabled": _l("disabled"),
}
#: Why the gateway could not pull a stream, by the code that starts its stored error (``code: detail``).
STREAM_ERROR_REASONS = {
    "unreachable": _l("the camera cannot be reached"),
    "auth_failed": _l("the camera refused the user name or password"),
    "not_video": _l("the address gives no video that the server can read"),
    "source_not_allowed": _l("the server may not pull this address"),
    "ended": _l("the video ended"),
    "credentials_unreadable": _l("the stored user name and password can no longer be read: enter them again"),
}


def stream_error_text(error: str | None) -> str:
    """A stored stream error for people: its reason in the page's language, then the technical
    detail as the gateway wrote it (``unreachable: cannot connect to ...``)."""
    if not error:
        return ""
    code, _, detail = error.partition(": ")
    reason = STREAM_ERROR_REASONS.get(code)
    if reason is None:
        return error
    return f"{reason} ({detail})" if detail else str(reason)


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


def face_outputs() -> dict:
    """The definition as pages' JavaScript reads it (``<script type="application/json" id="face-outputs">``),
    translated into the request's language."""
    return {
        "classes": list(EMOTIONS),
        "groups": {g: list(members) for g, members in EMOTION_GROUPS.items()},
        "colours": dict(EMOTION_COLOURS),
        "labels": {k: str(EMOTION_LABELS[k]) for k in (*EMOTIONS, *EMOTION_GROUPS)},
        "words": {k: str(w) for k, w in EMOTION_WORDS.items()},
    }


assert tuple(EMOTION_WORDS) == (*EMOTIONS, *EMOTION_GROUPS), "a word per class and group, in definition order"
assert set(EMOTION_WORDS) <= set(EMOTION_LABELS), "a label per class and group"
