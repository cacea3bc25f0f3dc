"""The one place where events go out: live rooms, webhooks and e-mails.

Tasks and views call these after a service has changed something; services return results
and never publish themselves. An alert event reaches the tenant's live rooms (so every screen
sees an acknowledgement at once), its webhooks, and, where asked, e-mail.
"""

from __future__ import annotations

from app import jobs
from app.realtime import emit
from app.services import webhooks
from app.services.alerts import notifications  # noqa: F401 - registers the alert e-mail job

ALERT_EVENTS = ("alert.open", "alert.acknowledged", "alert.resolved", "alert.escalated")


def observations(tenant_id: int, site_id: int, payloads: list[dict]) -> None:
    """A batch's observation events of one site (each payload names its camera)."""
    emit.emit_observations(tenant_id, site_id, payloads)


def frame_failed(camera_id: int, frame_id: str, code: str) -> None:
    emit.emit_frame_error(camera_id, frame_id, code)


def alert(tenant_id: int, body: dict, event: str, *, email: bool = False, escalation: bool = False) -> None:
    """An alert opened, acknowledged, resolved or escalated (``body``: the API's alert object)."""
    if event not in ALERT_EVENTS:
        raise ValueError(f"unknown alert event {event}")
    emit.emit_alert(tenant_id, body["site_id"], body)
    webhooks.notify(tenant_id, event, body)
    if email:
        jobs.enqueue("emotiscan.email_alert", tenant_id, body["site_id"], body, escalation)
