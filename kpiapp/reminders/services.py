"""Send the reminders the rules ask for today, and log them (docs/reminders.md).

`send_reminders(today)` collects the duties of every running cycle (scorecard stages, open
appeals, open disputes), lets rules.decide pick today's reminders, and for each one writes the
notification (kpiapp.notifications.services.notify: their channels, language, a deep link) and its reminder_log
lines, in the caller's transaction. Flushes, never commits. A second run on the same day finds
the log and sends nothing; the unique (cycle, stage, person, recipient, day) index stops two
runs racing (one of them fails and rolls back).
"""
from collections import defaultdict
from datetime import datetime, time, timedelta, timezone

from flask import current_app
from flask_babel import force_locale, format_date
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from kpiapp import audit
from kpiapp.appraisal import queries
from kpiapp.appraisal.appeal_flow import AppealState
from kpiapp.appraisal.dispute_flow import DisputeState
from kpiapp.appraisal.disputes import handlers_of, scope_store_ids
from kpiapp.appraisal.notifications import hr_users
from kpiapp.appraisal.workflow import NEXT_ACTOR, Relation
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from kpiapp.connectors.services import stale_notices
from kpiapp.models import (Appeal, Cycle, Dispute, Notification, ReminderKind, ReminderLog, Scorecard,
                           ScorecardItem, User)
from kpiapp.models.appraisal import CycleStatus
from kpiapp.notifications.messages import reader_locale
from kpiapp.notifications.services import notify
from kpiapp.reminders import rules
from kpiapp.reminders.messages import task_text

# the scorecard stages reminders run on: their deadline column and the states in which the step is owed
STAGES = {
    "targets": ("targets_due", (S.DRAFT, S.RETURNED)),
    "approval": ("approval_due", (S.SUBMITTED, S.HR_APPROVAL)),
    "self_review": ("self_review_due", (S.SELF_REVIEW,)),
    "manager_review": ("manager_review_due", (S.MANAGER_REVIEW,)),
    "calibration": ("calibration_due", (S.CALIBRATION,)),
}
ORDER = list(S)
DISPUTE_DAYS = 7  # a dispute is handled within a week, and before the lock (calibration deadline)


def settings_of(cycle):
    return rules.Settings(before=rules.parse_before(cycle.remind_before), every=cycle.remind_every,
                          escalate_after=cycle.escalate_after, enabled=cycle.reminders_on)


def reminded_cycles():
    return list(db.session.execute(select(Cycle).where(Cycle.status == CycleStatus.running,
                                                       Cycle.reminders_on.is_(True))
                                   .order_by(Cycle.id)).scalars())


# ---- duties ---------------------------------------------------------------------------

def actors(card, state, hr):
    """Who owes the step of a scorecard in `state` (as notifications.next_actors)."""
    who, person = NEXT_ACTOR[state], card.person
    if who == Relation.OWNER:
        return [person]
    if who == Relation.MANAGER and person.manager is not None:
        return [person.manager]
    return [u for u in hr if u.id != person.id]


def card_duties(card, cycle, hr):
    """The card's duty in the stage it is in (acted=False) and in the stages it has left
    (acted=True); none for stages it has not reached or without a deadline."""
    out = []
    at = ORDER.index(card.state)
    for stage, (field, states) in STAGES.items():
        due = getattr(cycle, field)
        if due is None or at < ORDER.index(states[0]):
            continue
        acted = card.state not in states
        for actor in actors(card, states[0] if acted else card.state, hr):
            out.append(rules.Duty(cycle.id, stage, card.person_id, actor.id, due, actor.manager_id, acted,
                                  card.id))
    return out


def scorecard_duties(cycle, hr, cards):
    """The duties of the cycle's latest scorecards; `cards` keeps them by id (messages link them)."""
    loaded = queries.cycle_scorecards(cycle.id)
    cards.update((card.id, card) for card in loaded)
    return [duty for card in loaded for duty in card_duties(card, cycle, hr)]


def appeal_duties(cycle, hr):
    """Open appeals: the owner's direct manager (or HR without one) owes the reply by the deadline."""
    appeals = db.session.execute(
        select(Appeal).join(Scorecard, Scorecard.id == Appeal.scorecard_id)
        .where(Scorecard.cycle_id == cycle.id, Appeal.deadline.is_not(None))
        .options(selectinload(Appeal.scorecard).selectinload(Scorecard.person))).scalars()
    out = []
    for appeal in appeals:
        person = appeal.scorecard.person
        for actor in [person.manager] if person.manager else [u for u in hr if u.id != person.id]:
            out.append(rules.Duty(cycle.id, "appeal", person.id, actor.id, appeal.deadline, actor.manager_id,
                                  appeal.status != AppealState.OPEN, appeal.scorecard_id))
    return out


