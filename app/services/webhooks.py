"""Alert webhooks: JSON signed with HMAC-SHA256, retried with exponential backoff, logged."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

from app import jobs, outbound
from app.extensions import db
from app.infra.secrets import decrypt, encrypt, is_encrypted
from app.models import Webhook, WebhookDelivery
from app.services import audit
from app.timefmt import iso_utc

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-EmotiScan-Signature"
MAX_ATTEMPTS = 5


def signature(secret: str, body: bytes) -> str:
    """``sha256=<hex>`` of the body; receivers recompute it with their copy of the secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def create_webhook(tenant_id: int, url: str) -> Webhook:
    """A new webhook; raises ServiceError ``url_not_allowed`` for a URL into a private network."""
    url = outbound.check_url(url)
    plain = secrets.token_hex(24)
    hook = Webhook(tenant_id=tenant_id, url=url, secret=encrypt(plain))
    db.session.add(hook)
    db.session.commit()
    # The row keeps the ciphertext; the caller shows the plain secret this once (the API, and the
    # admin page's template reads `created.secret`). Loaded, not changed: never flushed as plain.
    set_committed_value(hook, "secret", plain)
    return hook


def delete_webhook(hook: Webhook, actor_id: int | None) -> None:
    """Remove a webhook (its delivery log goes with it), with an audit entry. The URL is not
    recorded: receivers' URLs often carry a token."""
    audit.record(hook.tenant_id, actor_id, "webhook.delete", "webhook", hook.id, commit=False)
    db.session.delete(hook)
    db.session.commit()


def webhook_dict(hook: Webhook, with_secret: bool = False) -> dict:
    data = {
        "id": hook.id,
        "url": hook.url,
        "enabled": hook.enabled,
        "created_at": iso_utc(hook.created_at),
    }
    if with_secret:
        data["secret"] = decrypt(hook.secret)
    return data


def delivery_dict(d: WebhookDelivery) -> dict:
    return {
        "id": d.id,
        "webhook_id": d.webhook_id,
        "alert_id": d.alert_id,
        "event": d.event,
        "attempt": d.attempt,
        "status_code": d.status_code,
        "ok": d.ok,
        "error": d.error,
        "created_at": iso_utc(d.created_at),
    }


def attempt(webhook_id: int, event: str, payload: dict, number: int) -> bool:
    """One delivery attempt, logged; True when the receiver answered 2xx."""
    hook = db.session.get(Webhook, webhook_id)
    if hook is None or not hook.enabled:
        return True  # nothing left to deliver to
    body = json.dumps({"event": event, "data": payload}, separators=(",", ":")).encode()
    record = WebhookDelivery(
        tenant_id=hook.tenant_id, webhook_id=hook.id, alert_id=payload.get("id"), event=event, attempt=number
    )
    secret = decrypt(hook.secret)
    if not is_encrypted(hook.secret):
        hook.secret = encrypt(secret)  # a row from before encryption at rest: encrypted on first use
    outcome = outbound.post(
        hook.url,
        body,
        timeout=current_app.config.get("WEBHOOK_TIMEOUT_S", 5.0),
        headers={
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature(secret, body),
            "X-EmotiScan-Event": event,
            "X-EmotiScan-Attempt": str(number),
        },
    )
    # Only the category reaches the log: exception names (refused, timed out) would map ports.
    record.status_code, record.ok = outcome.status_code, outcome.ok
    record.error = None if outcome.ok else outcome.category
    db.session.add(record)
    db.session.commit()
    return record.ok


def backoff_s(number: int) -> float:
    return current_app.config.get("WEBHOOK_BACKOFF_S", 2.0) * 2 ** (number - 1)


def deliver_with_retries(webhook_id: int, event: str, payload: dict) -> None:
    """Embedded and test modes: retry in this thread (Celery retries in the distributed mode)."""
    for number in range(1, MAX_ATTEMPTS + 1):
        if attempt(webhook_id, event, payload, number):
            return
        if number < MAX_ATTEMPTS:
            time.sleep(backoff_s(number))


def notify(tenant_id: int, event: str, payload: dict) -> None:
    """Send an alert event to each of the tenant's enabled webhooks, in the background."""
    hooks = list(db.session.scalars(select(Webhook.id).where(Webhook.tenant_id == tenant_id, Webhook.enabled.is_(True))))
    for hook_id in hooks:
        # Celery retries its task with backoff; outside Celery deliver_with_retries loops itself.
        jobs.enqueue("emotiscan.deliver_webhook", hook_id, event, payload)


jobs.register("emotiscan.deliver_webhook", deliver_with_retries)
