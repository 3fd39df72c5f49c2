"""The shapes of /api/v1/objectives and /api/v1/key-results (docs/objectives.md), as
marshmallow schemas: the OpenAPI document is generated from them and the bodies are loaded
through them (unknown keys refused), like kpiapp/api/schemas.py."""

from marshmallow import RAISE, Schema, fields, validate

from kpiapp.api.schemas import Person, WholeNumber, nullable_string, number
from kpiapp.models import Confidence, KrKind, ObjectiveLevel, ObjectiveStatus, PeriodKind

LEVELS = [str(m) for m in ObjectiveLevel]
KINDS = [str(m) for m in KrKind]
CONFIDENCES = [str(m) for m in Confidence]
STATUSES = [str(m) for m in ObjectiveStatus]
PERIOD_KINDS = [str(m) for m in PeriodKind]
METHODS = ["shares", "equal", "typed"]
COMPONENTS = ("Period", "KeyResultSummary", "KeyResult", "KeyResultList", "Objective", "ObjectiveList",
              "ObjectiveTree", "ObjectiveBody", "ObjectivePatch", "KeyResultBody", "KeyResultPatch", "CheckIn",
              "CheckInList", "CheckInBody", "DecomposeBody", "Decomposition")


class Period(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(PERIOD_KINDS))
    label = fields.String(required=True, metadata={"description": "2026, 2026-Q4 or 2026-11"})
    start = fields.Date(required=True)
    end = fields.Date(required=True)


class ScopeEntry(Schema):
    store_id = fields.Integer(required=True)
    share_pct = fields.String(required=True, metadata={"description": "percent of the store, as a string"})


class Milestone(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    done = fields.Boolean(required=True)


class KeyResultSummary(Schema):
    id = fields.Integer(required=True)
    objective_id = fields.Integer(required=True)
    title = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    owner = fields.Nested(Person, required=True)
    metric_key = nullable_string()
    scope = fields.List(fields.Nested(ScopeEntry), allow_none=True)
    sku = nullable_string()
    unit = nullable_string()
    start_value = number()
    target = number()
    current = number()
    progress = fields.String(allow_none=True, metadata={"description": "percent 0..100; null: no value yet (never 0)"})
    confidence = nullable_string(validate=validate.OneOf(CONFIDENCES))
    at_risk = fields.Boolean(required=True)
    weight = number()
    data_as_of = nullable_string()
    parent_kr_id = fields.Integer(allow_none=True)


class KeyResult(KeyResultSummary):
    milestones = fields.List(fields.Nested(Milestone))
    children = fields.List(fields.Integer(), metadata={"description": "key results split from this one"})
    provenance = fields.Dict(allow_none=True)


class KeyResultList(Schema):
    key_results = fields.List(fields.Nested(KeyResultSummary), required=True)


class Objective(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    description = nullable_string()
    level = fields.String(required=True, validate=validate.OneOf(LEVELS))
    owner = fields.Nested(Person, required=True)
    parent_id = fields.Integer(allow_none=True, required=True)
    department_id = fields.Integer(allow_none=True)
    period = fields.Nested(Period, required=True)
    weight = number()
    rollup = fields.Boolean()
    shared = fields.Boolean()
    status = fields.String(validate=validate.OneOf(STATUSES))
    progress = fields.String(allow_none=True, metadata={"description": "percent 0..100; null: no value yet"})
    weight_covered = fields.String(allow_none=True, metadata={"description": "percent of the weight it rests on"})
    at_risk = fields.Boolean()
    key_results = fields.List(fields.Nested(KeyResultSummary), metadata={"description": "only on one objective"})


class ObjectiveList(Schema):
    objectives = fields.List(fields.Nested(Objective), required=True,
                             metadata={"description": "flat; the tree is in parent_id"})


class ObjectiveTree(Objective):
    children = fields.List(fields.Nested(lambda: ObjectiveTree()), required=True)
    hidden_children = fields.Integer(metadata={"description": "children you may not see"})


class ObjectiveFields(Schema):
    class Meta:
        unknown = RAISE

    title = fields.String()
    description = nullable_string()
    parent_id = WholeNumber(strict=True, allow_none=True)
    department_id = WholeNumber(strict=True, allow_none=True)
    weight = fields.Raw(metadata={"description": "a number or a decimal string"})
    rollup = fields.Boolean()
    shared = fields.Boolean()


class ObjectiveBody(ObjectiveFields):
    title = fields.String(required=True)
    level = fields.String(required=True, validate=validate.OneOf(LEVELS))
    owner_id = WholeNumber(strict=True, allow_none=True, metadata={"description": "default: you"})
    period = fields.String(required=True, metadata={"description": "2026, 2026-Q4 or 2026-11"})


class ObjectivePatch(ObjectiveFields):
    status = fields.String(validate=validate.OneOf(STATUSES))


class KeyResultFields(Schema):
    class Meta:
        unknown = RAISE

    title = fields.String()
    owner_id = WholeNumber(strict=True, allow_none=True)
    metric_key = nullable_string()
    scope = fields.List(fields.Dict(), allow_none=True, metadata={"description": "[{store_id, share_pct}]"})
    sku = nullable_string()
    unit = nullable_string()
    start_value = fields.Raw(metadata={"description": "a number or a decimal string"})
    target = fields.Raw(metadata={"description": "a number or a decimal string"})
    weight = fields.Raw(metadata={"description": "a number or a decimal string"})
    milestones = fields.List(fields.String())


class KeyResultBody(KeyResultFields):
    title = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))


class KeyResultPatch(KeyResultFields):
    pass


class CheckIn(Schema):
    id = fields.Integer(required=True)
    key_result_id = fields.Integer(required=True)
    week = fields.Date(required=True, metadata={"description": "the Monday"})
    value = number()
    confidence = fields.String(required=True, validate=validate.OneOf(CONFIDENCES))
    note = nullable_string()
    private_note = nullable_string(metadata={"description": "null unless you are the author, their manager or HR"})
    author = fields.Nested(Person, required=True)
    created_at = nullable_string()


class CheckInList(Schema):
    check_ins = fields.List(fields.Nested(CheckIn), required=True, metadata={"description": "newest first"})


class CheckInBody(Schema):
    class Meta:
        unknown = RAISE

    confidence = fields.String(required=True, validate=validate.OneOf(CONFIDENCES))
    value = fields.Raw(metadata={"description": "manual key results: required"})
    week = fields.String(metadata={"description": "any day of the week (YYYY-MM-DD); default: this week"})
    note = nullable_string()
    private_note = nullable_string()


class DecomposeChild(Schema):
    class Meta:
        unknown = RAISE

    objective_id = WholeNumber(strict=True)
    owner_id = WholeNumber(strict=True)
    title = fields.String()
    share = fields.Raw()
    amount = fields.Raw()


class DecomposeBody(Schema):
    class Meta:
        unknown = RAISE

    method = fields.String(required=True, validate=validate.OneOf(METHODS))
    children = fields.List(fields.Nested(DecomposeChild), required=True)


class Decomposition(Schema):
    amounts = fields.List(fields.String(), required=True)
    difference = fields.String(required=True, metadata={"description": "parent target - sum; 0 unless typed"})
    key_results = fields.List(fields.Nested(KeyResultSummary), required=True)
