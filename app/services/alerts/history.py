"""The alert history: the one filtered query behind the API's alert list and the admin page."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select

from app.models import Alert, User
from app.tenancy import scoped

ALERT_STATUSES = ("open", "acknowledged", "resolved")


def alerts_query(
    user: User | None = None,
    *,
    site_id: int | None = None,
    camera_id: int | None = None,
    rule_id: int | None = None,
    status: str | None = None,
    since: datetime | None = None,
) -> Select:
    """The alerts that the actor (``user``, else the request's) may see, filtered: the one query
    behind the API's alert list and the admin alert history. None (or "") leaves a filter out."""
    stmt = scoped(select(Alert), Alert, user)
    for column, value in ((Alert.site_id, site_id), (Alert.camera_id, camera_id), (Alert.rule_id, rule_id)):
        if value is not None:
            stmt = stmt.where(column == value)
    if status:
        stmt = stmt.where(Alert.status == status)
    if since is not None:
        stmt = stmt.where(Alert.started_at >= since)
    return stmt
