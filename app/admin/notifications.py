"""Admin pages for webhooks and the audit trail."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import URLField
from wtforms.validators import DataRequired, Length

from app.admin import bp
from app.admin.forms import ConfirmForm
from app.extensions import db
from app.infra.pagination import paginate
from app.models import AuditEntry, User, Webhook, WebhookDelivery
from app.services import webhooks
from app.services.errors import ServiceError
from app.tenancy import check_role, get_for_tenant, scoped


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
    hooks = list(db.session.scalars(scoped(select(Webhook), Webhook).order_by(Webhook.id)))
    recent = {
        h.id: list(
            db.session.scalars(
                select(WebhookDelivery).where(WebhookDelivery.webhook_id == h.id).order_by(WebhookDelivery.id.desc()).limit(5)
            )
        )
        for h in hooks
    }
    return render_template(
        "admin/webhooks.html", hooks=hooks, recent=recent, form=form, created=created, confirm=ConfirmForm()
    ), 400 if form.errors else 200


@bp.post("/webhooks/<int:hook_id>/delete")
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
    items, cursor = paginate(
        scoped(select(AuditEntry), AuditEntry), AuditEntry.id, request.args.get("cursor"), 50, newest_first=True
    )
    users = {u.id: u.email for u in db.session.scalars(scoped(select(User), User))}
    return render_template("admin/audit.html", entries=items, next_cursor=cursor, users=users, me=current_user)
