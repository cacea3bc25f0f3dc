from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, get_locale, gettext, ngettext
from flask_login import current_user, login_required, login_user

from app.admin import bp
from app.admin.forms import ConfirmForm, NewCameraForm, SiteForm, TokenForm, UserForm, new_camera_form
from app.auth.forms import password_message
from app.infra.mail import send_mail
from app.infra.pagination import paginate
from app.models import Site, User
from app.models.base import utcnow
from app.services import accounts, cameras, listings, onboarding, sites, tokens
from app.services.errors import ServiceError
from app.tenancy import check_role, get_for_tenant


@bp.before_request
@login_required
def _signed_in():
    return None


def _page(stmt, id_column):
    return paginate(stmt, id_column, request.args.get("cursor"), 50)


# Sites -----------------------------------------------------------------------------------------


@bp.get("/sites")
def sites_list():
    user = check_role("admin", "manager", "staff")
    items, cursor = _page(listings.sites(), Site.id)
    # The page a new organisation lands on after sign-up: admins see the onboarding checklist here.
    steps = onboarding.checklist(user.tenant_id) if user.role == "admin" else None
    return render_template("admin/sites.html", sites=items, next_cursor=cursor, form=_site_form(), onboarding=steps)


@bp.post("/onboarding/dismiss")
def onboarding_dismiss():
    user = check_role("admin")
    onboarding.dismiss(user.tenant_id)
    return redirect(url_for("admin.sites_list"))


def _site_form(site: Site | None = None, blank: bool = False) -> SiteForm:
    form = SiteForm(obj=site, **({"formdata": None} if blank else {}))
    form.timezone.choices = sites.timezone_choices(site.timezone if site is not None else None)
    return form


@bp.post("/sites")
def site_create():
    user = check_role("admin")
    form = _site_form()
    if form.validate_on_submit():
        site = sites.create_site(user.tenant_id, form.name.data, form.timezone.data, actor_id=user.id)
        flash(gettext("Site “%(name)s” created. Add a camera to it.", name=site.name), "success")
        return redirect(url_for("admin.site_detail", site_id=site.id))
    items, cursor = _page(listings.sites(), Site.id)
    steps = onboarding.checklist(user.tenant_id)  # the same page as before, its checklist included
    return render_template("admin/sites.html", sites=items, next_cursor=cursor, form=form, onboarding=steps), 400


@bp.route("/sites/<id:site_id>", methods=["GET", "POST"])
def site_detail(site_id: int):
    site = get_for_tenant(Site, site_id)
    check_role("admin", "manager", "staff")
    form = _site_form(site)
    if request.method == "POST":
        check_role("admin")
        if form.validate_on_submit():
            sites.update_site(site, form.name.data, form.timezone.data, actor_id=current_user.id)
            flash(gettext("Saved."), "success")
            return redirect(url_for("admin.site_detail", site_id=site.id))
    return site_page(site, form)


def site_page(site: Site, form: SiteForm | None = None, camera_form: NewCameraForm | None = None, status: int = 200):
    """The site's page: its cameras, purpose, and the forms to add a camera and change the site."""
    from app.admin.privacy import PurposeForm
    from app.services.camera_status import status_of
    from app.services.privacy import site_refusal

    cams = listings.cameras_of(site.id)
    try:
        stream_allowed = bool(cameras.stream_networks())
    except ValueError:  # a mistyped STREAM_SOURCES_ALLOW: no IP camera offered, the rest of the page works
        current_app.logger.error("STREAM_SOURCES_ALLOW is not a list of networks; IP cameras are not offered")
        stream_allowed = False
    declared_by = listings.user_by_id(site.purpose_declared_by) if site.purpose_declared_by else None
    page = render_template(
        "admin/site_detail.html",
        site=site,
        form=form or _site_form(site, blank=True),  # not filled from another form's POST (a refused camera)
        cameras=cams,
        camera_form=camera_form or new_camera_form(default_site=site.id),
        stream_allowed=stream_allowed,
        status=status_of(cams),
        purpose_form=PurposeForm(data={"setting": site.setting, "purpose": site.purpose}),
        refusal=site_refusal(site),
        declared_by=declared_by,
    )
    return page, status


