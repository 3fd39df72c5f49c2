"""The task pages (docs/objectives.md, "Tasks"): My tasks, the team board (htmx filters; a
plain GET works without JavaScript), a new task, one task with its steps, checklist and
comments; and the comment POST every commented page uses (templates/_macros/comments.html)."""
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from kpiapp.auth.session import safe_next
from kpiapp.extensions import db
from kpiapp.models import CommentTarget, ScorecardItem, Task
from kpiapp.objectives import comments, tasks
from kpiapp.objectives.routes.common import bp
from kpiapp.objectives.task_flow import TaskStatus, TaskStep
from kpiapp.policy import STAFF, allow, authorize
from kpiapp.web.pages import is_fragment_request, render_page_or_fragment
from kpiapp.web.refusals import audit_refusal

# Service error codes (tasks.TaskError, comments.CommentError), in words a user understands.
ERROR_TEXT = {
    "title_required": _l("Give the task a title."),
    "title_too_long": _l("The title is too long (at most 200 characters)."),
    "text_too_long": _l("The text is too long (at most 5000 characters)."),
    "due_invalid": _l("Give the due date as YYYY-MM-DD."),
    "id_invalid": _l("Not a valid choice."),
    "assignee_not_allowed": _l("You may give tasks to yourself and the people below you."),
    "one_link": _l("Link a task to one key result, KPI item or review at most."),
    "link_unknown": _l("Not a valid choice."),
    "checklist_too_long": _l("At most 50 checklist lines."),
    "check_item_too_long": _l("A checklist line is too long (at most 200 characters)."),
    "text_required": _l("Please give a reason."),
    "not_allowed_in_state": _l("This is not possible in the task's current state."),
    "forbidden": _l("You are not allowed to do this."),
    "conflict": _l("Someone else moved this task in the meantime; nothing was saved. Reload it."),
    "unknown_step": _l("Unknown step."),
    "not_found": _l("Not found."),
    "body_required": _l("Write a comment."),
    "body_too_long": _l("The comment is too long (at most 5000 characters)."),
    "unknown_target": _l("Not found."),
}
DUE_LABELS = {
    "overdue": _l("Overdue"), "this_week": _l("Due this week"), "next_week": _l("Due next week"),
    "later": _l("Due later"), "none": _l("No due date"),
}
STEP_DONE = {
    TaskStep.START: _l("Task started."), TaskStep.FINISH: _l("Task done."),
    TaskStep.DROP: _l("Task dropped."), TaskStep.REOPEN: _l("Task reopened."),
}
FORM_FIELDS = ("title", "description", "assignee_id", "due", "checklist", *tasks.LINKS)


@bp.app_template_global("error_text_tasks")
def error_text(error):
    return str(ERROR_TEXT.get(error.code, _l("This could not be saved.")))


def refused(error, entity, entity_id=None):
    """Roll back, audit the refusal (throttled) and say it in words."""
    audit_refusal(error, entity, entity_id)
    return error_text(error)


def load(task_id):
    """The task, or 404 (audited) when this user may not see it."""
    return authorize("task.view", db.session.get(Task, task_id))


def typed(names):
    return {name: request.form.get(name, "") for name in names}


# ---- lists -----------------------------------------------------------------------------

@bp.route("/tasks/mine")
@allow(STAFF)
def tasks_mine():
    """My open tasks (with ?closed=1 also the done and dropped ones), open work first, by due date."""
    include_closed = request.args.get("closed") == "1"
    return render_template("tasks/mine.html", rows=tasks.my_tasks(current_user, include_closed),
                           include_closed=include_closed)


def board_filters():
    person_id = request.args.get("person", type=int)
    people = tasks.board_people(current_user)
    if person_id not in {p.id for p in people}:
        person_id = None
    status = request.args.get("status") if request.args.get("status") in set(TaskStatus) else None
    due = request.args.get("due") if request.args.get("due") in tasks.DUE_FILTERS else None
    return {"person": person_id, "status": status, "due": due}, people


