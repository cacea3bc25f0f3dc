"""Webhooks (admin) and their delivery log."""

from app.api import bp
from app.api import schemas as s
from app.api.contract import operation
from app.api.validation import page_of, payload
from app.models import Webhook, WebhookDelivery
from app.services import listings, webhooks
from app.tenancy import admin_required, check_role, current_actor, get_for_tenant


@bp.get("/webhooks")
@operation("List webhooks (admin)", query=s.ListQuery, returns=s.page(s.Webhook), errors=(403,))
@admin_required
def list_webhooks():
    return page_of(listings.webhooks(), Webhook.id, webhooks.webhook_dict)


@bp.post("/webhooks")
@operation(
    "Add a webhook; its signing secret is shown only now (admin)",
    body=s.WebhookIn,
    returns=s.WebhookCreated,
    status=201,
    errors=(403,),
)
@admin_required
def create_webhook():
    data = payload()
    hook = webhooks.create_webhook(current_actor().tenant_id, data["url"])
    return webhooks.webhook_dict(hook, with_secret=True), 201


@bp.delete("/webhooks/<id:hook_id>")
@operation("Remove a webhook (admin)", status=204, errors=(403,))
def delete_webhook(hook_id: int):
    hook = get_for_tenant(Webhook, hook_id)
    check_role("admin")
    webhooks.delete_webhook(hook, current_actor().id)
    return "", 204


@bp.get("/webhooks/<id:hook_id>/deliveries")
@operation("Delivery log of a webhook (admin)", query=s.ListQuery, returns=s.page(s.Delivery), errors=(403,))
def list_deliveries(hook_id: int):
    hook = get_for_tenant(Webhook, hook_id)
    check_role("admin")
    return page_of(listings.deliveries(hook.id), WebhookDelivery.id, webhooks.delivery_dict)
