"""/api/v1/tasks: tasks and their comments, through the same services and policy as the
screens (kpiapp/objectives/tasks.py, comments.py). Refusals are {"error": {code, message,
field}} with the service's stable code."""

from flask import jsonify, request
from flask_login import current_user
from marshmallow import ValidationError as MarshmallowError

from kpiapp.api import task_schemas
from kpiapp.api.routes import bp
from kpiapp.audit import to_jsonable
from kpiapp.extensions import db
from kpiapp.models import CommentTarget
from kpiapp.models import Task as TaskModel
from kpiapp.objectives import comments, tasks
from kpiapp.policy import STAFF, allow, authorize
from kpiapp.web.refusals import audit_refusal

EDIT_KEYS = ("title", "description", "due", "assignee_id")


def person_json(person):
    return {"id": person.id, "name": person.name}


def task_json(task, user):
    return {
        "id": task.id, "title": task.title, "description": task.description, "status": task.status.value,
        "assignee": person_json(task.assignee), "creator_id": task.creator_id,
        "due": task.due.isoformat() if task.due else None, "overdue": tasks.is_overdue(task),
        "drop_reason": task.drop_reason, "key_result_id": task.key_result_id,
        "scorecard_item_id": task.scorecard_item_id, "review_id": task.review_id,
        "created_at": to_jsonable(task.created_at), "done_at": to_jsonable(task.done_at),
        "checklist": [{"id": i.id, "text": i.text, "done": i.done} for i in task.checklist],
        "steps": [s.value for s in tasks.permitted_task_steps(user, task)],
    }


def comment_json(comment):
    return {"id": comment.id, "author": person_json(comment.author), "body": comment.body,
            "created_at": to_jsonable(comment.created_at),
            "mentions": [person_json(m.person) for m in comment.mentions]}


def body_through(schema):
    """The JSON body loaded through `schema`: unknown keys are invalid_field, wrong types invalid_value."""
    body = request.get_json(silent=True) if request.content_length else {}
    try:
        return schema().load(body if body is not None else {})
    except MarshmallowError as error:
        messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
        unknown = "_schema" in messages or any("Unknown field." in str(m) for m in messages.values())
        field = next(iter(messages), None)
        raise tasks.TaskError("invalid_field" if unknown else "invalid_value", f"The body is not valid: {messages}",
                              None if field == "_schema" else field) from None


def load(task_id):
    return authorize("task.view", db.session.get(TaskModel, task_id))


def task_error(error):
    """A refused task or comment call (audited): its stable code, field and status."""
    audit_refusal(error, "task", (request.view_args or {}).get("task_id"))
    response = jsonify(error={"code": error.code, "message": error.message, "field": error.field})
    response.status_code = error.status
    return response


bp.register_error_handler(tasks.TaskError, task_error)
bp.register_error_handler(comments.CommentError, task_error)


@bp.route("/tasks")
@allow(STAFF)
def list_tasks():
    """---
    get:
      summary: Tasks you may see (assigned to you or below you, or created by you; all for HR)
      operationId: listTasks
      parameters:
      - {in: query, schema: TaskQuery}
      responses:
        200: {description: OK, content: {application/json: {schema: TaskList}}}
        401: Unauthorized
        403: Forbidden
    """
    if request.args.get("mine") in ("1", "true"):
        found = tasks.my_tasks(current_user, include_closed=True)
        status = request.args.get("status")
        found = [t for t in found if status in (None, t.status.value)]
        return jsonify(tasks=[task_json(t, current_user) for t in found], next_after=None)
    page = tasks.board_page(current_user, person_id=request.args.get("assignee_id", type=int),
                            status=request.args.get("status"), due=request.args.get("due"),
                            after=request.args.get("after", type=int), size=tasks.BOARD_PAGE)
    found = [t for column in page.columns.values() for t in column]
    return jsonify(tasks=[task_json(t, current_user) for t in found], next_after=page.next_after)


