"""Scorecards: mine, my team, one scorecard with its targets, reviews, changes and history."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kpiapp import policy
from kpiapp.appraisal import services
from kpiapp.appraisal.scoring import ScoringError
from kpiapp.appraisal.workflow import EDITABLE_STATES, Relation
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.appraisal_web import queries
from kpiapp.appraisal_web.cycle_helpers import grade_now
from kpiapp.appraisal_web.common import (
    ACTION_LABELS,
    audit_refusal,
    back_or_fragment,
    changed_only,
    conflict_response,
    item_fields,
)
from kpiapp.extensions import db
from kpiapp.models import Scorecard
from kpiapp.policy import STAFF, allow, authorize
from kpiapp.web import render_page_or_fragment

bp = Blueprint("scorecards", __name__)

TARGET_FIELDS = ("weight", "target", "threshold", "stretch")
SELF_FIELDS = ("self_score", "self_comment")
MANAGER_FIELDS = ("manager_score", "manager_comment", "override_reason")


def load(scorecard_id):
    return authorize("scorecard.view", db.session.get(Scorecard, scorecard_id))


def expected_version():
    return request.form.get("expected_version", type=int)


def card_context(card):
    """Everything the scorecard fragment shows, and which forms this user gets."""
    superseded = services.is_superseded(card)
    pending, ack = queries.pending_change(card), queries.acknowledgement(card)
    return {
        "card": card, "superseded": superseded, "pending": pending, "ack": ack,
        "can": forms_for(card, policy.relations_of(current_user, card), superseded, pending, ack),
        "actions": [] if superseded else services.allowed_actions(card, current_user),
        "result": result_of(card), "change_requests": queries.change_requests(card),
        "versions": queries.versions_of(card), "item_versions": queries.item_versions(card),
        "grades": [g["grade"] for g in card.cycle.grade_table],
    }


def forms_for(card, relations, superseded, pending, ack):
    """Which forms to show; the services decide again on every post."""
    owner, manager, hr = (r in relations for r in (Relation.OWNER, Relation.MANAGER, Relation.HR))
    live, state = not superseded and not card.is_locked, card.state
    decider = manager and not owner and pending is not None and pending.requested_by_id != current_user.id
    return {
        "edit": live and state in EDITABLE_STATES and (owner or manager),
        "self_review": live and state == S.SELF_REVIEW and owner,
        "manager_review": live and state == S.MANAGER_REVIEW and manager and not owner,
        "request_change": live and state in services.CHANGE_STATES and (owner or manager) and pending is None,
        "decide_change": live and decider,
        "calibrate": live and state == S.CALIBRATION and hr and not owner,
        "acknowledge": card.is_locked and owner and not superseded and ack is None,
    }


def result_of(card):
    if card.is_locked:
        return card.total, card.grade, card.bonus_coefficient
    try:
        return services.current_result(card)
    except (ScoringError, services.AppraisalError):
        return None, None, None


# where a write was made from: the fragment to answer htmx with, the page to go back to
VIEWS = {
    "row": ("scorecards/_team_row.html", lambda card: url_for(".team")),
    "calibration": (
        "cycles/_calibration_row.html",
        lambda card: url_for("cycles.calibration", cycle_id=card.cycle_id),
    ),
}


def respond(card_id, status=200, message=None, error=None):
    card = db.session.get(Scorecard, card_id)
    fragment, url = VIEWS.get(request.form.get("view"), ("scorecards/_scorecard.html", None))
    url = url(card) if url else url_for(".detail", scorecard_id=card_id)
    return back_or_fragment(fragment, url, status, message, error, grade_now=grade_now, **card_context(card))


def write(card, call, done):
    """Run one service call, commit once, answer with the fragment or a redirect."""
    card_id = card.id
    try:
        result = call()
        db.session.commit()
    except services.ConflictError as error:  # a race loser (StaleDataError) or a stale form
        audit_refusal(error, "scorecard", card_id)
        return conflict_response(error, url_for(".detail", scorecard_id=card_id))
    except services.AppraisalError as error:
        audit_refusal(error, "scorecard", card_id)
        return respond(card_id, 422, error=error)
    if isinstance(result, Scorecard) and result.id != card_id:  # a reopen made a new version
        return redirect_to(result.id, done)
    response = respond(card_id, message=done)
    response.headers["HX-Trigger"] = "scorecard-changed"  # other regions (e.g. a distribution) refresh
    return response


def redirect_to(card_id, message):
    """Go to another scorecard version; htmx follows HX-Redirect instead of swapping."""
    flash(message, "success")
    url = url_for(".detail", scorecard_id=card_id)
    if not request.headers.get("HX-Request"):
        return redirect(url)
    response = current_app.make_response(("", 200))
    response.headers["HX-Redirect"] = url
    return response


# ---- pages ------------------------------------------------------------------------------


@bp.route("/")
@allow(STAFF)
def mine():
    return render_template("scorecards/mine.html", cards=queries.my_scorecards(current_user))


@bp.route("/team")
@allow("team.view")
def team():
    groups = queries.team_scorecards(current_user)
    return render_template(
        "scorecards/team.html",
        groups=groups,
        actions_for=lambda card: services.allowed_actions(card, current_user),
    )


@bp.route("/<int:scorecard_id>")
@allow(STAFF)
def detail(scorecard_id):
    card = load(scorecard_id)
    return render_page_or_fragment(
        "scorecards/detail.html", "scorecards/_scorecard.html", **card_context(card)
    )


# ---- writes -----------------------------------------------------------------------------


@bp.route("/<int:scorecard_id>/actions/<action>", methods=["POST"])
@allow(STAFF)
def act(scorecard_id, action):
    card = load(scorecard_id)
    reason = request.form.get("reason", "").strip() or None
    return write(
        card,
        lambda: services.apply_action(
            card.id, action, current_user, reason=reason, expected_version=expected_version()
        ),
        _("%(step)s: done.", step=ACTION_LABELS.get(action, action)),
    )


@bp.route("/<int:scorecard_id>/targets", methods=["POST"])
@allow(STAFF)
def edit_targets(scorecard_id):
    card = load(scorecard_id)
    changes = item_fields(request.form, TARGET_FIELDS)
    return write(
        card,
        lambda: services.update_items(card, current_user, changes, expected_version=expected_version()),
        _("Targets saved."),
    )


@bp.route("/<int:scorecard_id>/self-review", methods=["POST"])
@allow(STAFF)
def self_review(scorecard_id):
    card = load(scorecard_id)
    items = item_fields(request.form, SELF_FIELDS)
    return write(
        card,
        lambda: services.save_self_review(
            card,
            current_user,
            comment=request.form.get("self_comment"),
            items=items,
            expected_version=expected_version(),
        ),
        _("Self-review saved."),
    )


@bp.route("/<int:scorecard_id>/manager-review", methods=["POST"])
@allow(STAFF)
def manager_review(scorecard_id):
    card = load(scorecard_id)
    items = item_fields(request.form, MANAGER_FIELDS)
    return write(
        card,
        lambda: services.save_manager_review(
            card,
            current_user,
            comment=request.form.get("manager_comment"),
            items=items,
            expected_version=expected_version(),
        ),
        _("Review saved."),
    )


@bp.route("/<int:scorecard_id>/change-requests", methods=["POST"])
@allow(STAFF)
def request_change(scorecard_id):
    card = load(scorecard_id)
    changes = changed_only(card, item_fields(request.form, TARGET_FIELDS))
    return write(
        card,
        lambda: services.request_change(
            card, current_user, changes, request.form.get("reason"), expected_version=expected_version()
        ),
        _("Change request sent."),
    )


@bp.route("/<int:scorecard_id>/change-requests/<int:change_id>", methods=["POST"])
@allow(STAFF)
def decide_change(scorecard_id, change_id):
    card = load(scorecard_id)
    change = next((c for c in queries.change_requests(card) if c.id == change_id), None)
    if change is None:
        abort(404)
    return write(
        card,
        lambda: services.decide_change(
            change,
            current_user,
            request.form.get("decision"),
            request.form.get("reason", "").strip() or None,
            expected_version=expected_version(),
        ),
        _("Decided."),
    )


@bp.route("/<int:scorecard_id>/calibrate", methods=["POST"])
@allow(STAFF)
def calibrate(scorecard_id):
    card = load(scorecard_id)
    return write(
        card,
        lambda: services.calibrate(
            card,
            current_user,
            request.form.get("grade"),
            request.form.get("reason"),
            expected_version=expected_version(),
        ),
        _("Grade set."),
    )


@bp.route("/<int:scorecard_id>/acknowledge", methods=["POST"])
@allow(STAFF)
def acknowledge(scorecard_id):
    card = load(scorecard_id)
    objection = request.form.get("objection") == "y"
    return write(
        card,
        lambda: services.acknowledge(
            card, current_user, objection, request.form.get("comment", "").strip() or None
        ),
        _("Acknowledged."),
    )
