"""The shapes /api/v1 reads and writes, as marshmallow schemas.

The OpenAPI document is generated from these (apispec's MarshmallowPlugin) and the action
body is loaded through ActionBody, so what the document promises is what the code checks.
tests/web/test_openapi.py validates real responses against the generated document.
"""

from marshmallow import RAISE, Schema, fields, validate

from kpiapp.appraisal.appeal_flow import AppealState
from kpiapp.appraisal.workflow import Action, Edit, ScorecardState

STATES = [str(s) for s in ScorecardState]
ACTIONS = [str(a) for a in Action]
EDITS = [str(e) for e in Edit]
APPEAL_STATES = [str(s) for s in AppealState]
ACKNOWLEDGEMENTS = ["none", "acknowledged", "objection"]


def number(**kwargs):
    return fields.String(allow_none=True, metadata={"description": "a decimal number as a string"}, **kwargs)


def nullable_string(**kwargs):
    return fields.String(allow_none=True, **kwargs)


class WholeNumber(fields.Integer):
    """An integer that refuses JSON true/false (a bool is an int in Python)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class ErrorDetail(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    changed_by = nullable_string(metadata={"description": "who changed the scorecard (409 only)"})
    changed_at = nullable_string(metadata={"description": "when it was changed (409 only)"})


class Error(Schema):
    error = fields.Nested(ErrorDetail, required=True)


class Cycle(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    kind = fields.String()
    status = fields.String(required=True)
    period_start = fields.Date()
    period_end = fields.Date()
    hr_approval_required = fields.Boolean()
    deadlines = fields.Dict(keys=fields.String(), values=fields.Date(allow_none=True))
    grade_table = fields.List(fields.Dict())
    okr_weight = fields.String(allow_none=True, metadata={
        "description": "the OKR attainment item's weight on every scorecard (a decimal); null: OKRs stay out of pay"})
    scorecards_by_state = fields.Dict(
        keys=fields.String(), values=fields.Integer(), metadata={"description": "only on one cycle"}
    )


class CycleList(Schema):
    cycles = fields.List(fields.Nested(Cycle), required=True)


class Person(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class ScorecardSummary(Schema):
    id = fields.Integer(required=True)
    cycle_id = fields.Integer()
    person = fields.Nested(Person)
    version = fields.Integer()
    state = fields.String(required=True, validate=validate.OneOf(STATES))
    version_id = fields.Integer(required=True)
    total = number()
    grade = nullable_string()
    locked_at = nullable_string()


class ScorecardList(Schema):
    scorecards = fields.List(fields.Nested(ScorecardSummary), required=True)


class Item(Schema):
    id = fields.Integer(required=True)
    seq = fields.Integer()
    name = fields.String()
    kind = fields.String()
    metric_key = nullable_string()
    description = nullable_string()
    tag = fields.String()
    revision = fields.Integer(allow_none=True)
    weight = number()
    threshold = number()
    target = number()
    stretch = number()
    actual = number()
    computed_points = number()
    self_score = number()
    manager_score = number()
    final_points = number()
    rule = fields.Dict(allow_none=True)
    data_as_of = nullable_string()
    explanation = fields.Dict(allow_none=True)
    self_comment = nullable_string()
    manager_comment = nullable_string()
    override_reason = nullable_string()


class Event(Schema):
    action = fields.String()
    from_ = fields.String(data_key="from", allow_none=True)
    to = fields.String()
    actor_id = fields.Integer(allow_none=True)
    reason = nullable_string()
    at = fields.String()


class Scorecard(ScorecardSummary):
    superseded = fields.Boolean()
    allowed_actions = fields.List(fields.String(validate=validate.OneOf(ACTIONS)))
    allowed_edits = fields.List(fields.String(validate=validate.OneOf(EDITS)))
    self_comment = nullable_string()
    manager_comment = nullable_string()
    calibrated_grade = nullable_string()
    bonus_coefficient = number()
    items = fields.List(fields.Nested(Item))
    events = fields.List(fields.Nested(Event))


class ResultRow(Schema):
    """One KPI item of one person's latest scorecard, with the person's result (docs/bonus.md)."""

    cycle = fields.String(required=True)
    person_id = fields.String(required=True)
    person = fields.String(required=True)
    email = fields.String(required=True)
    department = nullable_string(required=True)
    position = nullable_string(required=True)
    manager = nullable_string(required=True)
    scorecard_id = fields.String(required=True)
    version = fields.String(required=True)
    state = fields.String(required=True, validate=validate.OneOf(STATES))
    item_seq = nullable_string(required=True)
    item = nullable_string(required=True)
    kind = nullable_string(required=True)
    weight = number(required=True)
    threshold = number(required=True)
    target = number(required=True)
    stretch = number(required=True)
    actual = number(required=True)
    points = number(required=True)
    override_reason = nullable_string(required=True)
    total = number(required=True)
    grade = nullable_string(required=True)
    coefficient = number(required=True)
    calibrated_grade = nullable_string(required=True)
    calibration_reason = nullable_string(required=True)
    acknowledgement = fields.String(required=True, validate=validate.OneOf(ACKNOWLEDGEMENTS))
    appeal = nullable_string(required=True, validate=validate.OneOf(APPEAL_STATES))


class Results(Schema):
    cycle_id = fields.Integer(required=True)
    columns = fields.List(fields.String(), required=True,
                          metadata={"description": "the export's column order"})
    rows = fields.List(fields.Nested(ResultRow), required=True)


class ScorecardQuery(Schema):
    cycle_id = fields.Integer(metadata={"description": "only this cycle"})
    state = fields.String(validate=validate.OneOf(STATES), metadata={"description": "only this state"})


class ActionBody(Schema):
    class Meta:
        unknown = RAISE

    reason = nullable_string(metadata={"description": "why (required to return, reopen…)"})
    expected_version = WholeNumber(
        strict=True, allow_none=True, metadata={"description": "version_id you last saw; 409 if it changed"}
    )
