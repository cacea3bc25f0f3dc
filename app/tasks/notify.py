from celery import shared_task

from app.services import webhooks


@shared_task(name="emotiscan.deliver_webhook", bind=True, ignore_result=True, max_retries=webhooks.MAX_ATTEMPTS - 1)
def deliver_webhook(self, webhook_id: int, event: str, payload: dict) -> None:
    """One attempt; a failure is retried with exponential backoff (2, 4, 8, 16 s)."""
    number = self.request.retries + 1
    if not webhooks.attempt(webhook_id, event, payload, number) and number < webhooks.MAX_ATTEMPTS:
        raise self.retry(countdown=webhooks.backoff_s(number))
