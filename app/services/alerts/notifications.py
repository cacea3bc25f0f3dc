"""E-mail to the users who asked for alert notifications, in their language."""

from __future__ import annotations

from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import select

from app import jobs
from app.extensions import db
from app.infra.mail import send_mail
from app.models import Camera, User
from app.models.tenancy import get_owned
from app.tenancy import allowed_site_ids


def recipients(tenant_id: int, site_id: int, managers: bool = False) -> list[User]:
    """Users who asked for alert e-mails, or (escalation) the site's admins and managers."""
    stmt = select(User).where(User.tenant_id == tenant_id)
    stmt = stmt.where(User.role.in_(("admin", "manager"))) if managers else stmt.where(User.notify_alerts.is_(True))
    return [u for u in db.session.scalars(stmt) if (allowed_site_ids(u) is None or site_id in allowed_site_ids(u))]


def email_alert(tenant_id: int, site_id: int, alert: dict, escalation: bool = False) -> int:
    """Send one e-mail per recipient; returns how many were sent."""
    camera = get_owned(Camera, alert.get("camera_id"), tenant_id)
    kind = alert["emotion"]  # a variable, so that the extractor does not take the key for a message
    sent = 0
    for user in recipients(tenant_id, site_id, managers=escalation):
        with force_locale(user.locale or "fr"):
            subject = gettext(
                "EmotiScan alert: %(emotion)s at %(camera)s", emotion=gettext(kind), camera=camera.name if camera else "?"
            )
            if kind == "camera_offline":
                subject = gettext("EmotiScan: camera %(camera)s stopped sending", camera=camera.name if camera else "?")
            if escalation:
                subject = gettext("Not acknowledged:") + " " + subject
            body = gettext(
                "%(emotion)s above the rule's threshold (%(value)d %%) since %(time)s at %(camera)s (%(site)s).",
                emotion=gettext(kind),
                value=round(alert["value"] * 100),
                time=alert["started_at"],
                camera=camera.name if camera else "?",
                site=camera.site.name if camera else "?",
            )
            if kind == "camera_offline":
                body = gettext(
                    "The camera %(camera)s (%(site)s) has sent nothing since %(time)s, during its active hours.",
                    camera=camera.name if camera else "?",
                    site=camera.site.name if camera else "?",
                    time=alert["started_at"],
                )
            body += "\n" + current_app.config["PUBLIC_URL"] + "/live"
        sent += send_mail(user.email, subject, body)
    return sent


jobs.register("emotiscan.email_alert", email_alert)
