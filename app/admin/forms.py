import secrets

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.admin.number_fields import WholeNumberField
from app.auth.forms import ReadableEmail
from app.labels import ROLE_LABELS
from app.services.accounts import MIN_PASSWORD
from app.text_rules import PlainText

ROLE_CHOICES = list(ROLE_LABELS.items())


class SiteForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120), PlainText()])
    timezone = SelectField(_l("Time zone"), default="Europe/Paris")
    submit = SubmitField(_l("Save"))


class CameraForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120), PlainText()])
    site_id = SelectField(_l("Site"), coerce=int)
    fps = WholeNumberField(_l("Frames per second"), default=5, validators=[NumberRange(min=1, max=15)])
    submit = SubmitField(_l("Save"))


CAMERA_KINDS = [
    ("browser", _l("A tablet or a phone that films, or the edge agent (a capture link)")),
    ("stream", _l("An IP camera that this server pulls (RTSP or HTTP address)")),
]


class NewCameraForm(CameraForm):
    """Adding a camera; the stream fields count only for an IP camera (kind ``stream``)."""

    kind = RadioField(_l("What films"), choices=CAMERA_KINDS, default="browser")
    # One form, one camera: sending the same form again (a reload of the page that shows the new
    # camera's link) does not add a second one.
    once = HiddenField()
    # Empty: the kind's own rate (5 for a tablet, 2 for an IP camera, whose scenes change slowly).
    fps = WholeNumberField(
        _l("Frames per second (empty: 5 for a tablet, 2 for an IP camera)"), validators=[Optional(), NumberRange(min=1, max=15)]
    )
    source_url = StringField(_l("Camera address"), validators=[Optional(), Length(max=2048)])
    username = StringField(
        _l("User name (if the camera asks for one)"), validators=[Optional(), Length(max=200), PlainText(bidi=False)]
    )
    password = PasswordField(_l("Password (if the camera asks for one)"), validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Add the camera"))


class StreamCameraForm(CameraForm):
    """An IP camera's settings: an empty address, user name or password keeps the stored one
    (they are never shown again)."""

    source_url = StringField(_l("New camera address"), validators=[Optional(), Length(max=2048)])
    username = StringField(_l("New user name"), validators=[Optional(), Length(max=200), PlainText(bidi=False)])
    password = PasswordField(_l("New password"), validators=[Optional(), Length(max=200)])
    forget_credentials = BooleanField(_l("Remove the stored user name and password"))
    enabled = BooleanField(_l("Pull this camera (untick to pause it)"))


def with_site_choices(form: CameraForm) -> CameraForm:
    """The camera form's site list: the actor's sites, by name."""
    from app.services import listings

    form.site_id.choices = [(s.id, s.name) for s in listings.sites_by_name()]
    return form


def new_camera_form(default_site: int | None = None) -> NewCameraForm:
    form = with_site_choices(NewCameraForm())
    if not form.is_submitted():
        form.once.data = secrets.token_urlsafe(12)
        if default_site:
            form.site_id.data = default_site
    return form


class UserForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), ReadableEmail(), Length(max=254)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default="staff")
    site_ids = SelectMultipleField(_l("Limited to these sites (none: all sites)"), coerce=int)
    password = PasswordField(
        _l("Password (leave empty to send an invitation)"), validators=[Optional(), Length(min=MIN_PASSWORD, max=200)]
    )
    submit = SubmitField(_l("Save"))


class TokenForm(FlaskForm):
    name = StringField(_l("Name"), validators=[Length(max=80), PlainText()])
    ttl_days = WholeNumberField(_l("Valid for (days)"), default=30, validators=[NumberRange(min=1, max=365)])
    submit = SubmitField(_l("Create a token"))


class ConfirmForm(FlaskForm):
    submit = SubmitField(_l("Yes, delete"))
