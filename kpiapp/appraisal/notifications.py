"""Who must act next on a scorecard, and the inbox; notifications go through the one layer,
kpiapp/notifications (in-app, e-mail, IM), which sends only after the transaction commits.

`queue_mail` / `send_mail` remain for mail that is not a notification (client invites): it
waits in `session.info["mail_outbox"]` and an after_commit hook hands it to a job.
"""
from dataclasses import dataclass, field

from flask import current_app, has_app_context
from sqlalchemy import and_, event, exists, or_, select
from sqlalchemy.orm import Session, aliased, selectinload

from kpiapp.appraisal.appeal_flow import AppealState
from kpiapp.appraisal.workflow import NEXT_ACTOR, Relation
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from kpiapp.models import Acknowledgement, Appeal, Notification, Role, Scorecard, User
from kpiapp.notifications import messages, services
from kpiapp.models.base import utcnow

# What each key says lives in kpiapp/notifications/messages.py (re-exported for old callers).
MESSAGES = messages.MESSAGES
text = messages.text
reader_locale = messages.reader_locale


def hr_users(exclude_id=None):
    rows = db.session.execute(select(User).where(User.role == Role.hr, User.active.is_(True)))
    return [u for u in rows.scalars() if u.id != exclude_id]


def next_actors(scorecard):
    """The people whose move it is on `scorecard` now."""
    who = NEXT_ACTOR[scorecard.state]
    person = scorecard.person
    if who == Relation.OWNER:
        return [person]
    if who == Relation.MANAGER and person.manager is not None:
        return [person.manager]
    return hr_users(exclude_id=person.id)


def notify(users, scorecard, kind, key, /, link=None, **params):
    """Tell `users` about an event on `scorecard` through the one notification layer
    (kpiapp/notifications/services.py), linking to `link` or else the scorecard's page. `key`
    names the message in MESSAGES; `params` fill it in (cycle and person are added)."""
    params = {"cycle": scorecard.cycle.name, "person": scorecard.person.name, **params}
    return services.notify(users, kind, key, link=link or scorecard_link(scorecard), scorecard=scorecard, **params)


def scorecard_link(scorecard):
    return f"/scorecards/{scorecard.id}"


def notify_next(scorecard, kind=None):
    """Tell whoever must act next on `scorecard` (after a transition)."""
    key = f"scorecard.{scorecard.state}"
    notify(next_actors(scorecard), scorecard, kind or key, key)


@dataclass
class Inbox:
    notifications: list = field(default_factory=list)
    waiting: list = field(default_factory=list)
    appeals: list = field(default_factory=list)  # appeals waiting for my answer (or, HR, to close)


def inbox(user):
    """Unread notifications plus the scorecards waiting for `user`'s action."""
    unread = db.session.execute(
        select(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    ).scalars().all()
    return Inbox(list(unread), waiting_for(user), appeals_waiting_for(user))


def mark_read(user, notification_ids):
    """Mark the user's own notifications read; ids of other users are ignored."""
    rows = db.session.execute(select(Notification).where(
        Notification.id.in_(notification_ids), Notification.user_id == user.id,
        Notification.read_at.is_(None))).scalars().all()
    for row in rows:
        row.read_at = utcnow()
    return len(rows)


def waiting_for(user):
    """Latest-version scorecards whose next move is `user`'s (see NEXT_ACTOR)."""
    person = aliased(User)
    newer = aliased(Scorecard)
    superseded = exists().where(newer.cycle_id == Scorecard.cycle_id, newer.person_id == Scorecard.person_id,
                                newer.version > Scorecard.version)
    acknowledged = exists().where(Acknowledgement.scorecard_id == Scorecard.id)
    mine = and_(Scorecard.person_id == user.id, or_(
        Scorecard.state.in_([S.DRAFT, S.RETURNED, S.SELF_REVIEW]),
        and_(Scorecard.state == S.LOCKED, ~acknowledged)))
    clauses = [mine, and_(person.manager_id == user.id,
                          Scorecard.state.in_([S.SUBMITTED, S.MANAGER_REVIEW]))]
    if user.role == Role.hr:
        clauses.append(and_(Scorecard.person_id != user.id,
                            Scorecard.state.in_([S.HR_APPROVAL, S.CALIBRATION])))
    # the inbox shows each card's person, cycle and return reason: loaded for all rows at once
    query = (select(Scorecard).join(person, person.id == Scorecard.person_id)
             .where(or_(*clauses), ~superseded).order_by(Scorecard.id)
             .options(selectinload(Scorecard.person), selectinload(Scorecard.cycle),
                      selectinload(Scorecard.events)))
    return list(db.session.execute(query).scalars())


def appeals_waiting_for(user):
    """Open appeals of my direct reports (and, for HR, every open appeal and the answered ones
    to close), oldest deadline first; never an appeal about my own scorecard."""
    person = aliased(User)
    clauses = [and_(Appeal.status == AppealState.OPEN, person.manager_id == user.id)]
    if user.role == Role.hr:
        clauses.append(Appeal.status.in_([AppealState.OPEN, AppealState.ANSWERED]))
    newer = aliased(Scorecard)
    superseded = exists().where(newer.cycle_id == Scorecard.cycle_id, newer.person_id == Scorecard.person_id,
                                newer.version > Scorecard.version)  # a reopen answered it otherwise
    query = (select(Appeal).join(Scorecard, Scorecard.id == Appeal.scorecard_id)
             .join(person, person.id == Scorecard.person_id)
             .where(or_(*clauses), Scorecard.person_id != user.id, ~superseded)
             .order_by(Appeal.deadline, Appeal.id)
             .options(selectinload(Appeal.scorecard).selectinload(Scorecard.person),
                      selectinload(Appeal.scorecard).selectinload(Scorecard.cycle)))
    return list(db.session.execute(query).scalars())


# ---- e-mail -----------------------------------------------------------------------------

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
