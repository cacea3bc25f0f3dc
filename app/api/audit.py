"""The audit trail (admin)."""

from app.api import bp
from app.api import schemas as s
from app.api.contract import operation
from app.api.serializers import iso
from app.api.validation import page_of
from app.models import AuditEntry
from app.services import listings
from app.tenancy import admin_required


def entry_dict(e: AuditEntry) -> dict:
    return {
        "id": e.id,
        "actor_id": e.actor_id,
        "action": e.action,
        "target_type": e.target_type,
        "target_id": e.target_id,
        "details": e.details,
        "created_at": iso(e.created_at),
    }


@bp.get("/audit")
@operation(
    "The audit trail: sign-ins, role and rule changes, acknowledgements (admin)",
    query=s.ListQuery,
    returns=s.page(s.AuditEntry),
    errors=(403,),
)
@admin_required
def list_audit():
    return page_of(listings.audit_entries(), AuditEntry.id, entry_dict)
