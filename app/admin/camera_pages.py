"""Camera pages: adding a tablet or an IP camera, its settings, its capture link and QR sheet."""

from __future__ import annotations

import re

from cryptography.fernet import InvalidToken
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext
from flask_login import current_user

from app.admin import bp
from app.admin.forms import CameraForm, ConfirmForm, StreamCameraForm, new_camera_form, with_site_choices
from app.admin.routes import site_page
from app.infra.state import store
from app.models import Camera, Site
from app.services import cameras, qr_sheet
from app.services.errors import ServiceError
from app.tenancy import check_role, get_for_tenant

# The service's messages are English (the API's); the pages say the same in the page's language.
_FIELD_MESSAGES = {
    ("source_url", "invalid"): lambda: gettext(
        "Check the camera's address: it starts with rtsp://, rtsps://, http:// or https://, then the camera's "
        "name or IP address, without spaces."
    ),
    ("source_url", "credentials_in_url"): lambda: gettext(
        "Give the user name and password either inside the address or in their own fields, not both."
    ),
    ("source_url", "not_allowed"): lambda: gettext(
        "This server may not pull that address: whoever runs EmotiScan lists the cameras' networks in "
        "STREAM_SOURCES_ALLOW. For a camera elsewhere, add a tablet camera and run the edge agent on the "
        "camera's network with its capture link."
    ),
    ("name", "required"): lambda: gettext("The camera needs a name."),
    ("fps", "out_of_range"): lambda: gettext("Frames per second go from 1 to %(n)d.", n=cameras.MAX_FPS),
}


def camera_error(exc: ServiceError) -> tuple[str | None, str]:
    """(the form field it concerns or None, the message in the page's language) for a camera
    service refusal; the service's own words where no translation is known."""
    for field_name, reason in (exc.fields or {}).items():
        message = _FIELD_MESSAGES.get((field_name, reason))
        if message is not None:
            return field_name, message()
        if reason == "quota_exceeded":  # the limits are the caller's own organisation's
            tenant = current_user.tenant
            if field_name == "cameras":
                return None, gettext("Your plan allows %(n)d cameras.", n=tenant.max_cameras)
            return "fps", gettext("Your plan allows %(n)d frames per second over all cameras.", n=tenant.max_total_fps)
    return None, exc.message


def _settings_form(camera: Camera) -> CameraForm:
    form = (StreamCameraForm if camera.kind == "stream" else CameraForm)(obj=camera)
    with_site_choices(form)
    if camera.kind == "stream":
        form.source_url.data = form.source_url.data if form.is_submitted() else ""  # never shown again (it may hold a key)
    return form


def _show_token(camera: Camera, token: str, title: str):
    url = cameras.capture_url(camera, token)
    return render_template(
        "admin/camera_token.html",
        camera=camera,
        capture_url=url,
        qr=cameras.qr_data_uri(url),
        title=title,
        loopback_host=cameras.loopback_host(url),
    )


ONCE_TTL_S = 3600
_ONCE = re.compile(r"[A-Za-z0-9_-]{8,64}")


def _claim_submission(once: str | None) -> tuple[bool, str | None]:
    """Whether this is the first time this form (its ``once`` value) is sent, and its key. A form
    without one (a script) is always new."""
    if not once or not _ONCE.fullmatch(once):
        return True, None
    key = f"form_once:{current_user.tenant_id}:{once}"
    return store().incr(key, ONCE_TTL_S) == 1, key


def _already_created(once_key: str | None, site: Site):
    """The same form sent again: the camera it added, whose link was shown once (kept only as a
    hash since), or the site's page while the first sending is still being handled."""
    created = store().get_json(once_key + ":camera") if once_key else None
    camera = get_for_tenant(Camera, created["id"]) if created else None
    if camera is None:
        return redirect(url_for("admin.site_detail", site_id=site.id))
    flash(
        gettext("This camera was already added. Its capture link is shown only once: renew it below to get a new one."),
        "warning",
    )
    return redirect(url_for("admin.camera_detail", camera_id=camera.id))


def _refused(form: CameraForm, exc: ServiceError) -> None:
    field_name, message = camera_error(exc)
    target = getattr(form, field_name, None) if field_name else None
    if target is not None:
        target.errors = [*target.errors, message]
    else:
        flash(message, "error")


@bp.post("/cameras")
def camera_create():
    check_role("admin")
    form = new_camera_form()
    site = get_for_tenant(Site, form.site_id.data) if isinstance(form.site_id.data, int) else None
    if site is None:
        abort(400)
    stream = form.kind.data == "stream"
    if stream and not (form.source_url.data or "").strip():
        form.validate()
        form.source_url.errors = [*form.source_url.errors, gettext("Give the camera's address.")]
        return site_page(site, camera_form=form, status=400)
    if form.validate_on_submit():
        first, once_key = _claim_submission(form.once.data)
        if not first:
            return _already_created(once_key, site)
        try:
            camera, token = cameras.create_camera(
                site,
                form.name.data,
                form.fps.data or None,
                kind="stream" if stream else "browser",
                source_url=form.source_url.data if stream else None,
                username=(form.username.data or None) if stream else None,
                password=(form.password.data or None) if stream else None,
                actor_id=current_user.id,
            )
        except ServiceError as exc:
            if once_key:
                store().delete([once_key])  # corrected and sent again, the form may still add it
            _refused(form, exc)
            return site_page(site, camera_form=form, status=400)
        if once_key:
            store().set_json(once_key + ":camera", {"id": camera.id}, ONCE_TTL_S)
        if stream:  # pulled by the server: no link to hand over
            flash(gettext("Camera “%(name)s” added: the server connects to it now.", name=camera.name), "success")
            return redirect(url_for("admin.camera_detail", camera_id=camera.id))
        return _show_token(camera, token, gettext("Camera “%(name)s” created", name=camera.name))
    return site_page(site, camera_form=form, status=400)


