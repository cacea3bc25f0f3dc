"""The scoped statements and lookups that pages and the API list, built here so views stay thin.

Every function takes the acting user (its tenant and the sites it may see, see app/tenancy.scoped)
and ids; statements are returned unexecuted where the view pages through them (app/infra/pagination)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func, select, text

from app.extensions import db
from app.models import (
    AlertRule,
    AuditEntry,
    Camera,
    GeneratedReport,
    Observation,
    ReportSchedule,
    Site,
    Tenant,
    User,
    Webhook,
    WebhookDelivery,
)
from app.services import observations
from app.tenancy import scoped


def sites(user: User | None = None) -> Select:
    return scoped(select(Site), Site, user)


def sites_by_name(user: User | None = None) -> list[Site]:
    return list(db.session.scalars(sites(user).order_by(Site.name)))


def cameras(user: User | None = None) -> Select:
    return scoped(select(Camera), Camera, user)


def cameras_by_name(user: User | None = None) -> list[Camera]:
    return list(db.session.scalars(cameras(user).order_by(Camera.name)))


def cameras_of(site_id: int | None, user: User | None = None) -> list[Camera]:
    """The user's cameras, of one site when ``site_id`` is given, by site then id (the live room's order)."""
    stmt = cameras(user).order_by(Camera.site_id, Camera.id)
    if site_id is not None:
        stmt = stmt.where(Camera.site_id == site_id)
    return list(db.session.scalars(stmt))


def camera_ids_of_site(site_id: int, user: User | None = None) -> list[int]:
    return list(db.session.scalars(scoped(select(Camera.id).where(Camera.site_id == site_id), Camera, user)))


def users(user: User | None = None) -> Select:
    return scoped(select(User), User, user)


def emails_by_id(user: User | None = None) -> dict[int, str]:
    return {u.id: u.email for u in db.session.scalars(users(user))}


def report_recipients(user: User | None = None) -> list[User]:
    """Who may receive a scheduled report: the tenant's admins and managers, by e-mail."""
    return list(db.session.scalars(users(user).where(User.role.in_(("admin", "manager"))).order_by(User.email)))


def audit_entries(user: User | None = None) -> Select:
    return scoped(select(AuditEntry), AuditEntry, user)


def alert_rules(user: User | None = None) -> Select:
    return scoped(select(AlertRule), AlertRule, user)


def alert_rules_by_id(user: User | None = None) -> list[AlertRule]:
    return list(db.session.scalars(alert_rules(user).order_by(AlertRule.id)))


def alert_history_names(user: User | None = None) -> dict[str, dict[int, object]]:
    """The sites, cameras, rules and users an alert history page names, by id."""
    return {
        "sites": {s.id: s for s in db.session.scalars(sites(user))},
        "cameras": {c.id: c for c in db.session.scalars(cameras(user))},
        "rules": {r.id: r for r in db.session.scalars(alert_rules(user))},
        "users": {u.id: u for u in db.session.scalars(users(user))},
    }


def webhooks(user: User | None = None) -> Select:
    return scoped(select(Webhook), Webhook, user)


def webhooks_by_id(user: User | None = None) -> list[Webhook]:
    return list(db.session.scalars(webhooks(user).order_by(Webhook.id)))


def deliveries(webhook_id: int) -> Select:
    """A webhook's delivery log; the caller has already looked the webhook up for its tenant."""
    return select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)


def recent_deliveries(webhook_id: int, limit: int = 5) -> list[WebhookDelivery]:
    return list(db.session.scalars(deliveries(webhook_id).order_by(WebhookDelivery.id.desc()).limit(limit)))


def observations_of(camera_id: int | None, since: datetime | None, until: datetime | None, user: User | None = None) -> Select:
    return observations.query(scoped(select(Observation), Observation, user), camera_id, since, until)


def report_schedules(user: User | None = None) -> list[ReportSchedule]:
    return list(db.session.scalars(scoped(select(ReportSchedule), ReportSchedule, user).order_by(ReportSchedule.id)))


def generated_reports(user: User | None = None) -> Select:
    return scoped(select(GeneratedReport), GeneratedReport, user)


# Not tenant data: sign-in lookups and the operator's gauges ---------------------------------------


def user_by_id(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def user_by_email(email: str) -> User | None:
    """``email`` already normalised (app.services.accounts.normalise_email)."""
    return db.session.scalar(select(User).where(User.email == email))


def database_answers() -> None:
    """Raises when the database does not answer (the health check); the session is left usable."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:
        db.session.rollback()
        raise


def gauges() -> dict[str, int]:
    """Counts across every tenant for /metrics (operator-only numbers, nothing of a tenant's content)."""
    try:
        return {
            "tenants": db.session.scalar(select(func.count()).select_from(Tenant)),
            "cameras": db.session.scalar(select(func.count()).select_from(Camera)),
            "observations": db.session.scalar(select(func.max(Observation.id))) or 0,
        }
    except Exception:
        db.session.rollback()
        raise


def remember_locale(user: User, locale: str) -> None:
    """The signed-in user's chosen language, kept for mails and the next sign-in."""
    user.locale = locale
    db.session.commit()


def save_preferences(user: User, notify_alerts: bool | None = None, locale: str | None = None) -> None:
    """The user's own settings (alert mails, language); None leaves a setting as it is."""
    if notify_alerts is not None:
        user.notify_alerts = notify_alerts
    if locale is not None:
        user.locale = locale
    db.session.commit()
