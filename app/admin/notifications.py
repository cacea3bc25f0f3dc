"""Admin pages for webhooks and the audit trail."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import URLField
from wtforms.validators import DataRequired, Length

from app.admin import bp
from app.admin.forms import ConfirmForm
from app.infra.pagination import paginate
from app.models import AuditEntry, Webhook
from app.services import listings, webhooks
from app.services.errors import ServiceError
from app.tenancy import check_role, get_for_tenant


class WebhookForm(FlaskForm):
    url = URLField("URL", validators=[DataRequired(), Length(max=500)])


@bp.route("/webhooks", methods=["GET", "POST"])
def webhooks_list():
    admin = check_role("admin")
    form = WebhookForm()
    created = None
    if form.validate_on_submit():
        try:
            created = webhooks.create_webhook(admin.tenant_id, form.url.data)
        except ServiceError as exc:
            form.url.errors.append(exc.message)
        else:
            flash(gettext("Copy the signing secret now: it is shown only once."), "info")
    hooks = listings.webhooks_by_id()
    recent = {h.id: listings.recent_deliveries(h.id) for h in hooks}
    return render_template(
        "admin/webhooks.html", hooks=hooks, recent=recent, form=form, created=created, confirm=ConfirmForm()
    ), 400 if form.errors else 200


@bp.post("/webhooks/<id:hook_id>/delete")
def webhook_delete(hook_id: int):
    hook = get_for_tenant(Webhook, hook_id)
    admin = check_role("admin")
    if not ConfirmForm().validate_on_submit():
        abort(400)
    webhooks.delete_webhook(hook, admin.id)
    flash(gettext("Webhook removed."), "success")
    return redirect(url_for("admin.webhooks_list"))


@bp.get("/audit")
def audit_list():
    check_role("admin")
    items, cursor = paginate(listings.audit_entries(), AuditEntry.id, request.args.get("cursor"), 50, newest_first=True)
    users = listings.emails_by_id()
    return render_template("admin/audit.html", entries=items, next_cursor=cursor, users=users, me=current_user)
