"""Kept for callers of ``app.services.notifications``: the alert e-mails live in app/services/alerts/."""

from app.services.alerts.notifications import email_alert, recipients

__all__ = ["email_alert", "recipients"]
