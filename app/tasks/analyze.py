from celery import shared_task

from app.services.analysis import process_frame


@shared_task(name="emotiscan.analyze_frame", ignore_result=True, acks_late=False)
def analyze_frame(tenant_id: int, site_id: int, camera_id: int, frame_id: str, received_at: float,
                  jpeg: bytes, client_ts: float | None = None) -> None:
    """Analyse one frame; the JPEG lives only in this call's memory."""
    process_frame(tenant_id, site_id, camera_id, frame_id, received_at, jpeg, client_ts)
