from celery import shared_task

from app.services.periodic import run_periodic


@shared_task(name="emotiscan.periodic", ignore_result=True)
def periodic() -> None:
    """Escalations, camera checks and scheduled reports, every 30 s via Celery beat."""
    run_periodic()
