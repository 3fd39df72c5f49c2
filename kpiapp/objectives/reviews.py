"""The weekly review of a manager's team (周会复盘, docs/objectives.md "Weekly review").

For each person who reports to the manager: their KPI items' and key results' values a week
before the review's day and on it (each computed over the period up to that day, so a past
week reads as it stood then), a few weeks of values for a sparkline, the items at risk, their
tasks done this week / overdue / due next week, and their open disputes. Notes and decisions
are kept on the review row; a decision becomes a task (`kpiapp.objectives.tasks.create_task`).
Closing the review freezes those numbers in `review.snapshot`: later imports change nothing
in a closed review. Services ring: flushes, never commits.
"""
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from kpiapp import audit, policy
from kpiapp.appraisal.dispute_flow import ACTIVE_STATES
from kpiapp.appraisal.queries import latest_only
from kpiapp.extensions import db
from kpiapp.metrics import batch
from kpiapp.metrics.services import DefinitionError, compute_metric
from kpiapp.models import (Cycle, Dispute, KeyResult, Objective, ReviewDecision, Scorecard, Task, User,
                           WeeklyReview)
from kpiapp.models.appraisal import CycleStatus, ItemKind
from kpiapp.models.objectives import Confidence, KrKind, ObjectiveStatus
from kpiapp.objectives import progress as okr_progress
from kpiapp.objectives.task_flow import TaskStatus
from kpiapp.tracking.paces import paced_items
from kpiapp.tracking.services import SCALE, item_shares, utc_today

WEEKS_SHOWN = 6  # the sparkline's points: this week and the five before
OPEN_TASKS = (TaskStatus.OPEN, TaskStatus.IN_PROGRESS)
RISKY = (Confidence.at_risk, Confidence.off_track)


class ReviewError(Exception):
    """A refused review action: a stable `code`, the English `message` (the log and the API),
    the form `field` it is about, and the HTTP `status` a page answers with."""

    def __init__(self, code, message, field=None):
        super().__init__(message)
        self.code, self.message, self.field = code, message, field
        self.status = 403 if code == "forbidden" else 422


# ---- weeks ------------------------------------------------------------------------------

def monday(day):
    return day - timedelta(days=day.weekday())


def as_of_day(week, today=None):
    """The day a review's numbers are taken: the week's Sunday, or today while it runs."""
    return min(week + timedelta(days=6), today or utc_today())


def parse_week(text):
    """The Monday of an ISO date ('2026-11-30'), or None for anything else."""
    try:
        return monday(date.fromisoformat(str(text)))
    except ValueError:
        return None


# ---- the review row -----------------------------------------------------------------------

def find_review(manager_id, week):
    return db.session.execute(select(WeeklyReview).where(
        WeeklyReview.manager_id == manager_id, WeeklyReview.week == week)).scalar_one_or_none()


def open_review(manager, week, actor):
    """The review of `manager`'s team for the week of `week`, created on first use."""
    require_runner(actor, manager)
    week = monday(week)
    review = find_review(manager.id, week)
    if review is None:
        review = WeeklyReview(manager_id=manager.id, week=week)
        db.session.add(review)
        db.session.flush()
    return review


def require_runner(actor, manager):
    if not policy.can_run_review(actor, manager):
        raise ReviewError("forbidden", "You may not run this team's review.")


def require_open(review):
    if review.closed_at is not None:
        raise ReviewError("closed", "This review is closed; its snapshot no longer changes.")


def save_notes(review, notes, actor):
    require_runner(actor, review.manager)
    require_open(review)
    review.notes = (notes or "").strip() or None
    db.session.flush()
    return review


def team_of(manager):
    """The active people who report to `manager`, by name."""
    return db.session.execute(select(User).where(User.manager_id == manager.id, User.active)
                              .order_by(User.name, User.id)).scalars().all()


# ---- decisions ------------------------------------------------------------------------------

