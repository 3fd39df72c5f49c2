"""Who must act next on a scorecard: in-app notifications, the inbox, optional e-mail.

E-mail goes out only when MAIL_SERVER is configured, and only after the
transaction commits (a rolled-back approval must not mail anyone): messages wait
in `session.info["mail_outbox"]` and an after_commit hook hands them to a job.
"""
from dataclasses import dataclass, field

from flask import current_app, has_app_context
from flask_babel import force_locale, gettext
from sqlalchemy import and_, event, exists, or_, select
from sqlalchemy.orm import Session, aliased, selectinload

from kpiapp.appraisal.appeal_flow import AppealState
from kpiapp.appraisal.workflow import NEXT_ACTOR, Relation
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from kpiapp.i18n import N_
from kpiapp.models import Acknowledgement, Appeal, Notification, Role, Scorecard, User
from kpiapp.models.base import utcnow

# What a notification says, by its key; rendered when it is read, in the reader's language
# (inbox, e-mail): a notification stores its key and params, not English text.
MESSAGES = {
    "scorecard.draft": N_("Draft your targets for %(cycle)s."),
    "scorecard.returned": N_("Your targets for %(cycle)s were returned: please revise and resubmit."),
    "scorecard.submitted": N_("%(person)s submitted targets for %(cycle)s: please approve or return them."),
    "scorecard.hr_approval": N_("%(person)s's targets for %(cycle)s need HR approval."),
    "scorecard.approved": N_("Your targets for %(cycle)s are approved."),
    "scorecard.self_review": N_("Self-review for %(cycle)s is open."),
    "scorecard.manager_review": N_("%(person)s's scorecard for %(cycle)s is ready for your review."),
    "scorecard.calibration": N_("%(person)s's scorecard for %(cycle)s is ready for calibration."),
    "scorecard.locked": N_("Your result for %(cycle)s is final: please acknowledge it."),
    "change_requested": N_("%(actor)s asks to change targets of %(person)s: %(reason)s"),
    "change_approved": N_("Your change request for %(cycle)s was approved."),
    "change_rejected": N_("Your change request for %(cycle)s was rejected."),
    "objection": N_("%(actor)s objects to the result for %(cycle)s: %(comment)s"),
    "appeal.raised": N_("%(actor)s appeals the result for %(cycle)s: %(reason)s"),
    "appeal.answered": N_("Your appeal for %(cycle)s was answered."),
    "appeal.closed": N_("Your appeal for %(cycle)s was closed; the result stands."),
    "dispute.raised": N_("%(actor)s disputes the number %(item)s of %(person)s (%(cycle)s): %(comment)s"),
    "dispute.corrected": N_("The disputed number %(item)s of %(person)s (%(cycle)s) was corrected."),
    "dispute.rejected": N_("The dispute on %(item)s of %(person)s (%(cycle)s) was rejected: %(reason)s"),
    "dispute.closed": N_("The dispute on %(item)s of %(person)s (%(cycle)s) was closed."),
    "dispute.lock_allowed": N_("HR allowed the lock of %(person)s (%(cycle)s) while the dispute on %(item)s "
                               "is open: %(reason)s"),
    "pace.at_risk": N_("At the current pace these items of %(cycle)s will miss their threshold: %(items)s."),
    # contract reports (kpiapp/contracts/notifications.py)
    "contract_report.sent": N_("The KPI report %(period)s of contract %(contract)s (revision %(revision)s) "
                               "is ready for your review."),
    "contract_report.disputed": N_("The client disputes %(clause)s in the KPI report %(period)s of contract "
                                   "%(contract)s: %(comment)s"),
    "contract_report.accepted": N_("The client accepted the KPI report %(period)s of contract %(contract)s "
                                   "(revision %(revision)s); the signed PDF is issued."),
    "comment.mention": N_("%(actor)s mentioned you in a comment on %(target)s."),
    "task.assigned": N_("%(actor)s gave you a task: %(target)s."),
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


def notify(users, scorecard, kind, key, **params):
    """Add one in-app notification per user (and queue the e-mail, in the user's language, if
    configured). `key` names the message in MESSAGES; `params` fill it in."""
    params = {"cycle": scorecard.cycle.name, "person": scorecard.person.name, **params}
    for user in users:
        note = Notification(user_id=user.id, scorecard_id=scorecard.id, kind=kind, key=key, params=params)
        db.session.add(note)
        if mail_configured() and user.email:
            body = text(note, reader_locale(user))
            queue_mail(user.email, f"[kpiapp] {body}", body)


def notify_next(scorecard, kind=None):
    """Tell whoever must act next on `scorecard` (after a transition)."""
    key = f"scorecard.{scorecard.state}"
    notify(next_actors(scorecard), scorecard, kind or key, key)


def text(notification, locale=None):
    """What the notification says, in `locale` (default: the current request's language).
    A row whose key is unknown (written before keys existed) shows the text it was stored with."""
    message = MESSAGES.get(notification.key or "")
    if message is None:
        return notification.message or ""
    if locale is None:
        return render(message, notification)
    with force_locale(locale):
        return render(message, notification)


def reader_locale(user):
    """The language a message to `user` outside a page (e-mail) is written in."""
    config = current_app.config
    return user.locale if user.locale in config["LANGUAGES"] else config["BABEL_DEFAULT_LOCALE"]


def render(message, notification):
    try:
        return gettext(message, **(notification.params or {}))
    except (KeyError, TypeError, ValueError):  # params that no longer fit the message
        current_app.logger.warning("notification %s: params do not fit %r", notification.id, notification.key)
        return notification.message or str(notification.key)


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
