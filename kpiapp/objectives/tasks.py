"""Tasks (docs/objectives.md, "Tasks"): create, edit, move through TASK_FLOW, the checklist,
and the lists ("My tasks", the team board).

Service rules as in appraisal/services.py: the actor is passed in, guards first (policy and
TASK_FLOW), a compare-and-set on the status so one of two people moving a task at once wins,
an explicit audit event per step; flush, never commit (the face commits once).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from kpiapp import audit, policy
from kpiapp.appraisal.workflow import TransitionError
from kpiapp.extensions import db
from kpiapp.notifications.services import notify
from kpiapp.models import (
    CommentTarget, KeyResult, ScorecardItem, Task, TaskCheckItem, User, WeeklyReview,
)
from kpiapp.models.base import utcnow
from kpiapp.objectives.task_flow import CLOSED, TASK_FLOW, TaskStatus, TaskStep

TITLE_MAX = 200
TEXT_MAX = 5000
CHECKLIST_MAX = 50
LINKS = ("key_result_id", "scorecard_item_id", "review_id")
DUE_FILTERS = ("overdue", "this_week", "next_week", "later", "none")
BOARD_LIMIT = 300


class TaskError(Exception):
    """A refused task call; `code` is stable for the UI and tests, `field` names the input."""

    def __init__(self, code, message, field=None, status=422):
        super().__init__(message)
        self.code, self.field, self.message, self.status = code, field, message, status


def forbidden(message="You may not change this task."):
    return TaskError("forbidden", message, status=403)


# ---- reading the typed values ------------------------------------------------------------

def clean_title(values):
    title = (values.get("title") or "").strip()
    if not title:
        raise TaskError("title_required", "Give the task a title.", "title")
    if len(title) > TITLE_MAX:
        raise TaskError("title_too_long", f"At most {TITLE_MAX} characters.", "title")
    return title


def clean_text(values, name):
    text = (values.get(name) or "").strip()
    if len(text) > TEXT_MAX:
        raise TaskError("text_too_long", f"At most {TEXT_MAX} characters.", name)
    return text or None


def clean_due(values):
    due = values.get("due")
    if due in (None, ""):
        return None
    if isinstance(due, date):
        return due
    try:
        return date.fromisoformat(str(due).strip())
    except ValueError:
        raise TaskError("due_invalid", "Give the due date as YYYY-MM-DD.", "due") from None


def clean_id(values, name):
    raw = values.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise TaskError("id_invalid", "Not a valid choice.", name) from None


def clean_assignee(values, actor):
    """The assignee (default: the actor), whom the actor may give tasks to."""
    person_id = clean_id(values, "assignee_id")
    person = actor if person_id is None else db.session.get(User, person_id)
    if person is None or not policy.can_assign_task(actor, person):
        raise TaskError("assignee_not_allowed", "You may give tasks to yourself and the people below you.",
                        "assignee_id")
    return person


LINK_TARGETS = {  # link column -> (model, comment target kind: the policy question asked)
    "key_result_id": (KeyResult, CommentTarget.key_result),
    "scorecard_item_id": (ScorecardItem, CommentTarget.item),
    "review_id": (WeeklyReview, None),
}


def clean_link(values, actor):
    """{link column: id} for the one link given (or {}), checked against what the actor may see."""
    given = {name: clean_id(values, name) for name in LINKS}
    given = {name: value for name, value in given.items() if value is not None}
    if len(given) > 1:
        raise TaskError("one_link", "Link a task to one key result, KPI item or review at most.", next(iter(given)))
    for name, target_id in given.items():
        model, kind = LINK_TARGETS[name]
        target = db.session.get(model, target_id)
        allowed = target is not None and (policy.can_run_review(actor, target.manager) if kind is None
                                          else policy.can_view_comment_target(actor, kind, target))
        if not allowed:
            raise TaskError("link_unknown", "Not a valid choice.", name)
    return given


def clean_checklist(values):
    lines = values.get("checklist") or []
    if isinstance(lines, str):
        lines = lines.splitlines()
    lines = [line.strip() for line in lines if line and line.strip()]
    if len(lines) > CHECKLIST_MAX:
        raise TaskError("checklist_too_long", f"At most {CHECKLIST_MAX} checklist lines.", "checklist")
    if any(len(line) > TITLE_MAX for line in lines):
        raise TaskError("check_item_too_long", f"At most {TITLE_MAX} characters per line.", "checklist")
    return lines


# ---- writes --------------------------------------------------------------------------------

def _record(action, task, actor, before=None, after=None):
    audit.record(db.session, f"task.{action}", "task", task.id, before=audit.to_jsonable(before),
                 after=audit.to_jsonable(after), actor=audit.actor_for(actor))


def create_task(values: dict, actor) -> Task:
    """A new open task: title, assignee_id (default: the actor), due, description, an optional
    link (key_result_id | scorecard_item_id | review_id) and checklist lines."""
    task = Task(title=clean_title(values), description=clean_text(values, "description"),
                assignee_id=clean_assignee(values, actor).id, creator_id=actor.id, due=clean_due(values),
                status=TaskStatus.OPEN, **clean_link(values, actor))
    task.checklist = [TaskCheckItem(seq=n, text=line) for n, line in enumerate(clean_checklist(values))]
    db.session.add(task)
    db.session.flush()
    _record("create", task, actor, after=snapshot(task))
    tell_assignee(task, actor)
    return task


def tell_assignee(task, actor):
    """An in-app notification `task.assigned` to the assignee, unless they gave it to themself."""
    if task.assignee_id != actor.id:
        notify([db.session.get(User, task.assignee_id)], "task.assigned", "task.assigned",
               link=f"/tasks/{task.id}", actor=actor.name, target=task.title, kind="task", target_id=task.id)


EDITABLE = ("title", "description", "due", "assignee_id")


def update_task(task, values: dict, actor) -> Task:
    """Edit the fields given in `values` (title, description, due, assignee_id)."""
    if not policy.can_work_task(actor, task):
        raise forbidden()
    before = snapshot(task)
    if "title" in values:
        task.title = clean_title(values)
    if "description" in values:
        task.description = clean_text(values, "description")
    if "due" in values:
        task.due = clean_due(values)
    reassigned = "assignee_id" in values and clean_id(values, "assignee_id") != task.assignee_id
    if reassigned:
        task.assignee_id = clean_assignee(values, actor).id
    after = snapshot(task)
    if after != before:
        db.session.flush()
        _record("edit", task, actor, before=before, after=after)
    if reassigned:
        tell_assignee(task, actor)
    return task


def snapshot(task):
    return {"title": task.title, "description": task.description, "due": task.due,
            "assignee_id": task.assignee_id, "status": task.status,
            **{name: getattr(task, name) for name in LINKS if getattr(task, name) is not None}}


def permitted_task_steps(user, task) -> tuple:
    """The steps `user` may take on `task` now (the buttons)."""
    return TASK_FLOW.permitted(task.status, policy.task_parties(user, task))


def move_task(task, step, actor, reason=None) -> Task:
    """Take `step` (start, finish, drop with a reason, reopen) if the flow and policy allow it;
    a compare-and-set on the status: a second mover working from the old state is refused."""
    try:
        step = TaskStep(step)
        new = TASK_FLOW.check(task.status, step, policy.task_parties(actor, task), text=reason)
    except ValueError:
        raise TaskError("unknown_step", "Unknown step.", "step") from None
    except TransitionError as error:
        status = 403 if error.code == "forbidden" else 422
        field = "reason" if error.code == "text_required" else None
        raise TaskError(error.code, error.message, field, status) from None
    old = task.status
    values = {"status": new, "done_at": utcnow() if new == TaskStatus.DONE else None,
              "drop_reason": reason.strip() if step == TaskStep.DROP else None}
    moved = db.session.execute(update(Task).where(Task.id == task.id, Task.status == old).values(**values)
                               .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        raise TaskError("conflict", "Someone else moved this task in the meantime; reload it.", status=409)
    db.session.refresh(task)
    _record(step.value, task, actor, before={"status": old}, after={"status": new, "reason": values["drop_reason"]})
    return task


# ---- the checklist ---------------------------------------------------------------------------

def add_check_item(task, text, actor) -> TaskCheckItem:
    if not policy.can_work_task(actor, task):
        raise forbidden()
    lines = clean_checklist({"checklist": [text or ""]})
    if not lines:
        raise TaskError("text_required", "Write the checklist line.", "text")
    if len(task.checklist) >= CHECKLIST_MAX:
        raise TaskError("checklist_too_long", f"At most {CHECKLIST_MAX} checklist lines.", "text")
    item = TaskCheckItem(seq=max((i.seq for i in task.checklist), default=-1) + 1, text=lines[0])
    task.checklist.append(item)
    db.session.flush()
    _record("check_item_add", task, actor, after={"item_id": item.id, "text": item.text})
    return item


def set_check_item(task, item_id, done, actor) -> TaskCheckItem:
    """Tick or untick one checklist line of `task`."""
    item = check_item_of(task, item_id, actor)
    if item.done != bool(done):
        item.done = bool(done)
        db.session.flush()
        _record("check_item_done" if done else "check_item_undone", task, actor,
                after={"item_id": item.id, "text": item.text})
    return item


def remove_check_item(task, item_id, actor):
    item = check_item_of(task, item_id, actor)
    task.checklist.remove(item)
    db.session.flush()
    _record("check_item_remove", task, actor, before={"item_id": item_id, "text": item.text})


def check_item_of(task, item_id, actor):
    if not policy.can_work_task(actor, task):
        raise forbidden()
    item = next((i for i in task.checklist if i.id == clean_id({"id": item_id}, "id")), None)
    if item is None:
        raise TaskError("not_found", "No such checklist line.", "item_id", status=404)
    return item


# ---- reading -------------------------------------------------------------------------------------

def get_task(task_id, user):
    """The task if `user` may see it, else None (the face answers 404)."""
    task = db.session.get(Task, task_id)
    return task if task is not None and policy.can_work_task(user, task) else None


def utc_today():
    return datetime.now(timezone.utc).date()


def week_bounds(today):
    monday = today - timedelta(days=today.weekday())
    return monday, monday + timedelta(days=6)


def due_clause(due, today):
    """The WHERE clause of a due filter: overdue (open, due before today), this_week, next_week,
    later, none (no due date)."""
    monday, sunday = week_bounds(today)
    open_states = Task.status.not_in(list(CLOSED))
    return {
        "overdue": open_states & (Task.due < today),
        "this_week": Task.due.between(monday, sunday),
        "next_week": Task.due.between(monday + timedelta(days=7), sunday + timedelta(days=7)),
        "later": Task.due > sunday + timedelta(days=7),
        "none": Task.due.is_(None),
    }[due]


def task_query(user):
    return (select(Task).where(policy.visible_tasks_filter(user))
            .options(selectinload(Task.assignee), selectinload(Task.checklist), selectinload(Task.key_result),
                     selectinload(Task.scorecard_item)))


def ordered(query):
    # open work first, then by due date (no date last), newest first among equals
    return query.order_by(Task.status.in_(list(CLOSED)), Task.due.is_(None), Task.due, Task.id.desc())


def my_tasks(user, include_closed=False):
    """The tasks assigned to `user`: open work first, by due date."""
    query = task_query(user).where(Task.assignee_id == user.id)
    if not include_closed:
        query = query.where(Task.status.not_in(list(CLOSED)))
    return list(db.session.execute(ordered(query)).scalars())


def board(user, person_id=None, status=None, due=None, today=None):
    """The team board: tasks `user` may see, filtered by person, status and due; grouped by status
    ({status: [tasks]}, every status present). Unknown filter values are ignored."""
    query = task_query(user)
    if person_id is not None:
        query = query.where(Task.assignee_id == person_id)
    if status in set(TaskStatus):
        query = query.where(Task.status == TaskStatus(status))
    if due in DUE_FILTERS:
        query = query.where(due_clause(due, today or utc_today()))
    tasks = db.session.execute(ordered(query).limit(BOARD_LIMIT)).scalars()
    columns = {s: [] for s in TaskStatus}
    for task in tasks:
        columns[task.status].append(task)
    return columns


def board_people(user):
    """The people the board's person filter offers: `user` and those below them (HR: all staff)."""
    query = select(User).where(policy.visible_people_filter(user), User.active.is_(True),
                               User.role != "client").order_by(User.name)
    return list(db.session.execute(query).scalars())


def assignable_people(user):
    """Whom `user` may give a task to (the assignee choices)."""
    return [p for p in board_people(user) if policy.can_assign_task(user, p)]


def tasks_linked(kind_column, target_id, user):
    """The tasks on a key result, KPI item or review that `user` may see."""
    column = getattr(Task, kind_column)
    return list(db.session.execute(ordered(task_query(user).where(column == target_id))).scalars())


def is_overdue(task, today=None):
    return task.due is not None and task.status not in CLOSED and task.due < (today or utc_today())
