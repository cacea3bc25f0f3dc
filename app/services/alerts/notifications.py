"""E-mail to the users who asked for alert notifications, in their language."""

from __future__ import annotations

from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import select

from app import jobs
from app.extensions import db
from app.infra.mail import send_mail
from app.models import AlertRule, Camera, Site, User
from app.models.tenancy import get_owned
from app.rules.kinds import kind_of
from app.tenancy import allowed_site_ids
from app.timefmt import local_time


def recipients(tenant_id: int, site_id: int, managers: bool = False) -> list[User]:
    """Users who asked for alert e-mails, or (escalation) the site's admins and managers."""
    stmt = select(User).where(User.tenant_id == tenant_id)
    stmt = stmt.where(User.role.in_(("admin", "manager"))) if managers else stmt.where(User.notify_alerts.is_(True))
    return [u for u in db.session.scalars(stmt) if (allowed_site_ids(u) is None or site_id in allowed_site_ids(u))]


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def email_alert(tenant_id: int, site_id: int, alert: dict, escalation: bool = False) -> int:
    """Send one e-mail per recipient; returns how many were sent."""
    camera = get_owned(Camera, alert.get("camera_id"), tenant_id)
    site = camera.site if camera else get_owned(Site, site_id, tenant_id)
    # The alert's time as the site's wall clock, labelled with its zone, as every page shows it.
    zone = site.timezone if site else None
    kind = alert["emotion"]  # a variable, so that the extractor does not take the key for a message
    # The rule's kind words what happened: a rise or an unusual level is not "above the threshold".
    rule = get_owned(AlertRule, alert.get("rule_id"), tenant_id) if alert.get("rule_id") else None
    rule_kind = kind_of(rule.kind if rule is not None else None)
    sent = 0
    for user in recipients(tenant_id, site_id, managers=escalation):
        locale = user.locale or "fr"
        started = local_time(alert["started_at"], zone, locale, "medium")
        with force_locale(locale):
            subject = gettext(
                "EmotiScan alert: %(emotion)s at %(camera)s", emotion=gettext(kind), camera=camera.name if camera else "?"
            )
            if kind == "camera_offline":
                subject = gettext("EmotiScan: camera %(camera)s stopped sending", camera=camera.name if camera else "?")
            if escalation:
                subject = gettext("Not acknowledged:") + " " + subject
            body = gettext(
                "%(what)s since %(time)s at %(camera)s (%(site)s).",
                what=_capitalised(rule_kind.alert_text(gettext(kind), alert["value"] or 0.0, alert.get("details"))),
                time=started,
                camera=camera.name if camera else "?",
                site=camera.site.name if camera else "?",
            )
            if kind == "camera_offline":
                body = gettext(
                    "The camera %(camera)s (%(site)s) has sent nothing since %(time)s, during its active hours.",
                    camera=camera.name if camera else "?",
                    site=camera.site.name if camera else "?",
                    time=started,
                )
            body += "\n" + current_app.config["PUBLIC_URL"] + "/live"
        sent += send_mail(user.email, subject, body)
    return sent


jobs.register("emotiscan.email_alert", email_alert)
