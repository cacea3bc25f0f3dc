from __future__ import annotations

from flask import current_app, flash, redirect, render_template, session, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from app.account import bp
from app.auth.forms import _NEW_PASSWORD, password_message
from app.services import accounts, listings
from app.services.errors import ServiceError

LANGUAGE_NAMES = {"en": "English", "fr": "Français"}  # each in its own language, as language menus show them


class PreferencesForm(FlaskForm):
    locale = SelectField(_l("Language"))
    notify_alerts = BooleanField(_l("Send me an e-mail for each alert of my sites"))
    submit = SubmitField(_l("Save"))


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=200)])
    password = PasswordField(_l("New password"), validators=_NEW_PASSWORD)
    confirm = PasswordField(
        _l("Repeat the password"), validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))]
    )
    submit = SubmitField(_l("Change the password"))


@bp.context_processor
def _mail_state() -> dict:
    """Whether e-mail leaves this server: without it, the alert e-mail option says so."""
    return {"mail_configured": accounts.mail_configured()}


def _forms() -> tuple[PreferencesForm, PasswordForm]:
    user = current_user
    prefs = PreferencesForm(
        prefix="prefs", data={"locale": user.locale or session.get("locale"), "notify_alerts": user.notify_alerts}
    )
    prefs.locale.choices = [(code, LANGUAGE_NAMES.get(code, code)) for code in current_app.config["LANGUAGES"]]
    return prefs, PasswordForm(prefix="pw")


@bp.get("/")
@login_required
def index():
    prefs, password = _forms()
    return render_template("account/index.html", prefs=prefs, password=password, min_password=accounts.MIN_PASSWORD)


@bp.post("/preferences")
@login_required
def preferences():
    prefs, password = _forms()
    if not prefs.validate_on_submit():
        return render_template("account/index.html", prefs=prefs, password=password, min_password=accounts.MIN_PASSWORD), 400
    listings.save_preferences(current_user, notify_alerts=prefs.notify_alerts.data, locale=prefs.locale.data)
    session["locale"] = prefs.locale.data  # this page already answers in the new language
    flash(gettext("Your preferences are saved."), "success")
    return redirect(url_for("account.index"))


@bp.post("/password")
@login_required
def change_password():
    prefs, password = _forms()
    if password.validate_on_submit():
        user = current_user._get_current_object()
        try:
            accounts.change_password(user, password.current.data, password.password.data)
        except ServiceError as exc:
            field = password.current if exc.code == "wrong_password" else password.password
            field.errors.append(
                gettext("The current password is wrong.") if exc.code == "wrong_password" else password_message(exc)
            )
        else:
            login_user(user)  # every other session ended with the old password; this one goes on
            flash(gettext("Your password is changed. Other devices are signed out."), "success")
            return redirect(url_for("account.index"))
    return render_template("account/index.html", prefs=prefs, password=password, min_password=accounts.MIN_PASSWORD), 400
