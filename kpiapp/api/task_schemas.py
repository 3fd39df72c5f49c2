"""The shapes /api/v1/tasks reads and writes (marshmallow; the OpenAPI document refers to them
by name: apispec's MarshmallowPlugin adds each one it meets to the components)."""

from marshmallow import RAISE, Schema, fields, validate

from kpiapp.objectives.task_flow import TaskStatus, TaskStep

TASK_STATES = [s.value for s in TaskStatus]
TASK_STEPS = [s.value for s in TaskStep]
DUE_FILTERS = ["overdue", "this_week", "next_week", "later", "none"]


class WholeId(fields.Integer):
    """An id that refuses JSON true/false (a bool is an int in Python)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class TaskPerson(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class TaskCheckItem(Schema):
    id = fields.Integer(required=True)
    text = fields.String(required=True)
    done = fields.Boolean(required=True)


class Task(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    description = fields.String(allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf(TASK_STATES))
    assignee = fields.Nested(TaskPerson, required=True)
    creator_id = fields.Integer(allow_none=True)
    due = fields.Date(allow_none=True)
    overdue = fields.Boolean(required=True)
    drop_reason = fields.String(allow_none=True)
    key_result_id = fields.Integer(allow_none=True)
    scorecard_item_id = fields.Integer(allow_none=True)
    review_id = fields.Integer(allow_none=True)
    created_at = fields.String(allow_none=True, metadata={"description": "ISO 8601, UTC"})
    done_at = fields.String(allow_none=True, metadata={"description": "ISO 8601, UTC"})
    checklist = fields.List(fields.Nested(TaskCheckItem), required=True)
    steps = fields.List(fields.String(validate=validate.OneOf(TASK_STEPS)), required=True,
                        metadata={"description": "the steps you may take now"})


class TaskList(Schema):
    tasks = fields.List(fields.Nested(Task), required=True)
    next_after = fields.Integer(allow_none=True, metadata={
        "description": "without mine: more tasks follow; pass it as `after` for the next page"})


class TaskQuery(Schema):
    mine = fields.Boolean(metadata={"description": "only tasks assigned to you"})
    assignee_id = fields.Integer()
    status = fields.String(validate=validate.OneOf(TASK_STATES))
    due = fields.String(validate=validate.OneOf(DUE_FILTERS))
    after = fields.Integer(metadata={"description": "the next_after of the previous page (board order)"})


class TaskBody(Schema):
    """A new task (POST); PATCH takes title, description, due and assignee_id only."""

    class Meta:
        unknown = RAISE

    title = fields.String(validate=validate.Length(max=200))
    description = fields.String(allow_none=True)
    assignee_id = WholeId(metadata={"description": "default: you"})
    due = fields.Date(allow_none=True)
    key_result_id = WholeId(allow_none=True)
    scorecard_item_id = WholeId(allow_none=True)
    review_id = WholeId(allow_none=True)
    checklist = fields.List(fields.String(validate=validate.Length(max=200)))


class TaskStepBody(Schema):
    class Meta:
        unknown = RAISE

    reason = fields.String(allow_none=True, metadata={"description": "required to drop"})


class TaskComment(Schema):
    id = fields.Integer(required=True)
    author = fields.Nested(TaskPerson, required=True)
    body = fields.String(required=True)
    created_at = fields.String(required=True)
    mentions = fields.List(fields.Nested(TaskPerson), required=True)


class TaskCommentList(Schema):
    comments = fields.List(fields.Nested(TaskComment), required=True)


class TaskCommentBody(Schema):
    class Meta:
        unknown = RAISE

    body = fields.String(required=True, metadata={"description": "@name or @e-mail-local-part mentions"})
