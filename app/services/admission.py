"""Frames waiting for or in analysis: the one place that admits a frame to the queue (web
process) and releases it (worker), per camera and per tenant.

Each admitted frame is a member of two sets, removed when its analysis ends or, for a frame
lost with a killed worker, when its own deadline passes. The caps are exact at any moment,
which keeps a tenant's queue, and so its cameras' latency, bounded under overload.
"""

from __future__ import annotations

from flask import current_app

from app.infra.state import store


def camera_key(camera_id: int) -> str:
    return f"inflight:{camera_id}"


def tenant_key(tenant_id: int) -> str:
    return f"inflight_tenant:{tenant_id}"


def admit_frame(tenant_id: int, camera_id: int, frame_id: str) -> str | None:
    """None when the frame may be queued, else the refusal reason: ``busy`` (this camera already
    has its frames waiting) or ``tenant_busy`` (its organisation has)."""
    cfg = current_app.config
    ttl = cfg["STALE_FRAME_S"] * 5 + 1  # a lost frame's place comes back well after it went stale
    full = store().admit(
        {camera_key(camera_id): cfg["MAX_FRAMES_IN_FLIGHT"], tenant_key(tenant_id): cfg["TENANT_MAX_IN_FLIGHT"]}, frame_id, ttl
    )
    if full is None:
        return None
    return "busy" if full == camera_key(camera_id) else "tenant_busy"


def release_frame(tenant_id: int, camera_id: int, frame_id: str) -> None:
    store().release([camera_key(camera_id), tenant_key(tenant_id)], frame_id)
