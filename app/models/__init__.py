"""Typed SQLAlchemy models; no web or ML code here."""

from app.extensions import db
from app.models.alert import Alert, AlertRule
from app.models.audit import AuditEntry
from app.models.camera import Camera
from app.models.observation import EMOTION_COLUMNS, Observation
from app.models.report import FREQUENCIES, GeneratedReport, ReportSchedule
from app.models.rollup import ObservationRollup
from app.models.site import Site
from app.models.tenant import Tenant, TenantErasure
from app.models.token import ApiToken
from app.models.track_span import TrackSpan
from app.models.user import ROLES, User, user_sites
from app.models.webhook import Webhook, WebhookDelivery

# SQLite hands out the highest deleted id again unless a table says AUTOINCREMENT: a deleted
# user's token or a deleted site's scope would then name the next one (PostgreSQL never reuses).
for _table in db.metadata.tables.values():
    if len(_table.primary_key.columns) == 1 and list(_table.primary_key.columns)[0].name == "id":
        _table.dialect_options["sqlite"]["autoincrement"] = True

__all__ = [
    "Alert",
    "AlertRule",
    "ApiToken",
    "AuditEntry",
    "Camera",
    "EMOTION_COLUMNS",
    "FREQUENCIES",
    "GeneratedReport",
    "Observation",
    "ObservationRollup",
    "ROLES",
    "ReportSchedule",
    "Site",
    "Tenant",
    "TenantErasure",
    "TrackSpan",
    "User",
    "Webhook",
    "WebhookDelivery",
    "user_sites",
]
