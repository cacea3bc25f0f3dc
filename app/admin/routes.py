from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required, login_user

from app.admin import bp
from app.admin.forms import CameraForm, ConfirmForm, SiteForm, TokenForm, UserForm
from app.api.accounts import send_invitation
from app.auth.forms import password_message
from app.infra.pagination import paginate
from app.models import Camera, Site, User
from app.models.base import utcnow
from app.services import accounts, cameras, listings, sites, tokens
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
    check_role("admin", "manager", "staff")
    items, cursor = _page(listings.sites(), Site.id)
    return render_template("admin/sites.html", sites=items, next_cursor=cursor, form=_site_form())


def _site_form(site: Site | None = None) -> SiteForm:
    form = SiteForm(obj=site)
    form.timezone.choices = [(z, z) for z in sites.timezone_names()]
    return form


@bp.post("/sites")
def site_create():
    user = check_role("admin")
    form = _site_form()
    if form.validate_on_submit():
        site = sites.create_site(user.tenant_id, form.name.data, form.timezone.data)
        flash(gettext("Site “%(name)s” created. Add a camera to it.", name=site.name), "success")
        return redirect(url_for("admin.site_detail", site_id=site.id))
    items, cursor = _page(listings.sites(), Site.id)
    return render_template("admin/sites.html", sites=items, next_cursor=cursor, form=form), 400


@bp.route("/sites/<int:site_id>", methods=["GET", "POST"])
def site_detail(site_id: int):
    site = get_for_tenant(Site, site_id)
    check_role("admin", "manager", "staff")
    form = _site_form(site)
    if request.method == "POST":
        check_role("admin")
        if form.validate_on_submit():
            sites.update_site(site, form.name.data, form.timezone.data)
            flash(gettext("Saved."), "success")
            return redirect(url_for("admin.site_detail", site_id=site.id))
    cams = listings.cameras_of(site.id)
    camera_form = _camera_form(default_site=site.id)
    from app.admin.privacy import PurposeForm
    from app.services.privacy import site_refusal

    purpose_form = PurposeForm(data={"setting": site.setting, "purpose": site.purpose})
    declared_by = listings.user_by_id(site.purpose_declared_by) if site.purpose_declared_by else None
    from app.services.camera_status import status_of

    return render_template(
        "admin/site_detail.html",
        site=site,
        form=form,
        cameras=cams,
        camera_form=camera_form,
        status=status_of(cams),
        purpose_form=purpose_form,
        refusal=site_refusal(site),
        declared_by=declared_by,
    )


@bp.route("/sites/<int:site_id>/delete", methods=["GET", "POST"])
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
        detail=gettext("Its %(n)d cameras and their stored observations are deleted too.", n=len(site.cameras)),
        back=url_for("admin.site_detail", site_id=site.id),
    )


# Cameras ---------------------------------------------------------------------------------------


def _camera_form(default_site: int | None = None, camera: Camera | None = None) -> CameraForm:
    form = CameraForm(obj=camera)
    form.site_id.choices = [(s.id, s.name) for s in listings.sites_by_name()]
    if default_site and not form.is_submitted():
        form.site_id.data = default_site
    return form


def _show_token(camera: Camera, token: str, title: str):
    url = cameras.capture_url(camera, token)
    return render_template("admin/camera_token.html", camera=camera, capture_url=url, qr=cameras.qr_data_uri(url), title=title)


@bp.post("/cameras")
def camera_create():
    check_role("admin")
    form = _camera_form()
    if form.validate_on_submit():
        site = get_for_tenant(Site, form.site_id.data)
        try:
            camera, token = cameras.create_camera(site, form.name.data, form.fps.data or 5)
        except ServiceError as exc:
            flash(exc.message, "error")
            return redirect(url_for("admin.site_detail", site_id=site.id))
        return _show_token(camera, token, gettext("Camera “%(name)s” created", name=camera.name))
    flash(gettext("Check the camera's name and frame rate."), "error")
    return redirect(request.referrer or url_for("admin.sites_list"))


@bp.route("/cameras/<int:camera_id>", methods=["GET", "POST"])
def camera_detail(camera_id: int):
    camera = get_for_tenant(Camera, camera_id)
    check_role("admin", "manager", "staff")
    form = _camera_form(camera=camera)
    if request.method == "POST":
        check_role("admin")
        if form.validate_on_submit():
            cameras.update_camera(camera, form.name.data, form.fps.data, get_for_tenant(Site, form.site_id.data))
            flash(gettext("Saved."), "success")
            return redirect(url_for("admin.camera_detail", camera_id=camera.id))
    return render_template("admin/camera_detail.html", camera=camera, form=form, confirm=ConfirmForm())


@bp.post("/cameras/<int:camera_id>/rotate")
def camera_rotate(camera_id: int):
    camera = get_for_tenant(Camera, camera_id)
    check_role("admin")
    if not ConfirmForm().validate_on_submit():
        abort(400)
    token = cameras.rotate_token(camera)  # the old token's captures close at once
    return _show_token(camera, token, gettext("New capture link for “%(name)s”", name=camera.name))


@bp.route("/cameras/<int:camera_id>/delete", methods=["GET", "POST"])
def camera_delete(camera_id: int):
    camera = get_for_tenant(Camera, camera_id)
    check_role("admin")
    form = ConfirmForm()
    if form.validate_on_submit():
        site_id = camera.site_id
        cameras.delete_camera(camera, current_user.id)
        flash(gettext("Camera deleted."), "success")
        return redirect(url_for("admin.site_detail", site_id=site_id))
    return render_template(
        "admin/confirm.html",
        form=form,
        title=gettext("Delete the camera “%(name)s”?", name=camera.name),
        detail=gettext("Its stored observations are deleted too."),
        back=url_for("admin.camera_detail", camera_id=camera.id),
    )


# Users -----------------------------------------------------------------------------------------


def _user_form(user: User | None = None) -> UserForm:
    form = UserForm(obj=user)
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
                    send_invitation(user)
                    flash(gettext("Invitation sent to %(email)s.", email=user.email), "success")
                else:
                    flash(gettext("User %(email)s created.", email=user.email), "success")
                return redirect(url_for("admin.users_list"))
        else:
            status = 400
    items, cursor = _page(listings.users(), User.id)
    return render_template("admin/users.html", now=utcnow(), users=items, next_cursor=cursor, form=form), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
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


@bp.post("/users/<int:user_id>/unlock")
def user_unlock(user_id: int):
    user = get_for_tenant(User, user_id)
    admin = check_role("admin")
    if not ConfirmForm().validate_on_submit():
        abort(400)
    accounts.unlock_user(user, admin)
    flash(gettext("Unlocked: %(email)s can sign in again.", email=user.email), "success")
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.route("/users/<int:user_id>/delete", methods=["GET", "POST"])
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


@bp.post("/tokens/<int:token_id>/revoke")
def token_revoke(token_id: int):
    user = check_role("admin", "manager", "staff")
    record = next((t for t in tokens.tokens_of(user) if t.id == token_id), None)
    if record is None:
        abort(404)
    if ConfirmForm().validate_on_submit():
        tokens.revoke(record)
        flash(gettext("Token revoked."), "success")
    return redirect(url_for("admin.tokens_list"))
