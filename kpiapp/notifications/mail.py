"""E-mail: one plain-text message through the configured SMTP server (MAIL_* settings).

`queue_mail` holds a message until the session commits, then sends it as a job; a rollback
drops it. Used by the e-mail channel (delivery.py) and by client invites."""
from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from kpiapp.extensions import db


def mail_configured():
    return has_app_context() and bool(current_app.config.get("MAIL_SERVER"))


def queue_mail(to, subject, body):
    if not mail_configured() or not to:
        return
    db.session.info.setdefault("mail_outbox", []).append((to, subject, body))


def send_mail(to, subject, body):
    """Job: send one plain-text message through the configured SMTP server."""
    import smtplib
    from email.message import EmailMessage

    config = current_app.config
    message = EmailMessage()
    message["From"] = config.get("MAIL_DEFAULT_SENDER", "kpiapp@localhost")
    message["To"], message["Subject"] = to, subject
    message.set_content(body)
    with smtplib.SMTP(config["MAIL_SERVER"], int(config.get("MAIL_PORT", 25)), timeout=30) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD", ""))
        smtp.send_message(message)


@event.listens_for(Session, "after_commit")
def _send_outbox(session):
    outbox = session.info.pop("mail_outbox", [])
    if not outbox:
        return
    from kpiapp import jobs

    for to, subject, body in outbox:
        try:
            jobs.enqueue(send_mail, to, subject, body, timeout=60)
        except Exception:  # mail is best effort: the in-app notification is already committed
            current_app.logger.exception("could not send notification mail to %s", to)


@event.listens_for(Session, "after_rollback")
def _drop_outbox(session):
    session.info.pop("mail_outbox", None)
