"""/api/v1/objectives and /api/v1/key-results: objectives (a tree through parent_id), key
results, check-ins and decomposition, through the same services and policy as the pages."""

from flask import jsonify, request
from flask_login import current_user
from marshmallow import ValidationError as MarshmallowError

from kpiapp.api import objective_schemas as shapes
from kpiapp.api.routes import bp
from kpiapp.extensions import db
from kpiapp.models import KeyResult, Objective
from kpiapp.objectives import services
from kpiapp.objectives.services import ObjectiveError
from kpiapp.policy import STAFF, allow, authorize
from kpiapp.web.refusals import audit_refusal


def num(value):
    return None if value is None else str(value)


def person_json(user):
    return {"id": user.id, "name": user.name}


def objective_json(objective, detail=False):
    rolled = services.objective_progress(objective)
    data = {
        "id": objective.id, "title": objective.title, "description": objective.description,
        "level": str(objective.level), "owner": person_json(objective.owner), "parent_id": objective.parent_id,
        "department_id": objective.department_id,
        "period": {"kind": str(objective.period_kind), "label": services.period_label(objective),
                   "start": objective.period_start.isoformat(), "end": objective.period_end.isoformat()},
        "weight": num(objective.weight), "rollup": objective.rollup, "shared": objective.shared,
        "status": str(objective.status), "progress": num(rolled.progress), "weight_covered": num(rolled.weight_covered),
        "at_risk": services.objective_at_risk(objective)}
    if detail:
        data["key_results"] = [kr_json(kr) for kr in objective.key_results]
    return data


def kr_json(kr, detail=False):
    data = {
        "id": kr.id, "objective_id": kr.objective_id, "title": kr.title, "kind": str(kr.kind),
        "owner": person_json(kr.owner), "metric_key": kr.metric_key, "scope": kr.scope, "sku": kr.sku,
        "unit": kr.unit, "start_value": num(kr.start_value), "target": num(kr.target), "current": num(kr.current),
        "progress": num(kr.progress), "confidence": str(kr.confidence) if kr.confidence else None,
        "at_risk": services.kr_at_risk(kr), "weight": num(kr.weight),
        "data_as_of": kr.data_as_of.isoformat() if kr.data_as_of else None, "parent_kr_id": kr.parent_kr_id}
    if detail:
        data.update(milestones=[{"id": m.id, "title": m.title, "done": m.done} for m in kr.milestones],
                    children=[c.id for c in kr.children], provenance=kr.provenance)
    return data


def tree_json(node):
    return {**objective_json(node.objective), "children": [tree_json(c) for c in node.children],
            "hidden_children": node.hidden_children}


def check_in_json(row):
    entry = row["entry"]
    return {"id": entry.id, "key_result_id": entry.key_result_id, "week": entry.week.isoformat(),
            "value": num(entry.value), "confidence": str(entry.confidence), "note": entry.note,
            "private_note": row["private_note"], "author": person_json(entry.author),
            "created_at": entry.created_at.isoformat() if entry.created_at else None}


