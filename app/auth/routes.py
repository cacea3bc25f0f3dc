from __future__ import annotations

from flask import current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import force_locale, gettext
from flask_login import login_required, login_user, logout_user
from sqlalchemy import select

from app.auth import bp
from app.auth.forms import ForgotForm, LoginForm, ResetForm, SignupForm
from app.extensions import db, limiter, login_manager
from app.models import User
from app.security import account_key, failed_auth
from app.services import accounts
from app.services.errors import ServiceError
from app.services.mail import send_mail


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


login_manager.login_view = "auth.login"
login_manager.login_message = None


def _limit(key: str):
    return lambda: current_app.config[key]


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(_limit("SIGNUP_LIMIT"), methods=["POST"])
def signup():
    form = SignupForm()
    if form.validate_on_submit():
        try:
            _, user = accounts.signup(form.organisation.data, form.email.data, form.password.data,
                                      locale=request.accept_languages.best_match(current_app.config["LANGUAGES"]))
        except ServiceError as exc:
            if exc.code == "email_taken":
                form.email.errors.append(gettext("An account with this e-mail address already exists."))
            else:
                form.password.errors.append(gettext("The password needs at least 8 characters."))
        else:
            login_user(user)
            flash(gettext("Welcome! Start by adding a site and a camera."), "success")
            return redirect(url_for("admin.sites_list"))
    return render_template("auth/signup.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_limit("FAILED_LOGIN_LIMIT"), key_func=account_key, deduct_when=failed_auth, methods=["POST"],
               scope="auth-account")
@limiter.limit(_limit("FAILED_LOGIN_LIMIT"), deduct_when=failed_auth, methods=["POST"], scope="auth-address")
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.email.data, form.password.data)
        except ServiceError as exc:  # locked account
            form.password.errors.append(gettext("This account is locked after too many failed sign-ins. Try again later "
                                                "or ask an admin to unlock it."))
            return render_template("auth/login.html", form=form), exc.status
        if user is not None:
            login_user(user)
            target = request.args.get("next", "")
            return redirect(target if target.startswith("/") and not target.startswith("//") else url_for("live.room"))
        form.password.errors.append(gettext("E-mail or password is wrong."))
        response = make_response(render_template("auth/login.html", form=form), 401)
        return response
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    flash(gettext("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit(_limit("SIGNUP_LIMIT"), methods=["POST"])
def forgot_password():
    form = ForgotForm()
    if form.validate_on_submit():
        user = db.session.scalar(select(User).where(User.email == accounts.normalise_email(form.email.data)))
        if user is not None:
            link = url_for("auth.reset_password", token=accounts.password_reset_token(user), _external=True)
            with force_locale(user.locale or "fr"):
                send_mail(user.email, gettext("Reset your EmotiScan password"),
                          gettext("Choose a new password here (valid for one hour):") + "\n" + link)
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
        accounts.update_user(user, password=form.password.data)
        login_user(user)
        flash(gettext("Your password is saved."), "success")
        return redirect(url_for("live.room"))
    return render_template("auth/reset.html", form=form)
