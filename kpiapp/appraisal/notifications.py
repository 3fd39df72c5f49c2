"""Who must act next on a scorecard: in-app notifications, the inbox, optional e-mail.

E-mail goes out only when MAIL_SERVER is configured, and only after the
transaction commits (a rolled-back approval must not mail anyone): messages wait
in `session.info["mail_outbox"]` and an after_commit hook hands them to a job.
"""
from dataclasses import dataclass, field

from flask import current_app, has_app_context
from sqlalchemy import and_, event, exists, or_, select
from sqlalchemy.orm import Session, aliased, selectinload

from kpiapp.appraisal.workflow import NEXT_ACTOR, Relation
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from kpiapp.models import Acknowledgement, Notification, Role, Scorecard, User
from kpiapp.models.base import utcnow

MESSAGES = {
    S.DRAFT: "Draft your targets for {cycle}.",
    S.RETURNED: "Your targets for {cycle} were returned: please revise and resubmit.",
    S.SUBMITTED: "{person} submitted targets for {cycle}: please approve or return them.",
    S.HR_APPROVAL: "{person}'s targets for {cycle} need HR approval.",
    S.APPROVED: "Your targets for {cycle} are approved.",
    S.SELF_REVIEW: "Self-review for {cycle} is open.",
    S.MANAGER_REVIEW: "{person}'s scorecard for {cycle} is ready for your review.",
    S.CALIBRATION: "{person}'s scorecard for {cycle} is ready for calibration.",
    S.LOCKED: "Your result for {cycle} is final: please acknowledge it.",
}


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


def notify(users, scorecard, kind, message):
    """Add one in-app notification per user (and queue the e-mail if configured)."""
    for user in users:
        db.session.add(Notification(user_id=user.id, scorecard_id=scorecard.id, kind=kind, message=message))
        queue_mail(user.email, f"[kpiapp] {message}", message)


def notify_next(scorecard, kind=None):
    """Tell whoever must act next on `scorecard` (after a transition)."""
    text = MESSAGES[scorecard.state].format(cycle=scorecard.cycle.name, person=scorecard.person.name)
    notify(next_actors(scorecard), scorecard, kind or f"scorecard.{scorecard.state}", text)


@dataclass
class Inbox:
    notifications: list = field(default_factory=list)
    waiting: list = field(default_factory=list)


def inbox(user):
    """Unread notifications plus the scorecards waiting for `user`'s action."""
    unread = db.session.execute(
        select(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    ).scalars().all()
    return Inbox(list(unread), waiting_for(user))


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


# ---- e-mail -----------------------------------------------------------------------------

def queue_mail(to, subject, body):
    if not has_app_context() or not current_app.config.get("MAIL_SERVER") or not to:
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
