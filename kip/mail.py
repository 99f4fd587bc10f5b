"""Outgoing mail through the configured SMTP server (``KIP_MAIL_*``)."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from typing import Any

log = logging.getLogger(__name__)


class MailNotSent(RuntimeError):
    pass


def send_mail(config: dict[str, Any], to: str, subject: str, body: str) -> bool:
    """Send a plain-text mail; return False when no SMTP server is configured.

    Without ``MAIL_SERVER`` (a local install), the message is written to the log so an
    operator can still pass a reset link on.
    """
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    if not config.get("MAIL_SERVER"):
        log.warning("no MAIL_SERVER configured; mail to %s not sent:\n%s", to, body)
        return False
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], int(config["MAIL_PORT"]), timeout=10) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailNotSent(f"the mail server did not accept the message: {exc}") from exc
    return True
