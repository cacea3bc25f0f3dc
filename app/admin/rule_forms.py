from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from app.admin.number_fields import LocalDecimalField, WholeNumberField
from app.inference.labels import EMOTION_GROUPS
from app.labels import EMOTION_LABELS, SEVERITY_LABELS
from app.rules.kinds import KINDS, Kind, Param
from app.text_rules import PlainText

# A class that is a group by itself ("joy" is "happy" alone) is offered once, as the group; a rule
# stored with the class (through the API) keeps it in its own form.
_SAME_AS_A_GROUP = {members[0] for members in EMOTION_GROUPS.values() if len(members) == 1}
EMOTION_CHOICES = [(k, label) for k, label in EMOTION_LABELS.items() if k != "camera_offline" and k not in _SAME_AS_A_GROUP]
SEVERITY_CHOICES = list(SEVERITY_LABELS.items())


# What the form shows of each kind comes from the kind itself (app/rules/kinds): its short name, its
# help, what the score means for it, the optional common fields it reads and its own parameters. These
# are read from the registry when called, so a kind registered later is shown too.
COMMON_KIND_FIELDS = ("min_share", "min_faces")  # fields of every rule that only some kinds read


def _kinds() -> list[tuple[str, Kind]]:
    return sorted(KINDS.items(), key=lambda item: item[1].position)


def kind_choices() -> list[tuple[str, object]]:
    """Each kind by its short name (the "Kind of rule" select)."""
    return [(name, kind.label or name) for name, kind in _kinds()]


def kind_help() -> dict[str, object]:
    """What each kind watches."""
    return {name: kind.help for name, kind in _kinds()}


def threshold_labels() -> dict[str, object]:
    """What the score means for each kind: a level for most, a change for rise and baseline."""
    return {name: kind.threshold_label for name, kind in _kinds()}


def kind_only_fields() -> dict[str, tuple[str, ...]]:
    """The fields of the form that only some kinds use -> those kinds (the form shows them for those kinds)."""
    fields: dict[str, tuple[str, ...]] = {}
    for common in COMMON_KIND_FIELDS:
        fields[common] = tuple(name for name, kind in _kinds() if common in kind.uses)
    for name, kind in _kinds():
        for param in kind.params:
            fields[param.name] = (*fields.get(param.name, ()), name)
    return fields


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
    name = StringField(_l("Name"), validators=[Optional(), Length(max=120), PlainText()])
    target = SelectField(_l("Where"), validators=[DataRequired()])
    emotion = SelectField(_l("Expression"), choices=EMOTION_CHOICES, default="distress")
    kind = SelectField(_l("Kind of rule"), choices=[], default="share")
    threshold = LocalDecimalField(_l("Above this score (0 to 1)"), default=0.6, places=2, validators=[NumberRange(min=0, max=1)])
    duration_s = WholeNumberField(_l("For at least (seconds)"), default=20, validators=[NumberRange(min=1, max=3600)])
    min_share = LocalDecimalField(
        _l("Share of frames that must agree (0 to 1)"), default=0.6, places=2, validators=[NumberRange(min=0.05, max=1)]
    )
    min_faces = WholeNumberField(_l("Minimum number of faces"), default=1, validators=[NumberRange(min=1, max=50)])
    cooldown_s = WholeNumberField(
        _l("Quiet time after an alert (seconds)"), default=300, validators=[NumberRange(min=0, max=86400)]
    )
    active_from = StringField(_l("Active from (HH:MM, site time; empty: always)"), validators=[Optional(), HHMM])
    active_to = StringField(_l("Active until (HH:MM)"), validators=[Optional(), HHMM])
    severity = SelectField(_l("Severity"), choices=SEVERITY_CHOICES, default="warning")
    escalate_after_s = WholeNumberField(
        _l("Tell admins and managers when not acknowledged within (seconds; empty: never)"),
        validators=[Optional(), NumberRange(min=30, max=86400)],
    )
    enabled = BooleanField(_l("Enabled"), default=True)
    simulate = SubmitField(_l("Try it on the last 4 hours"))
    submit = SubmitField(_l("Save the rule"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = kind_choices()
        if self.emotion.data in _SAME_AS_A_GROUP:
            self.emotion.choices = [*EMOTION_CHOICES, (self.emotion.data, EMOTION_LABELS[self.emotion.data])]


def _param_field(param: Param):  # noqa: ANN202 - an unbound wtforms field
    bounds = [Optional(), NumberRange(min=param.minimum, max=param.maximum)]
    if param.integer:
        return WholeNumberField(param.label or param.name, default=param.default, validators=bounds)
    return LocalDecimalField(param.label or param.name, default=param.default, places=2, validators=bounds)


_form_classes: dict[tuple, type[RuleForm]] = {}


def rule_form_class() -> type[RuleForm]:
    """RuleForm with one field per kind parameter of the registry (baseline's min_weeks...), built
    once per set of parameters."""
    params = {p.name: p for kind in KINDS.values() for p in kind.params}
    key = tuple(params.values())
    if key not in _form_classes:
        _form_classes[key] = type("KindRuleForm", (RuleForm,), {name: _param_field(p) for name, p in params.items()})
    return _form_classes[key]


# Labels of values shown through gettext in templates (statuses, severities).
VALUE_LABELS = (_l("open"), _l("acknowledged"), _l("resolved"), _l("info"), _l("warning"), _l("critical"), _l("camera_offline"))
