from email_validator import EmailNotValidError
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from app.services.accounts import MIN_PASSWORD, check_email
from app.services.errors import ServiceError
from app.text_rules import PlainText

# Passwords are taken exactly as typed: no WTForms filter strips them (the services never do either).
_NEW_PASSWORD = [
    DataRequired(),
    Length(min=MIN_PASSWORD, message=_l("The password needs at least %(min)d characters.")),
    Length(max=200, message=_l("The password can have at most %(max)d characters.")),
]


class ReadableEmail:
    """Like WTForms' Email(), but with the API's rule (accounts.check_email: .test and .example are
    accepted, .invalid, .local and .localhost are not) and saying why an address is refused, in the
    reader's language."""

    def __call__(self, form: FlaskForm, field) -> None:
        value = (field.data or "").strip()
        try:
            check_email(value)
        except EmailNotValidError as exc:
            domain = value.rpartition("@")[2]
            if "special-use or reserved" in str(exc):
                raise ValidationError(
                    gettext(
                        "The domain “%(domain)s” is reserved for local networks or invalid addresses (such as "
                        ".local, .localhost, .invalid): no mail can reach it. Use a real e-mail address.",
                        domain=domain,
                    )
                ) from None
            if "@" not in value:
                raise ValidationError(gettext("An e-mail address needs an @, as in name@company.fr.")) from None
            if "period" in str(exc):
                raise ValidationError(
                    gettext("The part after the @ needs a dot, as in name@company.fr (“%(domain)s” has none).", domain=domain)
                ) from None
            raise ValidationError(gettext("This is not a valid e-mail address (for example name@company.fr).")) from None


class SignupForm(FlaskForm):
    organisation = StringField(_l("Organisation"), validators=[DataRequired(), Length(max=120), PlainText()])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), ReadableEmail(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=_NEW_PASSWORD)
    submit = SubmitField(_l("Create my organisation"))


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    submit = SubmitField(_l("Sign in"))


class ForgotForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), ReadableEmail(), Length(max=254)])
    submit = SubmitField(_l("Send me a link"))


class ResetForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=_NEW_PASSWORD)
    confirm = PasswordField(
        _l("Repeat the password"), validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))]
    )
    submit = SubmitField(_l("Save the password"))


def password_message(exc: ServiceError) -> str | None:
    """The page's wording (in the user's language) of a refused password, or None if ``exc`` is about something else."""
    reason = exc.fields.get("password") if exc.code == "weak_password" else None
    if reason == "too_short":
        return gettext("The password needs at least %(min)d characters.", min=MIN_PASSWORD)
    if reason == "too_common":
        return gettext("This password is too common: choose another one.")
    if reason == "personal":
        return gettext("The password must not be your e-mail address or your organisation's name.")
    return gettext("Choose another password.") if exc.code == "weak_password" else None
