"""Privacy pages: a site's declared setting and purpose, its printable notice, the tenant's
retention, export of all its data, and erasure of the organisation."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.admin import bp
from app.admin.number_fields import WholeNumberField
from app.labels import PURPOSE_LABELS, SETTING_LABELS
from app.models import Site
from app.services import privacy, sites
from app.services.errors import ServiceError
from app.services.notice_pdf import render_notice
from app.tenancy import check_role, get_for_tenant
from app.text_rules import PlainText


class PurposeForm(FlaskForm):
    # A placeholder first: nothing is pre-chosen for an undeclared site, the admin must pick both.
    setting = SelectField(
        _l("Setting"),
        choices=[("", _l("Choose…"))] + [(k, v) for k, v in SETTING_LABELS.items() if k != "unspecified"],
        validators=[DataRequired()],
        render_kw={"required": True},
    )
    purpose = SelectField(
        _l("Purpose of the analysis"),
        choices=[("", _l("Choose…"))] + [(k, v) for k, v in PURPOSE_LABELS.items() if k != "unspecified"],
        validators=[DataRequired()],
        render_kw={"required": True},
    )
    submit = SubmitField(_l("Declare"))


class PrivacyForm(FlaskForm):
    retention_days = WholeNumberField(_l("Keep observations and alerts for (days)"), validators=[NumberRange(min=1, max=3650)])
    audit_retention_days = WholeNumberField(_l("Keep the audit trail for (days)"), validators=[NumberRange(min=30, max=3650)])
    privacy_contact = StringField(
        _l("Privacy contact shown on notices (e-mail, phone or desk)"), validators=[Optional(), Length(max=200), PlainText()]
    )
    outside_eu = BooleanField(_l("Our organisation operates outside the European Union"))
    # Sign-ins, the audit trail and webhook deliveries belong to no site: they are shown in this zone.
    timezone = SelectField(_l("Organisation time zone"), default="UTC")
    submit = SubmitField(_l("Save"))


class EraseForm(FlaskForm):
    confirmation = StringField(_l("Type the organisation's name to confirm"), validators=[DataRequired(), Length(max=200)])
    submit = SubmitField(_l("Delete the organisation and all its data"))


@bp.post("/sites/<id:site_id>/purpose")
def site_purpose(site_id: int):
    site = get_for_tenant(Site, site_id)
    admin = check_role("admin")
    form = PurposeForm()
    if not form.validate_on_submit():
        flash(gettext("Choose the site's setting and the purpose of the analysis."), "error")
        return redirect(url_for("admin.site_detail", site_id=site.id))
    try:
        privacy.declare_purpose(site, form.setting.data, form.purpose.data, admin.id)
    except ServiceError as exc:
        flash(exc.message, "error")
    else:
        if privacy.site_refusal(site):
            flash(
                gettext(
                    "Declared. Analysis is now refused at this site: emotion recognition in education and workplaces "
                    "is only allowed for safety or medical reasons."
                ),
                "error",
            )
        else:
            flash(gettext("Declared. Print the notice below and put it up at the entrance."), "success")
    return redirect(url_for("admin.site_detail", site_id=site.id))


@bp.get("/sites/<id:site_id>/notice.pdf")
def site_notice(site_id: int):
    site = get_for_tenant(Site, site_id)
    check_role("admin", "manager")
    language = request.args.get("lang", "fr")
    if language not in ("fr", "en"):
        abort(404)
    body = render_notice(site, privacy.site_tenant(site), language)
    return Response(
        body,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="emotiscan-notice-{site.id}-{language}.pdf"'},
    )


@bp.route("/privacy", methods=["GET", "POST"])
def privacy_settings():
    admin = check_role("admin")
    tenant = admin.tenant
    form = PrivacyForm(obj=tenant)
    form.timezone.choices = sites.timezone_choices(tenant.timezone, with_utc=True)
    if form.validate_on_submit():
        privacy.update_settings(
            tenant,
            admin.id,
            form.retention_days.data,
            form.audit_retention_days.data,
            form.privacy_contact.data or "",
            form.outside_eu.data,
            form.timezone.data,
        )
        flash(gettext("Saved."), "success")
        return redirect(url_for("admin.privacy_settings"))
    return render_template(
        "admin/privacy.html", form=form, tenant=tenant, preview=privacy.retention_preview(tenant), export_form=FlaskForm()
    ), 400 if form.errors else 200


@bp.post("/privacy/export")
def privacy_export():
    admin = check_role("admin")
    if not FlaskForm().validate_on_submit():
        abort(400)
    body = privacy.export_tenant(admin.tenant, admin.id)
    return Response(
        body,
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="emotiscan-export-{admin.tenant_id}.zip"'},
    )


@bp.route("/privacy/erase", methods=["GET", "POST"])
def privacy_erase():
    admin = check_role("admin")
    form = EraseForm()
    if form.validate_on_submit():
        try:
            privacy.erase_tenant(admin.tenant, admin.id, form.confirmation.data)
        except ServiceError as exc:
            form.confirmation.errors.append(gettext("The name does not match; nothing was deleted."))
            return render_template("admin/erase.html", form=form, code=exc.code), 400
        logout_user()
        flash(gettext("The organisation and all its data have been deleted."), "success")
        return redirect(url_for("main.index"))
    return render_template("admin/erase.html", form=form), 400 if form.errors else 200
