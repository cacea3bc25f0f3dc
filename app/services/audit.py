"""The audit trail: one call per audited action, from the services and views that perform it."""

from __future__ import annotations

from app.extensions import db
from app.models import AuditEntry


def record(
    tenant_id: int,
    actor_id: int | None,
    action: str,
    target_type: str = "",
    target_id: int | None = None,
    commit: bool = True,
    **details,
) -> AuditEntry:
    entry = AuditEntry(
        tenant_id=tenant_id, actor_id=actor_id, action=action, target_type=target_type, target_id=target_id, details=details
    )
    db.session.add(entry)
    if commit:
        db.session.commit()
    return entry
