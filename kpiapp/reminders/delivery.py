"""The one call reminders make to tell someone: `notify(users, kind, key, *, link=None,
scorecard=None, **params)`, the signature of kpiapp/notifications/services.py (issue 16, part
A). Until that layer is merged this thin stand-in writes the existing Notification rows: the key
and params, plus the text rendered now in each user's language (the inbox shows `message` for a
key it does not know), and queues the e-mail when SMTP is set. Switching is one import."""
from flask_babel import force_locale, gettext

from kpiapp.appraisal.notifications import queue_mail, reader_locale
from kpiapp.extensions import db
from kpiapp.models import Notification
from kpiapp.reminders.messages import MESSAGES


def notify(users, kind, key, *, link=None, scorecard=None, **params):
    """One in-app notification per user (flushed, so its id can be logged); returns them."""
    rows = []
    for user in users:
        with force_locale(reader_locale(user)):
            text = gettext(MESSAGES[key], **params)
        row = Notification(user_id=user.id, scorecard_id=scorecard.id if scorecard else None, kind=kind,
                           key=key, params={**params, "link": link}, message=text)
        db.session.add(row)
        rows.append(row)
        if user.email:
            queue_mail(user.email, f"[kpiapp] {text}", f"{text}\n{link or ''}")
    db.session.flush()
    return rows