def add_decision(review, values, actor):
    """A decision of the meeting: its text and owner (someone in the team or the manager);
    with values["task"] it becomes that owner's task at once, due values["due"]."""
    require_runner(actor, review.manager)
    require_open(review)
    text = (values.get("text") or "").strip()
    if not text:
        raise ReviewError("text_required", "Write the decision.", "text")
    owner = decision_owner(review, values.get("owner_id"))
    decision = ReviewDecision(review=review, text=text, owner_id=owner.id if owner else None)
    db.session.add(decision)
    db.session.flush()
    if values.get("task"):
        make_task(decision, actor, values.get("due"))
    return decision


def decision_owner(review, owner_id):
    if owner_id in (None, ""):
        return None
    allowed = {p.id: p for p in team_of(review.manager)} | {review.manager.id: review.manager}
    try:
        return allowed[int(owner_id)]
    except (KeyError, TypeError, ValueError):
        raise ReviewError("bad_owner", "Choose someone in this team.", "owner_id") from None


def make_task(decision, actor, due=None):
    """The decision as a task for its owner, linked to the review (one click on the page)."""
    from kpiapp.objectives import tasks

    require_runner(actor, decision.review.manager)
    if decision.task_id is not None:
        return decision.task
    if decision.owner_id is None:
        raise ReviewError("owner_required", "Give the decision an owner first.", "owner_id")
    try:
        task = tasks.create_task({"title": decision.text[:200], "description": decision.text,
                                  "assignee_id": decision.owner_id, "due": due or None,
                                  "review_id": decision.review_id}, actor)
    except tasks.TaskError as error:
        field = "owner_id" if error.field == "assignee_id" else "due" if error.field == "due" else None
        raise ReviewError(error.code, error.message, field) from None
    decision.task_id = task.id
    db.session.flush()
    return task


def previous_decisions(manager_id, week):
    """Last week's decisions of the same team, each with its task (and the task's status)."""
    before = find_review(manager_id, week - timedelta(days=7))
    return list(before.decisions) if before is not None else []


def decision_rows(decisions):
    return [{"id": d.id, "text": d.text, "owner": d.owner.name if d.owner else None,
             "task_id": d.task_id, "task_title": d.task.title if d.task else None,
             "task_status": str(d.task.status) if d.task else None,
             "task_due": d.task.due.isoformat() if d.task and d.task.due else None}
            for d in decisions]


# ---- close -----------------------------------------------------------------------------------

def close_review(review, actor, today=None):
    """Freeze the numbers as shown now: the snapshot never changes after this."""
    require_runner(actor, review.manager)
    require_open(review)
    review.snapshot = build_snapshot(review.manager, review.week, today)
    review.closed_at = datetime.now(timezone.utc)
    review.closed_by_id = actor.id
    db.session.flush()
    audit.record(db.session, "weekly_review.close", "weekly_review", review.id,
                 after={"week": review.week.isoformat(), "manager_id": review.manager_id,
                        "people": len(review.snapshot["people"])}, actor=audit.actor_for(actor))
    return review


def review_numbers(manager, week, review=None, today=None):
    """What the page shows: the frozen snapshot of a closed review, else the numbers now."""
    if review is not None and review.closed_at is not None and review.snapshot:
        return review.snapshot
    return build_snapshot(manager, week, today)


# ---- the numbers ------------------------------------------------------------------------------

def build_snapshot(manager, week, today=None):
    """The review's numbers as plain JSON (values as strings): per person their KPI items and
    key results (then → now, weekly points), tasks, open disputes; last week's decisions."""
    week = monday(week)
    now = as_of_day(week, today)
    days = [now - timedelta(days=7 * n) for n in range(WEEKS_SHOWN - 1, -1, -1)]
    people = team_of(manager)
    cards = person_cards([p.id for p in people], now)
    krs = person_key_results([p.id for p in people], now)
    items = [item for own in cards.values() for card in own for item in card.items
             if tracked(item)]
    values = item_values(items, days)
    # at risk: the pace rule on the tracked actuals (docs/pace.md), as of the review's day
    risky = {item.id for item, p in paced_items(items, now) if p.at_risk} if items else set()
    units = metric_units(items, [kr for rows in krs.values() for kr in rows])
    return {"units": units, "week": week.isoformat(), "as_of": now.isoformat(), "days": [d.isoformat() for d in days],
            "people": [person_block(p, cards.get(p.id, []), krs.get(p.id, []), values, risky, days, week)
                       for p in people],
            "previous": decision_rows(previous_decisions(manager.id, week))}