@bp.route("/tasks/board")
@allow(STAFF)
def tasks_board():
    """The team's task board: one column per status; filter by person, status and due."""
    filters, people = board_filters()
    after = request.args.get("after", type=int)
    page = tasks.board_page(current_user, person_id=filters["person"], status=filters["status"],
                            due=filters["due"], after=after, size=tasks.BOARD_PAGE)
    shown = [s for s in TaskStatus if filters["status"] in (None, s.value)]
    chosen = {k: v for k, v in filters.items() if v is not None}
    more = page.next_after and url_for(".tasks_board", after=page.next_after, **chosen)
    # htmx "More": the next page's cards are appended to their columns (tasks/_board_more.html)
    fragment = "tasks/_board_more.html" if after is not None else "tasks/_board.html"
    return render_page_or_fragment("tasks/board.html", fragment, columns=page.columns, totals=page.totals,
                                   shown=shown, filters=filters, people=people, due_labels=DUE_LABELS,
                                   statuses=list(TaskStatus), more=more,
                                   first=after is not None and url_for(".tasks_board", **chosen))


# ---- a new task ----------------------------------------------------------------------------

def new_page(values, error=None, status=200):
    return render_template("tasks/new.html", values=values, error=error,
                           people=tasks.assignable_people(current_user)), status


@bp.route("/tasks/new")
@allow(STAFF)
def task_new():
    """The new-task form; ?key_result_id= (or scorecard_item_id, review_id) links it."""
    values = {name: request.args.get(name, "") for name in FORM_FIELDS}
    values["assignee_id"] = values["assignee_id"] or str(current_user.id)
    return new_page(values)


@bp.route("/tasks/new", methods=["POST"])
@allow(STAFF)
def task_create():
    values = typed(FORM_FIELDS)
    try:
        task = tasks.create_task(values, current_user)
        db.session.commit()
    except tasks.TaskError as error:
        refused(error, "task")
        return new_page(values, error, 403 if error.status == 403 else 422)
    flash(_("Task created."), "success")
    return redirect(url_for(".task_detail", task_id=task.id))


# ---- one task -----------------------------------------------------------------------------

def detail_page(task, error=None, values=None, status=200):
    return render_page_or_fragment(
        "tasks/detail.html", "tasks/_task.html", status=status, task=task, error=error,
        values=values or {}, steps=tasks.permitted_task_steps(current_user, task),
        people=tasks.assignable_people(current_user))


@bp.route("/tasks/<int:task_id>")
@allow(STAFF)
def task_detail(task_id):
    return detail_page(load(task_id))


@bp.route("/tasks/<int:task_id>/edit", methods=["POST"])
@allow(STAFF)
def task_edit(task_id):
    task = load(task_id)
    values = typed(("title", "description", "assignee_id", "due"))
    try:
        tasks.update_task(task, values, current_user)
        db.session.commit()
    except tasks.TaskError as error:
        refused(error, "task", task_id)
        return detail_page(load(task_id), error, values, 403 if error.status == 403 else 422)
    flash(_("Task saved."), "success")
    return redirect(url_for(".task_detail", task_id=task_id))


@bp.route("/tasks/<int:task_id>/<step>", methods=["POST"])
@allow(STAFF)
def task_move(task_id, step):
    task = load(task_id)
    if step not in {s.value for s in TaskStep}:
        abort(404)
    reason = request.form.get("reason")
    try:
        tasks.move_task(task, step, current_user, reason=reason)
        db.session.commit()
    except tasks.TaskError as error:
        refused(error, "task", task_id)
        status = error.status if error.status in (403, 409) else 422
        return detail_page(load(task_id), error, {"reason": reason or ""}, status)
    if is_fragment_request():
        return detail_page(task)
    flash(str(STEP_DONE[TaskStep(step)]), "success")
    return redirect(safe_next(request.form.get("next")) or url_for(".task_detail", task_id=task_id))


@bp.route("/tasks/<int:task_id>/checklist", methods=["POST"])
@allow(STAFF)
def task_check_add(task_id):
    return checklist_change(task_id, lambda task: tasks.add_check_item(task, request.form.get("text"), current_user))


@bp.route("/tasks/<int:task_id>/checklist/<int:item_id>", methods=["POST"])
@allow(STAFF)
def task_check_set(task_id, item_id):
    done = request.form.get("done") == "1"
    return checklist_change(task_id, lambda task: tasks.set_check_item(task, item_id, done, current_user))


