"""API endpoints: the same policy and services as the screens, JSON in and out."""

from flask import Blueprint, abort, current_app, jsonify, render_template, request
from flask_login import current_user
from marshmallow import ValidationError as MarshmallowError
from sqlalchemy import func, select

from kpiapp.api.openapi import openapi_document
from kpiapp.api.schemas import ActionBody
from kpiapp.api.serialize import cycle_json, scorecard_json, scorecard_summary
from kpiapp.appraisal import queries, results, services
from kpiapp.extensions import db
from kpiapp.models import Cycle, Scorecard
from kpiapp.policy import PUBLIC, STAFF, allow, authorize, visible_cycles_filter, visible_scorecards_filter

bp = Blueprint("api", __name__)

ACTION_KEYS = sorted(ActionBody().fields)


def visible_cycles_query():
    return (select(Cycle).where(visible_cycles_filter(current_user))
            .order_by(Cycle.period_start.desc(), Cycle.id))


@bp.route("/openapi.json")
@allow(PUBLIC)
def openapi():
    """---
    get:
      summary: This document (OpenAPI 3.1)
      operationId: getOpenApi
      security: []
      responses:
        200: {description: The OpenAPI document, content: {application/json: {schema: {type: object}}}}
    """
    return jsonify(openapi_document(current_app))


@bp.route("/docs")
@allow(PUBLIC)
def docs():
    """---
    get:
      summary: This document as a browsable page (Swagger UI)
      operationId: getDocsPage
      security: []
      responses:
        200: {description: An HTML page, content: {text/html: {schema: {type: string}}}}
    """
    return render_template("api/docs.html")


@bp.route("/cycles")
@allow(STAFF)
def cycles():
    """---
    get:
      summary: Cycles you take part in (all, for HR)
      operationId: listCycles
      responses:
        200: {description: OK, content: {application/json: {schema: CycleList}}}
        401: Unauthorized
        403: Forbidden
    """
    return jsonify(cycles=[cycle_json(c) for c in db.session.execute(visible_cycles_query()).scalars()])


@bp.route("/cycles/<int:cycle_id>")
@allow(STAFF)
def cycle(cycle_id):
    """---
    get:
      summary: One cycle with scorecard counts by state
      operationId: getCycle
      responses:
        200: {description: OK, content: {application/json: {schema: Cycle}}}
        401: Unauthorized
        403: Forbidden
        404: NotFound
    """
    found = visible_cycle_or_404(cycle_id)
    counts = db.session.execute(
        queries.latest_only(
            select(Scorecard.state, func.count()).where(
                Scorecard.cycle_id == cycle_id, visible_scorecards_filter(current_user)
            )
        ).group_by(Scorecard.state)
    ).all()
    return jsonify(cycle_json(found, {str(state): n for state, n in counts}))


def visible_cycle_or_404(cycle_id):
    """The cycle if the caller may see it; else 404, as for a cycle that does not exist."""
    found = db.session.execute(visible_cycles_query().where(Cycle.id == cycle_id)).scalars().first()
    if found is None:
        abort(404)
    return found


@bp.route("/cycles/<int:cycle_id>/results")
@allow(STAFF)
def cycle_results(cycle_id):
    """---
    get:
      summary: The cycle's results, one row per KPI item of each latest scorecard you may see
      description: The same rows as the results export (docs/bonus.md); numbers are decimal strings.
      operationId: getCycleResults
      responses:
        200: {description: OK, content: {application/json: {schema: Results}}}
        401: Unauthorized
        403: Forbidden
        404: NotFound
    """
    found = visible_cycle_or_404(cycle_id)
    rows = results.result_rows(found, visible_scorecards_filter(current_user))
    return jsonify(cycle_id=found.id, columns=results.COLUMNS, rows=rows)


@bp.route("/scorecards")
@allow(STAFF)
def scorecards():
    """---
    get:
      summary: Scorecards you may see (latest versions)
      operationId: listScorecards
      parameters:
      - {in: query, schema: ScorecardQuery}
      responses:
        200: {description: OK, content: {application/json: {schema: ScorecardList}}}
        401: Unauthorized
        403: Forbidden
    """
    cards = queries.visible_scorecards(current_user, request.args.get("cycle_id", type=int))
    state = request.args.get("state")
    return jsonify(scorecards=[scorecard_summary(c) for c in cards if state in (None, str(c.state))])


@bp.route("/scorecards/<int:scorecard_id>")
@allow(STAFF)
def scorecard(scorecard_id):
    """---
    get:
      summary: One scorecard with items, events and the actions you may take
      operationId: getScorecard
      responses:
        200: {description: OK, content: {application/json: {schema: Scorecard}}}
        401: Unauthorized
        403: Forbidden
        404: NotFound
    """
    card = authorize("scorecard.view", db.session.get(Scorecard, scorecard_id))
    return jsonify(scorecard_json(card, current_user))


@bp.route("/scorecards/<int:scorecard_id>/actions/<action>", methods=["POST"])
@allow(STAFF)
def act(scorecard_id, action):
    """---
    post:
      summary: Move a scorecard through the workflow
      operationId: scorecardAction
      requestBody:
        required: false
        content: {application/json: {schema: ActionBody}}
      responses:
        200:
          description: The scorecard after the step (a reopen returns the new version)
          content: {application/json: {schema: Scorecard}}
        401: Unauthorized
        403: Forbidden
        404: NotFound
        409: Conflict
        422: Refused
    """
    card = authorize("scorecard.view", db.session.get(Scorecard, scorecard_id))
    body = action_body()
    version, reason = body.get("expected_version"), body.get("reason")
    result = services.apply_action(card.id, action, current_user, reason=reason, expected_version=version)
    db.session.commit()
    return jsonify(scorecard_json(result, current_user))


def action_body():
    """The request body through ActionBody: unknown keys are invalid_field, wrong types invalid_value."""
    body = request.get_json(silent=True) if request.content_length else {}
    try:
        return ActionBody().load(body)
    except MarshmallowError as error:
        messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
        unknown = "_schema" in messages or any("Unknown field." in m for m in messages.values())
        code = "invalid_field" if unknown else "invalid_value"
        message = f"The body is a JSON object with only {ACTION_KEYS}: {messages}"
        raise services.ValidationError(code, message) from None