def metric_units(items, krs):
    """{metric key: its unit} for the items' and key results' metrics."""
    keys = {i.metric_key for i in items} | {kr.metric_key for kr in krs if kr.metric_key}
    return {key: definition.unit for key, (definition, _f, _m) in batch.load_formulas(keys).items()}


def tracked(item):
    return item.kind == ItemKind.metric and bool(item.metric_key)


def person_cards(person_ids, day):
    """{person id: [newest scorecard per cycle]} of started cycles whose period holds `day`."""
    if not person_ids:
        return {}
    query = latest_only(select(Scorecard).join(Cycle, Cycle.id == Scorecard.cycle_id).where(
        Scorecard.person_id.in_(person_ids), Cycle.status != CycleStatus.draft,
        Cycle.period_start <= day, Cycle.period_end >= day))
    cards = db.session.execute(query.options(selectinload(Scorecard.items), selectinload(Scorecard.cycle))
                               .order_by(Scorecard.cycle_id)).scalars().all()
    found = {}
    for card in cards:
        found.setdefault(card.person_id, []).append(card)
    return found


def person_key_results(person_ids, day):
    """{owner id: [key results]} of active objectives whose period holds `day`."""
    if not person_ids:
        return {}
    rows = db.session.execute(
        select(KeyResult).join(Objective, Objective.id == KeyResult.objective_id).where(
            KeyResult.owner_id.in_(person_ids), Objective.status == ObjectiveStatus.active,
            Objective.period_start <= day, Objective.period_end >= day)
        .options(selectinload(KeyResult.objective), selectinload(KeyResult.check_ins),
                 selectinload(KeyResult.milestones))
        .order_by(KeyResult.objective_id, KeyResult.seq, KeyResult.id)).scalars().all()
    found = {}
    for kr in rows:
        found.setdefault(kr.owner_id, []).append(kr)
    return found


def item_values(items, days):
    """{(item id, day): value or None}: each item's metric over its cycle's period up to each
    day, computed set-based (one `compute_scopes` for every item and day)."""
    scopes = {(item.id, day): item_scope_on(item, day) for item in items for day in days}
    results = batch.compute_scopes([s for s in scopes.values() if s]) if scopes else {}
    return {key: rounded(results.get(scope)) if scope else None for key, scope in scopes.items()}


def item_scope_on(item, day):
    cycle = item.scorecard.cycle if item.scorecard else None
    shares = item_shares(item.scope)
    end = min(day, cycle.period_end) if cycle else day
    if cycle is None or not shares or end < cycle.period_start:
        return None
    return batch.scope_of(item.metric_key, shares, cycle.period_start, end)


def rounded(result):
    value = getattr(result, "value", None)
    return None if value is None else value.quantize(SCALE, rounding=ROUND_HALF_UP)


def text(value):
    return None if value is None else format(Decimal(value).normalize(), "f")


def person_block(person, cards, krs, values, risky, days, week):
    items = [item_row(i, values, risky, days) for card in cards for i in card.items if tracked(i)]
    return {"id": person.id, "name": person.name, "items": items,
            "key_results": [kr_row(kr, days) for kr in krs],
            "tasks": task_rows(person.id, week, days[-1]), "disputes": dispute_rows(cards)}


def item_row(item, values, risky, days):
    series = [values.get((item.id, day)) for day in days]
    then, now = series[-2] if len(series) > 1 else None, series[-1]
    return {"id": item.id, "name": item.name, "metric_key": item.metric_key, "target": text(item.target),
            "then": text(then), "now": text(now), "change": change(then, now),
            "at_risk": item.id in risky, "series": [text(v) for v in series]}


def change(then, now):
    return None if then is None or now is None else text(Decimal(now) - Decimal(then))


