"""Work done on a schedule: Celery beat in the distributed mode, a thread in the embedded mode.
It lives with the tasks because it publishes the alerts it raises (app.events)."""

from __future__ import annotations

import logging
import threading
import time

from celery import shared_task
from flask import Flask, current_app

from app import events
from app.infra.state import store
from app.services import alerts, privacy
from app.services.reports import schedules as report_schedules

log = logging.getLogger(__name__)
PERIOD_S = 30


def run_periodic() -> dict[str, int]:
    """One round of scheduled work; returns what it did, for logs and tests."""
    escalated = alerts.escalate_overdue()
    for alert in escalated:
        events.alert(alert.tenant_id, alerts.alert_dict(alert), "alert.escalated", email=True, escalation=True)
    offline, back = alerts.check_cameras(current_app.config["CAMERA_OFFLINE_ALERT_S"])
    for alert in offline:
        events.alert(alert.tenant_id, alerts.alert_dict(alert), "alert.open", email=True)
    for alert in back:
        events.alert(alert.tenant_id, alerts.alert_dict(alert), "alert.resolved")
    reports_made = report_schedules.run_due()
    retention = run_retention_if_due()
    return {
        "escalated": len(escalated),
        "cameras_offline": len(offline),
        "cameras_back": len(back),
        "reports": reports_made,
        "retention": retention,
    }


def run_retention_if_due() -> dict[str, int] | None:
    """Retention runs once per RETENTION_PERIOD_S across all processes (a shared key decides)."""
    period = current_app.config["RETENTION_PERIOD_S"]
    if store().incr(f"retention_round:{int(time.time() // period)}", ttl_s=int(period) + 60) != 1:
        return None
    return privacy.run_retention()


def start_embedded_scheduler(app: Flask, period_s: float = PERIOD_S) -> threading.Thread:
    """The embedded mode's scheduler: a daemon thread in the web process."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(period_s):
            with app.app_context():
                try:
                    run_periodic()
                except Exception:  # noqa: BLE001 - one failed round must not stop the schedule
                    log.exception("periodic work failed")

    thread = threading.Thread(target=loop, name="scheduler", daemon=True)
    thread.stop = stop  # type: ignore[attr-defined]
    thread.start()
    return thread


@shared_task(name="emotiscan.periodic", ignore_result=True)
def periodic() -> None:
    """Escalations, camera checks and scheduled reports, every 30 s via Celery beat."""
    run_periodic()
