"""Scheduled reports: daily, weekly or monthly per scope, generated once per period (a unique
key makes a second scheduler or worker a no-op), stored, and e-mailed to chosen managers."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import force_locale, gettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.infra.mail import send_mail
from app.labels import FREQUENCY_WORDS
from app.models import Camera, GeneratedReport, ReportSchedule, Site, Tenant, User
from app.models.base import utcnow
from app.models.tenancy import get_owned
from app.reporting.csv_export import report_csv
from app.reporting.periods import Period, last_complete_period, local_today
from app.services import audit, reports
from app.services.errors import ServiceError
from app.services.reports.files import report_filename

log = logging.getLogger(__name__)
LANGUAGES = ("fr", "en")


def create_schedule(
    tenant_id: int,
    actor_id: int | None,
    frequency: str,
    language: str,
    recipient_ids: list[int],
    site_id: int | None = None,
    camera_id: int | None = None,
) -> ReportSchedule:
    """A new schedule; recipients must be admins or managers of the tenant."""
    if frequency not in ("daily", "weekly", "monthly"):
        raise ServiceError("validation_error", "Unknown frequency.", fields={"frequency": "invalid"})
    if language not in LANGUAGES:
        raise ServiceError("validation_error", "Unknown language.", fields={"language": "invalid"})
    valid = set(
        db.session.scalars(
            select(User.id).where(User.tenant_id == tenant_id, User.id.in_(recipient_ids), User.role.in_(("admin", "manager")))
        )
    )
    schedule = ReportSchedule(
        tenant_id=tenant_id,
        frequency=frequency,
        language=language,
        recipient_ids=sorted(valid),
        site_id=site_id,
        camera_id=camera_id,
        created_by=actor_id,
    )
    db.session.add(schedule)
    db.session.flush()
    audit.record(
        tenant_id,
        actor_id,
        "report_schedule.create",
        "report_schedule",
        schedule.id,
        commit=False,
        frequency=frequency,
        site_id=site_id,
        camera_id=camera_id,
    )
    db.session.commit()
    return schedule


def delete_schedule(schedule: ReportSchedule, actor_id: int | None) -> None:
    """Stop a schedule; the reports it made stay in the history."""
    audit.record(schedule.tenant_id, actor_id, "report_schedule.delete", "report_schedule", schedule.id, commit=False)
    db.session.delete(schedule)
    db.session.commit()


def schedule_scope(schedule: ReportSchedule) -> reports.Scope:
    tenant = db.session.get(Tenant, schedule.tenant_id)
    camera = get_owned(Camera, schedule.camera_id, schedule.tenant_id)
    site = get_owned(Site, schedule.site_id, schedule.tenant_id)
    return reports.scope_for(tenant, site, camera)


def render(scope: reports.Scope, period: Period, language: str, now: datetime | None = None) -> tuple[dict, bytes, str]:
    """The report, its PDF in ``language`` and its CSV."""
    from app.services.reports.pdf import render_pdf

    report = reports.build_report(scope, period, now)
    with force_locale(language):
        pdf = render_pdf(report)
    return report, pdf, report_csv(report)


def _recipients(schedule: ReportSchedule, scope: reports.Scope) -> list[User]:
    """Recipients still allowed to read this scope (a user demoted or limited meanwhile is skipped)."""
    users = db.session.scalars(
        select(User).where(
            User.tenant_id == schedule.tenant_id, User.id.in_(schedule.recipient_ids or [-1]), User.role.in_(("admin", "manager"))
        )
    ).all()
    allowed = []
    for user in users:
        sites = {s.id for s in user.sites} if user.role != "admin" and not user.all_sites else None
        if sites is None or scope.kind != "tenant" and scope.site_id in sites:
            allowed.append(user)
    return allowed


def run_schedule(schedule: ReportSchedule, now: datetime | None = None) -> GeneratedReport | None:
    """Generate the schedule's last complete period if it is not stored yet; None when it is."""
    now = now or utcnow()
    scope = schedule_scope(schedule)
    period = last_complete_period(schedule.frequency, local_today(ZoneInfo(reports.scope_time_zone(scope)), now))
    exists = db.session.scalar(
        select(GeneratedReport.id).where(GeneratedReport.schedule_id == schedule.id, GeneratedReport.period_from == period.start)
    )
    if exists is not None:
        return None
    report, pdf, csv_text = render(scope, period, schedule.language, now)
    stored = GeneratedReport(
        tenant_id=schedule.tenant_id,
        schedule_id=schedule.id,
        site_id=scope.site_id,
        camera_id=scope.camera_id,
        frequency=schedule.frequency,
        language=schedule.language,
        period_from=period.start,
        period_to=period.end,
        scope_label=scope.label[:200],
        summary={
            "observations": report["totals"]["observations"],
            "faces": report["totals"]["faces"],
            "alerts": report["alerts"]["total"],
        },
        pdf=pdf,
        csv=csv_text,
        pdf_bytes=len(pdf),
    )
    db.session.add(stored)
    try:
        db.session.commit()
    except IntegrityError:  # another scheduler stored this period first
        db.session.rollback()
        return None
    sent = 0
    for user in _recipients(schedule, scope):
        with force_locale(schedule.language):
            subject = gettext(
                "EmotiScan report: %(scope)s, %(start)s to %(end)s",
                scope=scope.label,
                start=period.start.isoformat(),
                end=period.end.isoformat(),
            )
            body = gettext(
                "The %(frequency)s emotion report is attached (PDF with charts, CSV of the figures).",
                frequency=str(FREQUENCY_WORDS[schedule.frequency]),
            )
        attachments = [
            (report_filename(report, "pdf"), pdf, "application/pdf"),
            (report_filename(report, "csv"), csv_text.encode(), "text/csv"),
        ]
        sent += send_mail(user.email, subject, body, attachments)
    stored.emailed_to = sent
    db.session.commit()
    return stored


def run_due(now: datetime | None = None) -> int:
    """Every enabled schedule's due report; returns how many were generated."""
    made = 0
    for schedule in db.session.scalars(select(ReportSchedule).where(ReportSchedule.enabled.is_(True))).all():
        try:
            made += run_schedule(schedule, now) is not None
        except Exception:  # noqa: BLE001 - one broken schedule must not block the others
            db.session.rollback()
            log.exception("scheduled report %s failed", schedule.id)
    return made
