from __future__ import annotations

from flask import current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import force_locale, gettext
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from app.auth import bp
from app.auth.forms import ForgotForm, LoginForm, ResetForm, SignupForm, password_message
from app.extensions import limiter, login_manager
from app.i18n import select_locale
from app.infra.ids import parse_id
from app.infra.mail import send_mail
from app.models import User
from app.security import account_key, failed_auth, known_device_for_account, known_device_token, remember_device, safe_next
from app.services import accounts, listings
from app.services.errors import ServiceError


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The user of a session cookie, if the cookie's session version is still the user's (see User.get_id)."""
    raw_uid, _, version = user_id.partition(":")
    uid = parse_id(raw_uid)
    if uid is None or not version.isdecimal() or not version.isascii():
        return None  # also a cookie from before versions existed: sign in again
    user = listings.user_by_id(uid)
    return user if user is not None and user.session_version == int(version) else None


login_manager.login_view = "auth.login"
login_manager.login_message = None


def _limit(key: str):
    return lambda: current_app.config[key]


def _signed_in(user: User, target: str) -> Response:
    """Starts the session and marks this browser as a known device of the account."""
    login_user(user)
    return remember_device(redirect(target), accounts.known_device_token(user))


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(_limit("SIGNUP_LIMIT"), methods=["POST"])
def signup():
    form = SignupForm()
    if form.validate_on_submit():
        try:
            _, user = accounts.signup(
                form.organisation.data,
                form.email.data,
                form.password.data,
                # The language the page was read in: chosen on it (the session's) or the browser's.
                locale=select_locale(),
            )
        except ServiceError as exc:
            if exc.code == "email_taken":
                form.email.errors.append(gettext("An account with this e-mail address already exists."))
            elif exc.code == "weak_password":
                form.password.errors.append(password_message(exc))
            else:
                form.organisation.errors.append(gettext("The organisation needs a name."))
        else:
            flash(gettext("Welcome! Start by adding a site and a camera."), "success")
            return _signed_in(user, url_for("admin.sites_list"))
    status = 400 if request.method == "POST" else 200  # the form again, with what to correct
    return render_template("auth/signup.html", form=form, min_password=accounts.MIN_PASSWORD), status


@bp.route("/login", methods=["GET", "POST"])
# A browser that signed in to the account before is exempt from the per-account throttle (and from
# the lock, in accounts.authenticate): floods of wrong passwords from elsewhere cannot lock its owner out.
@limiter.limit(
    _limit("FAILED_LOGIN_LIMIT"),
    key_func=account_key,
    deduct_when=failed_auth,
    methods=["POST"],
    scope="auth-account",
    exempt_when=known_device_for_account,
)
@limiter.limit(_limit("FAILED_LOGIN_LIMIT"), deduct_when=failed_auth, methods=["POST"], scope="auth-address")
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.email.data, form.password.data, device_token=known_device_token())
        except ServiceError as exc:  # locked account
            form.password.errors.append(
                gettext("This account is locked after too many failed sign-ins. Try again later or ask an admin to unlock it.")
            )
            return render_template("auth/login.html", form=form), exc.status
        if user is not None:
            return _signed_in(user, safe_next(request.args.get("next")) or url_for("live.room"))
        form.password.errors.append(gettext("E-mail or password is wrong."))
        response = make_response(render_template("auth/login.html", form=form), 401)
        return response
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    user = current_user._get_current_object()
    logout_user()
    accounts.sign_out(user)  # every copy of the session cookie dies with the old session version
    flash(gettext("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit(_limit("SIGNUP_LIMIT"), methods=["POST"])
def forgot_password():
    form = ForgotForm()
    if form.validate_on_submit():
        user = listings.user_by_email(accounts.normalise_email(form.email.data))
        if user is not None:
            link = url_for("auth.reset_password", token=accounts.password_reset_token(user), _external=True)
            with force_locale(user.locale or "fr"):
                send_mail(
                    user.email,
                    gettext("Reset your EmotiScan password"),
                    gettext("Choose a new password here (valid for one hour):") + "\n" + link,
                )
        # The same answer whether or not the address exists.
        flash(gettext("If this address has an account, a link is on its way."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    user = accounts.user_from_reset_token(token)
    if user is None:
        flash(gettext("This link is invalid or has expired. Ask for a new one."), "error")
        return redirect(url_for("auth.forgot_password"))
    form = ResetForm()
    if form.validate_on_submit():
        try:
            accounts.reset_password(user, form.password.data)
        except ServiceError as exc:
            form.password.errors.append(password_message(exc) or exc.message)
        else:
            flash(gettext("Your password is saved."), "success")
            return _signed_in(user, url_for("live.room"))
    invited = accounts.is_pending(user)  # an invitation: the page says to what and for whom
    return render_template(
        "auth/reset.html",
        form=form,
        min_password=accounts.MIN_PASSWORD,
        invited=invited,
        email=user.email,
        organisation=user.tenant.name if invited else None,
    )