def kr_row(kr, days):
    series = [kr_value_on(kr, day) for day in days]
    then, now = series[-2] if len(series) > 1 else None, series[-1]
    return {"id": kr.id, "title": kr.title, "objective": kr.objective.title, "kind": str(kr.kind),
            "unit": kr.unit, "metric_key": kr.metric_key, "start": text(kr.start_value),
            "target": text(kr.target), "then": text(then), "now": text(now), "change": change(then, now),
            "progress_then": text(kr_progress_of(kr, then)), "progress_now": text(kr_progress_of(kr, now)),
            "at_risk": kr_at_risk(kr, now, days[-1]), "series": [text(v) for v in series]}


def kr_value_on(kr, day):
    """A key result's value on `day`: metric ones computed over the period up to that day;
    manual ones the last check-in value by then; milestone ones the milestones done by then."""
    if kr.kind == KrKind.milestone:
        return Decimal(sum(1 for m in kr.milestones if m.done and m.done_at and m.done_at.date() <= day))
    if kr.kind == KrKind.manual:
        values = [c.value for c in kr.check_ins if c.value is not None and c.week <= day]
        return Decimal(values[-1]) if values else None
    return metric_kr_value(kr, day)


def metric_kr_value(kr, day):
    start, end = kr.objective.period_start, min(day, kr.objective.period_end)
    shares = item_shares(kr.scope)
    if not kr.metric_key or not shares or end < start:
        return None
    try:
        return rounded(compute_metric(kr.metric_key, shares, start, end, sku=kr.sku or None))
    except DefinitionError:
        return None


def kr_progress_of(kr, value):
    if kr.kind == KrKind.milestone:
        return None if value is None else okr_progress.milestone_progress(int(value), len(kr.milestones))
    return okr_progress.kr_progress(dec(kr.start_value), dec(kr.target), value)


def kr_at_risk(kr, value, day):
    """At risk: the last check-in by `day` says at risk or off track, or a metric key result's
    progress trails the share of its period gone (progress.behind_pace)."""
    said = [c.confidence for c in kr.check_ins if c.week <= day]
    if said and said[-1] in RISKY:
        return True
    if kr.kind != KrKind.metric:
        return False
    period = kr.objective
    share = Decimal((day - period.period_start).days + 1) / Decimal((period.period_end - period.period_start).days + 1)
    return okr_progress.behind_pace(kr_progress_of(kr, value), min(max(share, Decimal(0)), Decimal(1)))


def dec(value):
    return None if value is None else Decimal(value)


def task_rows(person_id, week, now):
    """The person's tasks done this week, overdue on the review's day, and due next week."""
    next_monday = week + timedelta(days=7)
    tasks = db.session.execute(select(Task).where(Task.assignee_id == person_id)
                               .order_by(Task.due, Task.id)).scalars().all()
    done = [t for t in tasks if t.status == TaskStatus.DONE and t.done_at
            and week <= t.done_at.date() <= week + timedelta(days=6)]
    overdue = [t for t in tasks if t.status in OPEN_TASKS and t.due and t.due < now]
    due_next = [t for t in tasks if t.status in OPEN_TASKS and t.due
                and next_monday <= t.due <= next_monday + timedelta(days=6)]
    return {"done": [task_row(t) for t in done], "overdue": [task_row(t) for t in overdue],
            "due_next": [task_row(t) for t in due_next]}


def task_row(task):
    return {"id": task.id, "title": task.title, "status": str(task.status),
            "due": task.due.isoformat() if task.due else None}


def dispute_rows(cards):
    if not cards:
        return []
    disputes = db.session.execute(select(Dispute).where(Dispute.scorecard_id.in_([c.id for c in cards]),
                                                        Dispute.status.in_(ACTIVE_STATES))
                                  .order_by(Dispute.id)).scalars().all()
    return [{"id": d.id, "item": d.item.name, "status": str(d.status), "comment": d.comment}
            for d in disputes]


# ---- which teams ----------------------------------------------------------------------------

def teams_for(user):
    """The managers whose team review `user` may run: themself (with reports), everyone with
    reports below them; HR and admins every manager."""
    managers = db.session.execute(select(User).where(User.active, User.id.in_(
        select(User.manager_id).where(User.manager_id.is_not(None)))).order_by(User.name)).scalars().all()
    return [m for m in managers if policy.can_run_review(user, m)]
