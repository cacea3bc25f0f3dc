"""Webhooks (admin) and their delivery log."""

from sqlalchemy import select

from app.api import bp
from app.api.validation import Field, json_body, page_of, validate
from app.extensions import db
from app.models import Webhook, WebhookDelivery
from app.services import webhooks
from app.tenancy import admin_required, check_role, current_actor, get_for_tenant, scoped


@bp.get("/webhooks")
@admin_required
def list_webhooks():
    return page_of(scoped(select(Webhook), Webhook), Webhook.id, webhooks.webhook_dict)


@bp.post("/webhooks")
@admin_required
def create_webhook():
    data = validate(json_body(), {"url": Field(str, required=True, max_len=500)})
    hook = webhooks.create_webhook(current_actor().tenant_id, data["url"])
    return webhooks.webhook_dict(hook, with_secret=True), 201


@bp.delete("/webhooks/<hook_id>")
def delete_webhook(hook_id):
    hook = get_for_tenant(Webhook, hook_id)
    check_role("admin")
    db.session.delete(hook)
    db.session.commit()
    return "", 204


@bp.get("/webhooks/<hook_id>/deliveries")
def list_deliveries(hook_id):
    hook = get_for_tenant(Webhook, hook_id)
    check_role("admin")
    stmt = select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id)
    return page_of(stmt, WebhookDelivery.id, webhooks.delivery_dict)