@bp.route("/sites/<id:site_id>/delete", methods=["GET", "POST"])
def site_delete(site_id: int):
    site = get_for_tenant(Site, site_id)
    check_role("admin")
    form = ConfirmForm()
    if form.validate_on_submit():
        sites.delete_site(site, current_user.id)  # its captures close (the service revokes them)
        flash(gettext("Site deleted."), "success")
        return redirect(url_for("admin.sites_list"))
    return render_template(
        "admin/confirm.html",
        form=form,
        title=gettext("Delete the site “%(name)s”?", name=site.name),
        detail=(
            ngettext(
                "Its camera and its stored observations are deleted too.",
                "Its %(num)d cameras and their stored observations are deleted too.",
                len(site.cameras),
            )
            if site.cameras
            else gettext("It has no camera; its stored observations, if any, are deleted too.")
        ),
        back=url_for("admin.site_detail", site_id=site.id),
    )


# Users -----------------------------------------------------------------------------------------


def _user_form(user: User | None = None, blank: bool = False) -> UserForm:
    form = UserForm(obj=user, **({"formdata": None} if blank else {}))
    form.site_ids.choices = [(s.id, s.name) for s in listings.sites_by_name()]
    if user is not None and not form.is_submitted():
        form.site_ids.data = [s.id for s in user.sites]
    return form


@bp.route("/users", methods=["GET", "POST"])
def users_list():
    admin = check_role("admin")
    form = _user_form()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                user = accounts.create_user(
                    admin.tenant_id,
                    form.email.data,
                    form.role.data,
                    form.password.data or None,
                    form.site_ids.data or [],
                    actor_id=admin.id,
                )
            except ServiceError as exc:
                if exc.code == "weak_password":
                    form.password.errors.append(password_message(exc))
                else:
                    form.email.errors.append(
                        exc.message
                        if exc.code != "email_taken"
                        else gettext("An account with this e-mail address already exists.")
                    )
                status = 400
            else:
                if not form.password.data:
                    shown = _invite(user)
                    if shown is not None:  # no mail server: the admin hands the link over
                        return _users_page(_user_form(blank=True), invitation=shown)  # ready for the next person
                else:
                    flash(gettext("User %(email)s created.", email=user.email), "success")
                return redirect(url_for("admin.users_list"))
        else:
            status = 400
    return _users_page(form, status)


def _users_page(form: UserForm, status: int = 200, invitation: dict | None = None):
    form.submit.label.text = gettext("Add this person")
    items, cursor = _page(listings.users(), User.id)
    return render_template(
        "admin/users.html",
        now=utcnow(),
        users=items,
        next_cursor=cursor,
        form=form,
        invitation=invitation,
        confirm=ConfirmForm(),
        mail_configured=accounts.mail_configured(),
    ), status


def _invite(user: User) -> dict | None:
    """Mails the invitation (in the invitee's language if known, else the inviter's); without a mail
    server, nothing says "sent": the link comes back for the admin to copy."""
    # The public address, as for capture links: the invitee opens it on another device.
    link = current_app.config["PUBLIC_URL"] + url_for("auth.reset_password", token=accounts.password_reset_token(user))
    with force_locale(accounts.invitation_locale(user, str(get_locale() or ""))):
        sent = send_mail(
            user.email,
            gettext("You are invited to EmotiScan"),
            gettext("%(org)s invites you to EmotiScan. Choose your password here (valid for one hour):", org=user.tenant.name)
            + "\n"
            + link,
        )
    if sent:
        flash(gettext("Invitation sent to %(email)s.", email=user.email), "success")
        return None
    return {"email": user.email, "link": link, "mail_configured": accounts.mail_configured()}