def dispute_due(dispute, cycle):
    due = dispute.created_at.date() + timedelta(days=DISPUTE_DAYS)
    return min(due, cycle.calibration_due) if cycle.calibration_due else due


def dispute_duties(cycle):
    """Open disputes: HR and the owners of the item's stores owe the handling (never the raiser
    or the scorecard's owner)."""
    disputes = db.session.execute(
        select(Dispute).join(Scorecard, Scorecard.id == Dispute.scorecard_id)
        .where(Scorecard.cycle_id == cycle.id, Dispute.status == DisputeState.OPEN)
        .options(selectinload(Dispute.scorecard).selectinload(Scorecard.person))).scalars()
    out = []
    for dispute in disputes:
        item = db.session.get(ScorecardItem, dispute.scorecard_item_id)
        person = dispute.scorecard.person
        for actor in handlers_of(scope_store_ids(item)):
            if actor.id not in (dispute.raised_by_id, person.id):
                out.append(rules.Duty(cycle.id, "dispute", person.id, actor.id, dispute_due(dispute, cycle),
                                      actor.manager_id, False, dispute.scorecard_id))
    return out


# ---- sending --------------------------------------------------------------------------

def sent_today(today):
    rows = db.session.execute(select(ReminderLog.recipient_id, ReminderLog.cycle_id, ReminderLog.stage)
                              .where(ReminderLog.day == today).distinct())
    return {(*row, today) for row in rows}


def send_reminders(today):
    """Send today's reminders for every running cycle; returns how many messages were sent."""
    cycles = {cycle.id: cycle for cycle in reminded_cycles()}
    hr, cards = hr_users(), {}
    duties = [duty for cycle in cycles.values()
              for duty in (*scorecard_duties(cycle, hr, cards), *appeal_duties(cycle, hr), *dispute_duties(cycle))]
    settings = {cycle_id: settings_of(cycle) for cycle_id, cycle in cycles.items()}
    reminders = rules.decide(duties, today, settings.__getitem__, sent_today(today))
    people = users_by_id({d.actor for r in reminders for d, _k in r.duties}
                         | {d.subject for r in reminders for d, _k in r.duties} | {r.recipient for r in reminders})
    for reminder in reminders:
        send_one(reminder, cycles[reminder.cycle], people, cards, today)
    for cycle_id in sorted({r.cycle for r in reminders}):
        count = sum(1 for r in reminders if r.cycle == cycle_id)
        audit.record(db.session, "reminders.send", "cycle", cycle_id, after={"day": today.isoformat(),
                                                                             "messages": count})
    db.session.flush()
    return len(reminders)


def users_by_id(ids):
    return {u.id: u for u in db.session.execute(select(User).where(User.id.in_(ids or [0]))).scalars()}


def send_one(reminder, cycle, people, cards, today):
    recipient = people[reminder.recipient]
    with force_locale(reader_locale(recipient)):
        params = message_params(reminder, cycle, people)
    card_ids = {duty.ref for duty, _kind in reminder.duties}
    link = card_link(cycle, card_ids)
    card = (cards.get(next(iter(card_ids))) or db.session.get(Scorecard, next(iter(card_ids)))
            if len(card_ids) == 1 else None)
    notes = notify([recipient], "reminder", f"reminder.{reminder.kind}", link=link, scorecard=card, **params)
    if not notes:
        return  # an inactive recipient is told nothing
    for (subject, kind), ref in subjects(reminder).items():
        db.session.add(ReminderLog(cycle_id=cycle.id, stage=reminder.stage, person_id=subject,
                                   recipient_id=recipient.id, kind=ReminderKind(kind), day=today,
                                   due=reminder.due, scorecard_id=ref, notification=notes[0]))


def subjects(reminder):
    """{(person, kind): scorecard id}: one log line per person the reminder is about."""
    out = {}
    for duty, kind in reminder.duties:
        if not any(s == duty.subject for s, _k in out):
            out[(duty.subject, kind)] = duty.ref
    return out


