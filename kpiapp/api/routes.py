"""API endpoints: the same policy and services as the screens, JSON in and out."""

from flask import abort, jsonify, request
from flask_login import current_user
from sqlalchemy import func, select

from kpiapp.api import bp
from kpiapp.api.openapi import openapi_document
from kpiapp.appraisal import services
from kpiapp.appraisal_web import queries
from kpiapp.extensions import db
from kpiapp.models import Cycle, Scorecard
from kpiapp.policy import PUBLIC, STAFF, allow, authorize, visible_cycles_filter, visible_scorecards_filter
from kpiapp.api.serialize import cycle_json, scorecard_json, scorecard_summary

ACTION_KEYS = {"reason", "expected_version"}


def visible_cycles_query():
    return (select(Cycle).where(visible_cycles_filter(current_user))
            .order_by(Cycle.period_start.desc(), Cycle.id))


@bp.route("/openapi.json")
@allow(PUBLIC)
def openapi():
    return jsonify(openapi_document())


@bp.route("/cycles")
@allow(STAFF)
def cycles():
    return jsonify(cycles=[cycle_json(c) for c in db.session.execute(visible_cycles_query()).scalars()])


@bp.route("/cycles/<int:cycle_id>")
@allow(STAFF)
def cycle(cycle_id):
    found = db.session.execute(visible_cycles_query().where(Cycle.id == cycle_id)).scalars().first()
    if found is None:
        abort(404)
    counts = db.session.execute(
        queries.latest_only(
            select(Scorecard.state, func.count()).where(
                Scorecard.cycle_id == cycle_id, visible_scorecards_filter(current_user)
            )
        ).group_by(Scorecard.state)
    ).all()
    return jsonify(cycle_json(found, {str(state): n for state, n in counts}))


@bp.route("/scorecards")
@allow(STAFF)
def scorecards():
    cards = queries.visible_scorecards(current_user, request.args.get("cycle_id", type=int))
    state = request.args.get("state")
    return jsonify(scorecards=[scorecard_summary(c) for c in cards if state in (None, str(c.state))])


@bp.route("/scorecards/<int:scorecard_id>")
@allow(STAFF)
def scorecard(scorecard_id):
    card = authorize("scorecard.view", db.session.get(Scorecard, scorecard_id))
    return jsonify(scorecard_json(card, current_user))


@bp.route("/scorecards/<int:scorecard_id>/actions/<action>", methods=["POST"])
@allow(STAFF)
def act(scorecard_id, action):
    card = authorize("scorecard.view", db.session.get(Scorecard, scorecard_id))
    body = request.get_json(silent=True) if request.content_length else {}
    if not isinstance(body, dict) or set(body) - ACTION_KEYS:
        raise services.ValidationError(
            "invalid_field", f"The body is a JSON object with only {sorted(ACTION_KEYS)}."
        )
    version, reason = body.get("expected_version"), body.get("reason")
    if (version is not None and (isinstance(version, bool) or not isinstance(version, int))) or (
        reason is not None and not isinstance(reason, str)
    ):
        raise services.ValidationError("invalid_value", "expected_version is an integer and reason a string.")
    result = services.apply_action(card.id, action, current_user, reason=reason, expected_version=version)
    db.session.commit()
    return jsonify(scorecard_json(result, current_user))