def body(schema):
    """The request's JSON through `schema`: unknown keys are invalid_field, wrong types invalid_value."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ObjectiveError("invalid_body", "The body is a JSON object.")
    try:
        return schema.load(data)
    except MarshmallowError as error:
        messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
        unknown = any("Unknown field." in str(m) for m in messages.values())
        field = next(iter(messages), None)
        raise ObjectiveError("invalid_field" if unknown else "invalid_value", f"Invalid body: {messages}",
                             None if field == "_schema" else field) from None


def objective_or_404(objective_id):
    return authorize("objective.view", db.session.get(Objective, objective_id))


def kr_or_404(kr_id):
    kr = db.session.get(KeyResult, kr_id)
    authorize("objective.view", kr.objective if kr is not None else None)
    return kr


def created(data):
    response = jsonify(data)
    response.status_code = 201
    return response


@bp.route("/objectives")
@allow(STAFF)
def list_objectives():
    """---
    get:
      summary: Objectives you may see (a flat list; the tree is in parent_id)
      operationId: listObjectives
      parameters:
      - {in: query, name: period, schema: {type: string}, description: "2026, 2026-Q4 or 2026-11"}
      - {in: query, name: level, schema: {type: string}}
      - {in: query, name: owner_id, schema: {type: integer}}
      responses:
        200: {description: OK, content: {application/json: {schema: ObjectiveList}}}
        401: Unauthorized
        403: Forbidden
    """
    period, level = request.args.get("period"), request.args.get("level")
    owner_id = request.args.get("owner_id", type=int)
    rows = [o for o in services.visible_objectives(current_user)
            if (not period or services.period_label(o) == period) and (not level or str(o.level) == level)
            and (owner_id is None or o.owner_id == owner_id)]
    return jsonify(objectives=[objective_json(o) for o in rows])


@bp.route("/objectives", methods=["POST"])
@allow(STAFF)
def create_objective():
    """---
    post:
      summary: Create an objective
      operationId: createObjective
      requestBody: {required: true, content: {application/json: {schema: ObjectiveBody}}}
      responses:
        201: {description: Created, content: {application/json: {schema: Objective}}}
        401: Unauthorized
        403: Forbidden
        422: Refused
    """
    objective = services.create_objective(body(shapes.ObjectiveBody()), current_user)
    db.session.commit()
    return created(objective_json(objective, detail=True))


@bp.route("/objectives/<int:objective_id>")
@allow(STAFF)
def get_objective(objective_id):
    """---
    get:
      summary: One objective with its key results
      operationId: getObjective
      responses:
        200: {description: OK, content: {application/json: {schema: Objective}}}
        401: Unauthorized
        403: Forbidden
        404: NotFound
    """
    return jsonify(objective_json(objective_or_404(objective_id), detail=True))


@bp.route("/objectives/<int:objective_id>", methods=["PATCH"])
@allow(STAFF)
def update_objective(objective_id):
    """---
    patch:
      summary: Change an objective (not its level, owner or period)
      operationId: updateObjective
      requestBody: {required: true, content: {application/json: {schema: ObjectivePatch}}}
      responses:
        200: {description: OK, content: {application/json: {schema: Objective}}}
        401: Unauthorized
        403: Forbidden
        404: NotFound
        422: Refused
    """
    objective = objective_or_404(objective_id)
    values = {**services.objective_values(objective), **body(shapes.ObjectivePatch())}
    services.update_objective(objective, values, current_user)
    db.session.commit()
    return jsonify(objective_json(objective, detail=True))


@bp.route("/objectives/<int:objective_id>/tree")
@allow(STAFF)
def objective_tree(objective_id):
    """---
    get:
      summary: The alignment tree below an objective (children you may see, with progress and at-risk)
      operationId: getObjectiveTree
      responses:
        200: {description: OK, content: {application/json: {schema: ObjectiveTree}}}
        401: Unauthorized
        403: Forbidden
        404: NotFound
    """
    return jsonify(tree_json(services.alignment_tree(objective_or_404(objective_id), current_user)))


@bp.route("/objectives/<int:objective_id>/key-results", methods=["POST"])
@allow(STAFF)
def create_key_result(objective_id):
    """---
    post:
      summary: Add a key result (metric, manual or milestone) to an objective
      operationId: createKeyResult
      requestBody: {required: true, content: {application/json: {schema: KeyResultBody}}}
      responses:
        201: {description: Created, content: {application/json: {schema: KeyResult}}}
        401: Unauthorized
        403: Forbidden
        404: NotFound
        422: Refused
    """
    objective = objective_or_404(objective_id)
    kr = services.create_key_result(objective, body(shapes.KeyResultBody()), current_user)
    db.session.commit()
    return created(kr_json(kr, detail=True))


@bp.route("/key-results/<int:kr_id>")
@allow(STAFF)
def get_key_result(kr_id):
    """---
    get:
      summary: One key result with its milestones, children and provenance
      operationId: getKeyResult
      responses:
        200: {description: OK, content: {application/json: {schema: KeyResult}}}
        401: Unauthorized
        403: Forbidden
        404: NotFound
    """
    return jsonify(kr_json(kr_or_404(kr_id), detail=True))


@bp.route("/key-results/<int:kr_id>", methods=["PATCH"])
@allow(STAFF)
def update_key_result(kr_id):
    """---
    patch:
      summary: Change a key result (its kind stays)
      operationId: updateKeyResult
      requestBody: {required: true, content: {application/json: {schema: KeyResultPatch}}}
      responses:
        200: {description: OK, content: {application/json: {schema: KeyResult}}}
        401: Unauthorized
        403: Forbidden
        404: NotFound
        422: Refused
    """
    kr = kr_or_404(kr_id)
    values = {**services.kr_values(kr), **body(shapes.KeyResultPatch())}
    services.update_key_result(kr, values, current_user)
    db.session.commit()
    return jsonify(kr_json(kr, detail=True))


@bp.route("/key-results/<int:kr_id>/check-ins")
@allow(STAFF)
def list_check_ins(kr_id):
    """---
    get:
      summary: A key result's check-ins, newest first (private notes only for those who may read them)
      operationId: listCheckIns
      responses:
        200: {description: OK, content: {application/json: {schema: CheckInList}}}
        401: Unauthorized
        403: Forbidden
        404: NotFound
    """
    rows = services.check_in_history(kr_or_404(kr_id), current_user)
    return jsonify(check_ins=[check_in_json(row) for row in rows])


@bp.route("/key-results/<int:kr_id>/check-ins", methods=["POST"])
@allow(STAFF)
def create_check_in(kr_id):
    """---
    post:
      summary: Check in on a key result (a value for manual ones, a confidence, notes)
      operationId: createCheckIn
      requestBody: {required: true, content: {application/json: {schema: CheckInBody}}}
      responses:
        201: {description: Created, content: {application/json: {schema: CheckIn}}}
        401: Unauthorized
        403: Forbidden
        404: NotFound
        422: Refused
    """
    kr = kr_or_404(kr_id)
    entry = services.check_in(kr, body(shapes.CheckInBody()), current_user)
    db.session.commit()
    return created(check_in_json({"entry": entry, "private_note": entry.private_note}))


@bp.route("/key-results/<int:kr_id>/decompose", methods=["POST"])
@allow(STAFF)
def decompose_key_result(kr_id):
    """---
    post:
      summary: Split a key result's target into child key results (by shares, equal, or typed amounts)
      description: Shares and equal splits are rounded to the cent by the largest remainder and sum to
        the target exactly; typed amounts are kept and the difference is returned.
      operationId: decomposeKeyResult
      requestBody: {required: true, content: {application/json: {schema: DecomposeBody}}}
      responses:
        201: {description: Created, content: {application/json: {schema: Decomposition}}}
        401: Unauthorized
        403: Forbidden
        404: NotFound
        422: Refused
    """
    kr = kr_or_404(kr_id)
    data = body(shapes.DecomposeBody())
    split, children = services.decompose(kr, data["method"], data["children"], current_user)
    db.session.commit()
    return created({"amounts": [str(a) for a in split.amounts], "difference": str(split.difference),
                    "key_results": [kr_json(c) for c in children]})


def objective_error(error):
    """A refused objective call (audited): its stable code, the field at fault, its status."""
    audit_refusal(error, "objective", (request.view_args or {}).get("objective_id"))
    response = jsonify(error={"code": error.code, "message": error.message, "field": error.field})
    response.status_code = error.status
    return response


bp.register_error_handler(ObjectiveError, objective_error)