@bp.route("/tasks", methods=["POST"])
@allow(STAFF)
def create_task():
    """---
    post:
      summary: Create a task (assigned to you unless assignee_id names someone below you)
      operationId: createTask
      requestBody:
        required: true
        content: {application/json: {schema: TaskBody}}
      responses:
        201: {description: Created, content: {application/json: {schema: Task}}}
        401: Unauthorized
        403: Forbidden
        422: Refused
    """
    task = tasks.create_task(body_through(task_schemas.TaskBody), current_user)
    db.session.commit()
    return jsonify(task_json(task, current_user)), 201


@bp.route("/tasks/<int:task_id>")
@allow(STAFF)
def get_task(task_id):
    """---
    get:
      summary: One task with its checklist and the steps you may take
      operationId: getTask
      responses:
        200: {description: OK, content: {application/json: {schema: Task}}}
        401: Unauthorized
        403: Forbidden
        404: NotFound
    """
    return jsonify(task_json(load(task_id), current_user))


@bp.route("/tasks/<int:task_id>", methods=["PATCH"])
@allow(STAFF)
def edit_task(task_id):
    """---
    patch:
      summary: Edit a task's title, description, due date or assignee
      operationId: editTask
      requestBody:
        required: true
        content: {application/json: {schema: TaskBody}}
      responses:
        200: {description: OK, content: {application/json: {schema: Task}}}
        401: Unauthorized
        403: Forbidden
        404: NotFound
        422: Refused
    """
    task = load(task_id)
    values = body_through(task_schemas.TaskBody)
    extra = sorted(set(values) - set(EDIT_KEYS))
    if extra:
        raise tasks.TaskError("invalid_field", f"PATCH changes only {list(EDIT_KEYS)}.", extra[0])
    tasks.update_task(task, values, current_user)
    db.session.commit()
    return jsonify(task_json(task, current_user))


@bp.route("/tasks/<int:task_id>/steps/<step>", methods=["POST"])
@allow(STAFF)
def move_task(task_id, step):
    """---
    post:
      summary: Move a task (start, finish, drop with a reason, reopen)
      operationId: moveTask
      requestBody:
        required: false
        content: {application/json: {schema: TaskStepBody}}
      responses:
        200: {description: The task after the step, content: {application/json: {schema: Task}}}
        401: Unauthorized
        403: Forbidden
        404: NotFound
        409: Conflict
        422: Refused
    """
    task = load(task_id)
    reason = body_through(task_schemas.TaskStepBody).get("reason")
    tasks.move_task(task, step, current_user, reason=reason)
    db.session.commit()
    return jsonify(task_json(task, current_user))


@bp.route("/tasks/<int:task_id>/comments")
@allow(STAFF)
def task_comments(task_id):
    """---
    get:
      summary: The comments on a task, oldest first
      operationId: listTaskComments
      responses:
        200: {description: OK, content: {application/json: {schema: TaskCommentList}}}
        401: Unauthorized
        403: Forbidden
        404: NotFound
    """
    task = load(task_id)
    found = comments.comments_for(CommentTarget.task, task.id, current_user)
    return jsonify(comments=[comment_json(c) for c in found])


@bp.route("/tasks/<int:task_id>/comments", methods=["POST"])
@allow(STAFF)
def add_task_comment(task_id):
    """---
    post:
      summary: Comment on a task; each @mentioned person who may see it is notified
      operationId: addTaskComment
      requestBody:
        required: true
        content: {application/json: {schema: TaskCommentBody}}
      responses:
        201: {description: Created, content: {application/json: {schema: TaskComment}}}
        401: Unauthorized
        403: Forbidden
        404: NotFound
        422: Refused
    """
    task = load(task_id)
    comment = comments.add_comment(CommentTarget.task, task.id, body_through(task_schemas.TaskCommentBody)["body"],
                                   current_user)
    db.session.commit()
    return jsonify(comment_json(comment)), 201
