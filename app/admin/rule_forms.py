from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DecimalField, IntegerField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from app.labels import EMOTION_LABELS, SEVERITY_LABELS

EMOTION_CHOICES = [(key, label) for key, label in EMOTION_LABELS.items() if key != "camera_offline"]
SEVERITY_CHOICES = list(SEVERITY_LABELS.items())
# Each kind (app/rules/kinds) by a short name; KIND_HELP says what it watches.
KIND_CHOICES = [
    ("share", _l("Most frames")),
    ("person", _l("One person")),
    ("rise", _l("Sudden rise")),
    ("baseline", _l("Unusual for the hour")),
]
KIND_HELP = {
    "share": _l("Fires when enough frames of the window have a face above the score, whoever it is: people taking turns add up."),
    "person": _l(
        "Fires when one face, followed by its position only (an anonymous track that expires), stays above the score "
        "for the duration. The alert names the camera and the track number, never who it is."
    ),
    "rise": _l("Fires when the camera's mean score rises by at least the score given above from one window to the next."),
    "baseline": _l(
        "Fires when the camera's mean exceeds its usual level for this weekday and hour by the score given above. "
        "Silent until enough past weeks are recorded."
    ),
}
# What the score means for each kind: a level for most, a change for rise and baseline.
THRESHOLD_LABELS = {
    "share": _l("Above this score (0 to 1)"),
    "person": _l("Above this score (0 to 1)"),
    "rise": _l("Rise of at least (0 to 1)"),
    "baseline": _l("Above the usual level by at least (0 to 1)"),
}
# The fields of the form that only some kinds use (the form shows them for those kinds).
KIND_ONLY_FIELDS = {"min_share": ("share", "person"), "min_faces": ("share",), "min_weeks": ("baseline",)}
HHMM = Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", message=_l("Use HH:MM, for example 08:30."))

# Plain-language starting points; each fills the form, the admin adjusts.
PRESETS = {
    "distress": {
        "name": _l("Distress at the entrance"),
        "emotion": "distress",
        "threshold": 0.6,
        "duration_s": 20,
        "severity": "warning",
    },
    "frustration": {
        "name": _l("Frustration at the checkout"),
        "emotion": "frustration",
        "threshold": 0.5,
        "duration_s": 30,
        "severity": "warning",
    },
    "joy": {"name": _l("Lasting joy"), "emotion": "joy", "threshold": 0.7, "duration_s": 60, "severity": "info"},
}


class RuleForm(FlaskForm):
    name = StringField(_l("Name"), validators=[Optional(), Length(max=120)])
    target = SelectField(_l("Where"), validators=[DataRequired()])
    emotion = SelectField(_l("Expression"), choices=EMOTION_CHOICES, default="distress")
    kind = SelectField(_l("Kind of rule"), choices=KIND_CHOICES, default="share")
    threshold = DecimalField(_l("Above this score (0 to 1)"), default=0.6, places=2, validators=[NumberRange(min=0, max=1)])
    duration_s = IntegerField(_l("For at least (seconds)"), default=20, validators=[NumberRange(min=1, max=3600)])
    min_share = DecimalField(
        _l("Share of frames that must agree (0 to 1)"), default=0.6, places=2, validators=[NumberRange(min=0.05, max=1)]
    )
    min_faces = IntegerField(_l("Minimum number of faces"), default=1, validators=[NumberRange(min=1, max=50)])
    min_weeks = IntegerField(
        _l("Past weeks of history needed before it fires"), default=3, validators=[Optional(), NumberRange(min=1, max=52)]
    )
    cooldown_s = IntegerField(_l("Quiet time after an alert (seconds)"), default=300, validators=[NumberRange(min=0, max=86400)])
    active_from = StringField(_l("Active from (HH:MM, site time; empty: always)"), validators=[Optional(), HHMM])
    active_to = StringField(_l("Active until (HH:MM)"), validators=[Optional(), HHMM])
    severity = SelectField(_l("Severity"), choices=SEVERITY_CHOICES, default="warning")
    escalate_after_s = IntegerField(
        _l("Tell admins and managers when not acknowledged within (seconds; empty: never)"),
        validators=[Optional(), NumberRange(min=30, max=86400)],
    )
    enabled = BooleanField(_l("Enabled"), default=True)
    simulate = SubmitField(_l("Try it on the last 4 hours"))
    submit = SubmitField(_l("Save the rule"))


# Labels of values shown through gettext in templates (statuses, severities).
VALUE_LABELS = (_l("open"), _l("acknowledged"), _l("resolved"), _l("info"), _l("warning"), _l("critical"), _l("camera_offline"))