@bp.route("/tasks/<int:task_id>/checklist/<int:item_id>/remove", methods=["POST"])
@allow(STAFF)
def task_check_remove(task_id, item_id):
    return checklist_change(task_id, lambda task: tasks.remove_check_item(task, item_id, current_user))


def checklist_change(task_id, change):
    task = load(task_id)
    try:
        change(task)
        db.session.commit()
    except tasks.TaskError as error:
        refused(error, "task", task_id)
        status = error.status if error.status in (403, 404) else 422
        return detail_page(load(task_id), error, {"text": request.form.get("text", "")}, status)
    if is_fragment_request():
        return detail_page(load(task_id))
    return redirect(url_for(".task_detail", task_id=task_id) + "#checklist")


# ---- comments (any target: the macro in templates/_macros/comments.html posts here) -----------

def back_to(kind, target_id):
    """Where a comment form returns: its `next` (same site only), else the target's own page."""
    return safe_next(request.form.get("next")) or comment_target_url(kind, target_id) or url_for("main.index")


@bp.app_template_global("comment_target_url")
def comment_target_url(kind, target_id, comment_id=None, scorecard_id=None, data_backed=None):
    """The page a comment's target is shown on (the inbox links mentions there), or None. For a
    KPI item, `scorecard_id` and `data_backed` (a notification's) spare the query."""
    kind = CommentTarget(kind)
    if kind == CommentTarget.item and scorecard_id is not None and data_backed is not None:
        url = item_url(target_id, scorecard_id, data_backed)
    elif kind == CommentTarget.item:
        item = db.session.get(ScorecardItem, target_id)
        url = item_url(item.id, item.scorecard_id, bool(item.metric_key and not item.is_manual)) if item else None
    else:
        endpoint, argument = TARGET_PAGES[kind]
        found = endpoint in current_app.view_functions  # the key-result page comes with the okr pages
        url = url_for(endpoint, **{argument: target_id}) if found else None
    return f"{url}#comment-{comment_id}" if url and comment_id else url


def item_url(item_id, scorecard_id, data_backed):
    """A data-backed KPI item's comments sit on its provenance page; a manual item has only its scorecard."""
    if data_backed:
        return url_for("provenance.item", item_id=item_id)
    return url_for("scorecards.detail", scorecard_id=scorecard_id) + f"#item-{item_id}"


TARGET_PAGES = {
    CommentTarget.task: ("objectives.task_detail", "task_id"),
    CommentTarget.scorecard: ("scorecards.detail", "scorecard_id"),
    CommentTarget.key_result: ("objectives.key_result_show", "kr_id"),
    CommentTarget.dispute: ("disputes.detail", "dispute_id"),
}


@bp.route("/comments/<kind>/<int:target_id>", methods=["POST"])
@allow(STAFF)
def comment_add(kind, target_id):
    """Add a comment; an htmx request gets the comments panel back, a plain POST a redirect."""
    kind = comments.target_kind(kind) if kind in {k.value for k in CommentTarget} else abort(404)
    body, error = request.form.get("body", ""), None
    try:
        comments.add_comment(kind, target_id, body, current_user)
        db.session.commit()
        body = ""
    except comments.CommentError as error_:
        refused(error_, kind.value, target_id)
        if error_.status == 404:
            abort(404)
        error = error_
    if is_fragment_request():
        return render_template("_macros/comments_panel.html", kind=kind.value, target_id=target_id, error=error,
                               body=body, next_url=safe_next(request.form.get("next")) or "",
                               title=panel_title(kind, target_id)), 422 if error else 200
    if error is not None:
        flash(error_text(error), "error")
    return redirect(back_to(kind, target_id) + "#comments")


def panel_title(kind, target_id):
    """A KPI item without a provenance page has its panel under the item's name on its scorecard
    (scorecards/_item_comments.html), headed by a smaller "Comments" (h3) than a page's own (h2)."""
    if kind != CommentTarget.item:
        return None
    item = comments.load_target(kind, target_id, current_user)
    return _("Comments") if item.metric_key is None else None


@bp.app_template_global("task_overdue")
def task_overdue(task):
    return tasks.is_overdue(task)


@bp.app_template_global("comments_on")
def comments_on(kind, target_id):
    """The comments on a target this user may read (the comments macro calls it)."""
    return comments.comments_for(kind, target_id, current_user)
