"""The audit trail (admin)."""

from sqlalchemy import select

from app.api import bp
from app.api.serializers import iso
from app.api.validation import page_of
from app.models import AuditEntry
from app.tenancy import admin_required, scoped


def entry_dict(e: AuditEntry) -> dict:
    return {"id": e.id, "actor_id": e.actor_id, "action": e.action, "target_type": e.target_type,
            "target_id": e.target_id, "details": e.details, "created_at": iso(e.created_at)}


@bp.get("/audit")
@admin_required
def list_audit():
    return page_of(scoped(select(AuditEntry), AuditEntry), AuditEntry.id, entry_dict)
