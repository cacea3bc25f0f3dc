from celery import shared_task

from app import events
from app.services.analysis import process_frame


def analyze_and_publish(
    tenant_id: int, site_id: int, camera_id: int, frame_id: str, received_at: float, jpeg: bytes, client_ts: float | None = None
) -> dict | None:
    """One frame: the service analyses and stores it; its events go out here. Returns the
    observation event, or None when the frame was dropped."""
    outcome = process_frame(tenant_id, site_id, camera_id, frame_id, received_at, jpeg, client_ts)
    if outcome.error:
        events.frame_failed(camera_id, frame_id, outcome.error)
    if outcome.payload is not None:
        events.observation(tenant_id, site_id, camera_id, outcome.payload)
    for event, body in outcome.alerts:
        events.alert(tenant_id, body, event, email=event == "alert.open")
    return outcome.payload


@shared_task(name="emotiscan.analyze_frame", ignore_result=True, acks_late=False)
def analyze_frame(
    tenant_id: int, site_id: int, camera_id: int, frame_id: str, received_at: float, jpeg: bytes, client_ts: float | None = None
) -> None:
    """Analyse one frame; the JPEG lives only in this call's memory."""
    analyze_and_publish(tenant_id, site_id, camera_id, frame_id, received_at, jpeg, client_ts)