def _stream_changes(camera: Camera, form: StreamCameraForm) -> dict:
    """What the settings form changes of an IP camera's source: a blank field keeps what is stored;
    a new password alone keeps the stored user name (and the other way round)."""
    changes: dict = {"enabled": form.enabled.data}
    if (form.source_url.data or "").strip():
        changes["source_url"] = form.source_url.data
    if form.forget_credentials.data:
        changes["username"] = changes["password"] = ""
    elif form.username.data and form.password.data:
        changes["username"], changes["password"] = form.username.data, form.password.data
    elif form.username.data or form.password.data:
        try:
            stored_user, stored_password = cameras.credentials_of(camera) or ("", "")
        except (InvalidToken, ValueError):  # their key left DATA_KEYS: only what is typed now counts
            stored_user, stored_password = "", ""
        changes["username"] = form.username.data or stored_user
        changes["password"] = form.password.data or stored_password
    return changes


@bp.route("/cameras/<id:camera_id>", methods=["GET", "POST"])
def camera_detail(camera_id: int):
    camera = get_for_tenant(Camera, camera_id)
    check_role("admin", "manager", "staff")
    form = _settings_form(camera)
    status = 200
    if request.method == "POST":
        check_role("admin")
        if form.validate_on_submit():
            stream = _stream_changes(camera, form) if camera.kind == "stream" else {}
            try:
                cameras.update_camera(
                    camera,
                    form.name.data,
                    form.fps.data,
                    get_for_tenant(Site, form.site_id.data),
                    actor_id=current_user.id,
                    **stream,
                )
            except ServiceError as exc:
                _refused(form, exc)
            else:
                flash(gettext("Saved."), "success")
                return redirect(url_for("admin.camera_detail", camera_id=camera.id))
        status = 400
    return render_template(
        "admin/camera_detail.html",
        camera=camera,
        form=form,
        confirm=ConfirmForm(),
        source=cameras.public_source_url(camera.source_url),
        has_credentials=bool(camera.credentials),
    ), status


@bp.post("/cameras/<id:camera_id>/rotate")
def camera_rotate(camera_id: int):
    camera = get_for_tenant(Camera, camera_id)
    check_role("admin")
    if not ConfirmForm().validate_on_submit():
        abort(400)
    token = cameras.rotate_token(camera, actor_id=current_user.id)  # the old token's captures close at once
    return _show_token(camera, token, gettext("New capture link for “%(name)s”", name=camera.name))


def _qr_sheet_response(camera: Camera, token: str) -> Response:
    language = str(get_locale() or "en")
    body = qr_sheet.sheet_for(camera, cameras.capture_url(camera, token), language)
    return Response(
        body,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="emotiscan-qr-camera-{camera.id}.pdf"',
            "Cache-Control": "no-store",  # the sheet carries the capture link
        },
    )


@bp.route("/cameras/<id:camera_id>/qr-sheet", methods=["GET", "POST"])
def camera_qr_sheet(camera_id: int):
    """The printable QR sheet. The token is kept only as a hash, so the sheet either carries the
    link just shown (its token posted back from the link page) or renews the link, after a confirmation."""
    camera = get_for_tenant(Camera, camera_id)
    user = check_role("admin")
    if camera.kind == "stream":
        abort(404)  # pulled by the server: no capture link to print
    form = ConfirmForm()
    if request.method == "POST" and "token" in request.form:
        if form.validate_on_submit() and qr_sheet.token_is_current(camera, request.form["token"]):
            return _qr_sheet_response(camera, request.form["token"])
        flash(gettext("This link has been renewed since: print a new sheet."), "error")
        return redirect(url_for("admin.camera_qr_sheet", camera_id=camera.id))
    if form.validate_on_submit():
        token = cameras.rotate_token(camera, actor_id=user.id)  # the old link's captures close at once
        return _qr_sheet_response(camera, token)
    form.submit.label.text = gettext("Renew the link and download the sheet")
    return render_template(
        "admin/confirm.html",
        form=form,
        title=gettext("QR sheet of camera %(camera)s", camera=camera.name),
        detail=gettext(
            "The capture link is shown only once, so the sheet comes with a new link: a tablet still using the old one stops "
            "and must scan the new sheet."
        ),
        back=url_for("admin.site_detail", site_id=camera.site_id),
    )


@bp.route("/cameras/<id:camera_id>/delete", methods=["GET", "POST"])
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
