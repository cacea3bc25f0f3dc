from celery import shared_task

from app import events
from app.services.analysis import Frame, process_batch


def analyze_batch_and_publish(frames: list[Frame]) -> list[dict | None]:
    """Frames analysed and stored together by the service; their events go out here. Returns
    each frame's observation event, or None when it was dropped."""
    outcomes = process_batch(frames)
    by_site: dict[tuple[int, int], list[dict]] = {}  # one live event per site per batch
    for frame, outcome in zip(frames, outcomes, strict=True):
        if outcome.error:
            events.frame_failed(frame.camera_id, frame.frame_id, outcome.error)
        if outcome.payload is not None:
            by_site.setdefault((frame.tenant_id, frame.site_id), []).append(outcome.payload)
    for (tenant_id, site_id), payloads in by_site.items():
        events.observations(tenant_id, site_id, payloads)
    for frame, outcome in zip(frames, outcomes, strict=True):  # after the observations that caused them
        for event, body in outcome.alerts:
            events.alert(frame.tenant_id, body, event, email=event == "alert.open")
    return [o.payload for o in outcomes]


def analyze_and_publish(
    tenant_id: int, site_id: int, camera_id: int, frame_id: str, received_at: float, jpeg: bytes, client_ts: float | None = None
) -> dict | None:
    """One frame: a batch of one."""
    return analyze_batch_and_publish([Frame(tenant_id, site_id, camera_id, frame_id, received_at, jpeg, client_ts)])[0]


@shared_task(name="emotiscan.analyze_frame", ignore_result=True, acks_late=False)
def analyze_frame(
    tenant_id: int, site_id: int, camera_id: int, frame_id: str, received_at: float, jpeg: bytes, client_ts: float | None = None
) -> None:
    """Analyse one frame; the JPEG lives only in this call's memory."""
    analyze_and_publish(tenant_id, site_id, camera_id, frame_id, received_at, jpeg, client_ts)
