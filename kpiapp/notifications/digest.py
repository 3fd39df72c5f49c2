"""E-mail digests: one mail a day or a week, for the people who chose it (preferences), of what
waits for them: their unread notifications since the last digest and the scorecards and
appeals waiting for their action. Scheduled as `digest-daily` and `digest-weekly`
(kpiapp/schedule.py); a person with nothing waiting gets no mail.
"""
from datetime import timedelta

from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from kpiapp.extensions import db
from kpiapp.models import (Channel, Digest, Notification, NotificationDelivery, NotificationPreference, User)
from kpiapp.models.base import utcnow
from kpiapp.notifications import delivery, messages, services
from kpiapp.notifications.channels import email

WINDOWS = {Digest.daily: timedelta(days=1), Digest.weekly: timedelta(days=7)}
MAX_LINES = 50


def subscribers(frequency):
    query = (select(User).join(NotificationPreference, NotificationPreference.user_id == User.id)
             .where(NotificationPreference.kind == services.DEFAULTS, NotificationPreference.digest == frequency,
                    User.active.is_(True)).order_by(User.id))
    return list(db.session.execute(query).scalars())


def send_digests(frequency, now=None):
    """Queue one digest mail per subscriber with something waiting; commits; returns how many."""
    frequency, now = Digest(frequency), now or utcnow()
    if not services.mail_configured():
        return 0
    count = 0
    for user in subscribers(frequency):
        row = digest_for(user, since(user, now - WINDOWS[frequency]))
        if row is not None:
            delivery.add(row)
            count += 1
    db.session.commit()
    return count


def since(user, default):
    last = db.session.execute(select(func.max(NotificationDelivery.created_at)).where(
        NotificationDelivery.user_id == user.id, NotificationDelivery.purpose == "digest")).scalar()
    return max(last, default) if last is not None else default


def unread_since(user, start):
    rows = db.session.execute(select(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None), Notification.created_at > start)
        .order_by(Notification.created_at, Notification.id)).scalars()
    return [note for note in rows if Channel.email in services.channels_for(user, note.kind)]


def digest_for(user, start):
    """The digest delivery row for `user` (not yet added), or None when nothing waits."""
    from kpiapp.appraisal.notifications import appeals_waiting_for, waiting_for

    if not user.email:
        return None
    notes = unread_since(user, start)
    waiting = len(waiting_for(user)) + len(appeals_waiting_for(user))
    if not notes and not waiting:
        return None
    with force_locale(messages.reader_locale(user)):
        subject, body = compose(notes, waiting)
    return NotificationDelivery(user_id=user.id, channel=Channel.email, purpose="digest", subject=subject, body=body)


def compose(notes, waiting):
    lines = [messages.text(note) for note in notes[:MAX_LINES]]
    if len(notes) > MAX_LINES:
        lines.append(gettext("… and %(n)s more.", n=len(notes) - MAX_LINES))
    if waiting:
        lines.append(gettext("Waiting for your action: %(n)s.", n=waiting))
    subject = gettext("[kpiapp] What waits for you")
    heading = gettext("What waits for you in kpiapp:")
    footer = gettext("Open your inbox: %(url)s", url=delivery.absolute("/inbox/"))
    return subject, email.digest_body(heading, lines, footer)
