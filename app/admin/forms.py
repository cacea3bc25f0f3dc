from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, IntegerField, PasswordField, SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.auth.forms import ReadableEmail
from app.services.accounts import MIN_PASSWORD

ROLE_CHOICES = [("staff", _l("Staff")), ("manager", _l("Manager")), ("admin", _l("Admin"))]


class SiteForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    timezone = SelectField(_l("Time zone"), default="Europe/Paris")
    submit = SubmitField(_l("Save"))


class CameraForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    site_id = SelectField(_l("Site"), coerce=int)
    fps = IntegerField(_l("Frames per second"), default=5, validators=[NumberRange(min=1, max=15)])
    submit = SubmitField(_l("Save"))


class UserForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), ReadableEmail(), Length(max=254)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default="staff")
    site_ids = SelectMultipleField(_l("Limited to these sites (none: all sites)"), coerce=int)
    password = PasswordField(
        _l("Password (leave empty to send an invitation)"), validators=[Optional(), Length(min=MIN_PASSWORD, max=200)]
    )
    submit = SubmitField(_l("Save"))


class TokenForm(FlaskForm):
    name = StringField(_l("Name"), validators=[Length(max=80)])
    ttl_days = IntegerField(_l("Valid for (days)"), default=30, validators=[NumberRange(min=1, max=365)])
    submit = SubmitField(_l("Create a token"))


class ConfirmForm(FlaskForm):
    submit = SubmitField(_l("Yes, delete"))
