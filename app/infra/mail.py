"""Outgoing e-mail over SMTP (settings in the config). Without MAIL_SERVER, as in the embedded
default, the message is written to the application log so that a local user can follow links."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from flask import current_app

log = logging.getLogger(__name__)


def send_mail(to: str, subject: str, body: str, attachments: list[tuple[str, bytes, str]] | None = None) -> bool:
    """Send one message; ``attachments`` are (file name, content, MIME type) triples."""
    cfg = current_app.config
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = cfg["MAIL_FROM"], to, subject
    msg.set_content(body)
    for filename, content, mime in attachments or []:
        maintype, subtype = mime.split("/", 1)
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    if not cfg.get("MAIL_SERVER"):
        log.info("MAIL_SERVER is not set; e-mail to %s: %s (%d attachments)\n%s", to, subject, len(attachments or []), body)
        return False
    try:
        with smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=10) as smtp:
            if cfg.get("MAIL_USE_TLS"):
                smtp.starttls()
            if cfg.get("MAIL_USERNAME"):
                smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
            smtp.send_message(msg)
        return True
    except (OSError, smtplib.SMTPException):
        log.exception("sending e-mail to %s failed", to)
        return False