def message_params(reminder, cycle, people):
    """Parameters in the current (recipient's) language: the task, the date, whose steps; and
    what they were made from (stage, others, due_on), for the inbox to write them in its reader's
    language (messages.localised)."""
    others = sorted({people[d.subject].name for d, _k in reminder.duties if d.subject != reminder.recipient})
    if reminder.kind == rules.Kind.ESCALATION:
        others = []
    late = sorted({people[d.actor].name for d, kind in reminder.duties if kind == rules.Kind.ESCALATION})
    return {"task": task_text(reminder.stage, others), "cycle": cycle.name,
            "due": format_date(reminder.due, "medium"), "days": reminder.days, "people": ", ".join(late),
            "stage": reminder.stage, "others": others, "due_on": reminder.due.isoformat()}


def card_link(cycle, card_ids):
    """The app path of the scorecard when the reminder is about one, else of the inbox (built
    without a request: the job and the CLI have none)."""
    urls = current_app.url_map.bind("localhost")
    if len(card_ids) == 1:
        return urls.build("scorecards.detail", {"scorecard_id": next(iter(card_ids))})
    return urls.build("inbox.index")


# ---- weekly at-risk digest for managers -----------------------------------------------

def at_risk_digest(today):
    """Once per ISO week: one message per manager listing their direct reports' items at risk
    (tracking.alerts' computation), for every running cycle. Returns the messages sent."""
    from kpiapp.tracking.alerts import at_risk_items, week_of

    sent = 0
    for cycle in reminded_cycles():
        if today > cycle.period_end:
            continue  # after the period it is a result, not a risk (as alerts.notify_at_risk)
        teams = defaultdict(list)
        for card, items in at_risk_items(cycle.id, today).items():
            if card.person.manager is not None:
                teams[card.person.manager].append((card, sorted(items, key=lambda i: i.seq)))
        done = digested(cycle.id, week_of(today))
        for manager, cards in sorted(teams.items(), key=lambda pair: pair[0].id):
            if manager.id not in done:
                send_digest(manager, cycle, sorted(cards, key=lambda pair: pair[0].person.name), today)
                sent += 1
    db.session.flush()
    return sent


def digested(cycle_id, monday):
    return set(db.session.execute(select(ReminderLog.recipient_id).where(
        ReminderLog.cycle_id == cycle_id, ReminderLog.stage == "at_risk",
        ReminderLog.day >= monday, ReminderLog.day < monday + timedelta(days=7))).scalars())


def send_digest(manager, cycle, cards, today):
    items = "; ".join(f"{card.person.name}: {', '.join(i.name for i in items)}" for card, items in cards)
    link = current_app.url_map.bind("localhost").build("cycles.health", {"cycle_id": cycle.id}) \
        if manager.role in ("hr", "admin") else current_app.url_map.bind("localhost").build("inbox.index")
    notes = notify([manager], "reminder", "reminder.team_at_risk", link=link, cycle=cycle.name, items=items)
    if not notes:
        return
    for card, _items in cards:
        db.session.add(ReminderLog(cycle_id=cycle.id, stage="at_risk", person_id=card.person_id,
                                   recipient_id=manager.id, kind=ReminderKind.digest, day=today,
                                   scorecard_id=card.id, notification=notes[0]))


# ---- connector data older than its freshness (issue 15's connectors) -------------------

def stale_connection_reminders(today):
    """Tell the owners of a connected store and the admins that its data is older than the
    connection's freshness setting (kpiapp.connectors.services.stale_notices), once a day per
    person and connection. Returns the messages sent."""
    sent = 0
    for notice in stale_notices(datetime.combine(today, time(12), tzinfo=timezone.utc)):
        for person in notice.people:
            if already_told(person, notice.label, today):
                continue
            with force_locale(reader_locale(person)):
                as_of = format_date(notice.as_of, "medium") if notice.as_of else "—"
            notify([person], "reminder", "reminder.stale_connection", link=notice.link,
                   connection=notice.label, as_of=as_of, day=today.isoformat())
            sent += 1
    return sent


def already_told(person, label, today):
    """Whether `person` was told about `label` on `today` (the day the run stands for)."""
    rows = db.session.execute(select(Notification.params).where(
        Notification.user_id == person.id, Notification.key == "reminder.stale_connection")).scalars()
    return any((params or {}).get("connection") == label and (params or {}).get("day") == today.isoformat()
               for params in rows)