from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, SubmitField
from wtforms.validators import DataRequired

FREQUENCY_CHOICES = [("monthly", _l("Monthly")), ("weekly", _l("Weekly")), ("daily", _l("Daily"))]
LANGUAGE_CHOICES = [("fr", "Français"), ("en", "English")]
PERIOD_CHOICES = [
    ("last_month", _l("Last month")),
    ("this_month", _l("This month")),
    ("last_week", _l("Last week")),
    ("this_week", _l("This week")),
    ("last_7_days", _l("Last 7 days")),
    ("yesterday", _l("Yesterday")),
    ("today", _l("Today")),
    ("custom", _l("Custom dates")),
]


class ScheduleForm(FlaskForm):
    scope = SelectField(_l("Scope"), validators=[DataRequired()])
    frequency = SelectField(_l("Frequency"), choices=FREQUENCY_CHOICES, default="monthly")
    language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES, default="fr")
    recipients = SelectMultipleField(_l("Send by e-mail to"), coerce=int)
    submit = SubmitField(_l("Add the schedule"))