@bp.post("/users/<id:user_id>/invitation")
def user_invitation_resend(user_id: int):
    user = get_for_tenant(User, user_id)
    admin = check_role("admin")
    if not ConfirmForm().validate_on_submit() or not accounts.is_pending(user):
        abort(400)
    accounts.note_invitation_resent(user, admin)
    shown = _invite(user)
    return _users_page(_user_form(blank=True), invitation=shown) if shown else redirect(url_for("admin.users_list"))


@bp.route("/users/<id:user_id>/invitation/revoke", methods=["GET", "POST"])
def user_invitation_revoke(user_id: int):
    user = get_for_tenant(User, user_id)
    admin = check_role("admin")
    if not accounts.is_pending(user):
        abort(409)
    form = ConfirmForm()
    if form.validate_on_submit():
        accounts.revoke_invitation(user, admin)
        flash(gettext("The invitation of %(email)s is withdrawn.", email=user.email), "success")
        return redirect(url_for("admin.users_list"))
    form.submit.label.text = gettext("Yes, withdraw it")
    return render_template(
        "admin/confirm.html",
        form=form,
        title=gettext("Withdraw the invitation of %(email)s?", email=user.email),
        detail=gettext("The links already sent stop working."),
        back=url_for("admin.users_list"),
    )


@bp.route("/users/<id:user_id>", methods=["GET", "POST"])
def user_detail(user_id: int):
    user = get_for_tenant(User, user_id)
    check_role("admin")
    form = _user_form(user)
    if form.validate_on_submit():
        try:
            accounts.update_user(
                user,
                role=form.role.data,
                email=form.email.data,
                site_ids=form.site_ids.data or [],
                password=form.password.data or None,
                actor_id=current_user.id,
            )
        except ServiceError as exc:
            flash(password_message(exc) or exc.message, "error")
        else:
            if form.password.data and user.id == current_user.id:
                login_user(user)  # a new password ends the admin's own sessions too: keep this one, at the new version
            flash(gettext("Saved."), "success")
            return redirect(url_for("admin.users_list"))
    locked = user.is_locked()
    return render_template("admin/user_detail.html", user=user, form=form, locked=locked, unlock_form=ConfirmForm())


@bp.post("/users/<id:user_id>/unlock")
def user_unlock(user_id: int):
    user = get_for_tenant(User, user_id)
    admin = check_role("admin")
    if not ConfirmForm().validate_on_submit():
        abort(400)
    accounts.unlock_user(user, admin)
    flash(gettext("Unlocked: %(email)s can sign in again.", email=user.email), "success")
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.route("/users/<id:user_id>/delete", methods=["GET", "POST"])
def user_delete(user_id: int):
    user = get_for_tenant(User, user_id)
    check_role("admin")
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            accounts.delete_user(user, current_user)
        except ServiceError as exc:
            flash(exc.message, "error")
        else:
            flash(gettext("User removed."), "success")
        return redirect(url_for("admin.users_list"))
    return render_template(
        "admin/confirm.html",
        form=form,
        title=gettext("Remove %(email)s?", email=user.email),
        detail=gettext("This person can no longer sign in."),
        back=url_for("admin.users_list"),
    )


# API tokens ------------------------------------------------------------------------------------


@bp.route("/tokens", methods=["GET", "POST"])
def tokens_list():
    user = check_role("admin", "manager", "staff")
    form = TokenForm()
    new_token = None
    if form.validate_on_submit():
        new_token, _ = tokens.issue_token(user, form.name.data or "", form.ttl_days.data)
        flash(gettext("Copy the token now: it is shown only once."), "info")
    return render_template(
        "admin/tokens.html", tokens=tokens.tokens_of(user), form=form, new_token=new_token, confirm=ConfirmForm()
    )


@bp.post("/tokens/<id:token_id>/revoke")
def token_revoke(token_id: int):
    user = check_role("admin", "manager", "staff")
    record = next((t for t in tokens.tokens_of(user) if t.id == token_id), None)
    if record is None:
        abort(404)
    if ConfirmForm().validate_on_submit():
        tokens.revoke(record)
        flash(gettext("Token revoked."), "success")
    return redirect(url_for("admin.tokens_list"))
