from celery import shared_task

from app.services import webhooks
from app.services.alerts import notifications


@shared_task(name="emotiscan.deliver_webhook", bind=True, ignore_result=True, max_retries=webhooks.MAX_ATTEMPTS - 1)
def deliver_webhook(self, webhook_id: int, event: str, payload: dict) -> None:
    """One attempt; a failure is retried with exponential backoff (2, 4, 8, 16 s)."""
    number = self.request.retries + 1
    if not webhooks.attempt(webhook_id, event, payload, number) and number < webhooks.MAX_ATTEMPTS:
        raise self.retry(countdown=webhooks.backoff_s(number))


@shared_task(name="emotiscan.email_alert", ignore_result=True)
def email_alert(tenant_id: int, site_id: int, alert: dict, escalation: bool = False) -> None:
    """E-mails about one alert to the users who asked for them (or, escalated, the managers)."""
    notifications.email_alert(tenant_id, site_id, alert, escalation)
