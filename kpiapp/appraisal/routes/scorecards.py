"""Scorecards: mine, my team, one scorecard with its targets, reviews, changes and history."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from kpiapp import charts, policy
from kpiapp.appraisal import disputes, drafts, progress, queries, services
from kpiapp.appraisal.appeal_flow import AppealStep
from kpiapp.appraisal.workflow import Edit
from kpiapp.bonus import services as bonus_services
from kpiapp.appraisal.routes import cycle_helpers, forms
from kpiapp.appraisal.routes.common import (
    back_or_fragment,
    changed_only,
    conflict_context,
    error_text,
    form_refusal,
    plain,
    step_label,
)
from kpiapp.chart_labels import chart_labels
from kpiapp.extensions import db
from kpiapp.forms import focus_first_error, leaf_fields
from kpiapp.models import Scorecard
from kpiapp.policy import STAFF, allow, authorize
from kpiapp.web.kept_pages import kept_page
from kpiapp.web.pages import render_page_or_fragment
from kpiapp.web.refusals import audit_refusal

bp = Blueprint("scorecards", __name__)

# which form class each "can" entry of forms_for shows
FORMS = {
    "edit_targets": forms.TargetsForm,
    "self_review": forms.SelfReviewForm,
    "manager_review": forms.ManagerReviewForm,
    "request_change": forms.ChangeRequestForm,
    "decide_change": forms.DecideChangeForm,
    "calibrate": forms.CalibrateForm,
    "acknowledge": forms.AcknowledgeForm,
}
# a refusal that names no input, shown next to the one it is about
FIELD_OF_CODE = {"reason_required": ("reason", "comment", "text")}


def load(scorecard_id):
    return authorize("scorecard.view", db.session.get(Scorecard, scorecard_id))


def posted(scorecard_id, form_class):
    """The scorecard (404/403 first) and its form bound to the post."""
    card = load(scorecard_id)
    return card, forms.build(form_class, card, post=True)


def version(form):
    return form.expected_version.data


def card_context(card, kept=None):
    """Everything the scorecard fragment shows, and which forms this user gets; `kept` is a
    refused post, shown again as typed in place of its blank form."""
    superseded = services.is_superseded(card)
    pending, ack = queries.pending_change(card), queries.acknowledgement(card)
    permitted = services.permitted(card, current_user)
    can = forms_for(permitted)
    result = result_of(card)
    appeal = queries.appeal_of(card)
    appeal_steps = services.appeal_permitted(card, current_user, appeal)
    card_drafts = own_drafts(card, can)
    return {
        "appeal": appeal, "appeal_steps": appeal_steps, "history": queries.history(card),
        "appeal_form": appeal_form(card, appeal_steps, kept),
        "card": card, "superseded": superseded, "pending": pending, "ack": ack, "can": can,
        "forms": card_forms(card, can, result, kept, card_drafts), "drafts": card_drafts,
        "actions": list(permitted.actions),
        "result": result, "change_requests": queries.change_requests(card),
        "versions": queries.versions_of(card), "item_versions": queries.item_versions(card),
        "grades": [g["grade"] for g in card.cycle.grade_table],
        "points_chart": points_chart(card),
        "standing": progress.standing(card, acknowledged=ack is not None),
        "projection": progress.projected(card) if result[0] is None else None,
        "bonus_line": visible_bonus(card),
        "disputes": disputes.panel(card, current_user),
    }


def visible_bonus(card):
    """The card's frozen bonus line, when this user may see it (the person, HR, admins)."""
    line = bonus_services.own_line(card)
    return line if line is not None and policy.can(current_user, "bonus.view", line) else None


def points_chart(card):
    """Points per item, the same chart spec as the signed report's; None before any item has points."""
    rows = [(i.name, i.final_points if i.final_points is not None else i.computed_points, i.weight)
            for i in card.items]
    if all(points is None for _name, points, _weight in rows):
        return None
    table = [(name, plain(points) or "—", f"{plain(weight)}%") for name, points, weight in rows]
    return {"spec": charts.points_bars(rows, chart_labels()), "rows": table}


def forms_for(permitted):
    """Which forms to show ({edit: bool}, e.g. can.self_review): the edits the services accept."""
    return {str(edit): edit in permitted.edits for edit in Edit}


def own_drafts(card, can):
    """{stage: draft} of the current user's drafts of the reviews they may write now."""
    found = {str(stage): drafts.find(card, current_user, stage) for stage in drafts.STAGES if can[str(stage)]}
    return {stage: draft for stage, draft in found.items() if draft is not None}


def card_forms(card, can, result, kept=None, own=None):
    """The forms this user gets, filled from the card, from their draft, or (`kept`) as refused."""
    own = own or {}
    shown = {name: forms.build(form_class, card, typed=own[name].payload if name in own else None)
             for name, form_class in FORMS.items() if can[name]}
    if "calibrate" in shown:
        shown["calibrate"].grade.data = result[1]
    kept_as = next((name for name, form_class in FORMS.items() if isinstance(kept, form_class)), None)
    if kept_as in shown:
        shown[kept_as] = focus_first_error(kept)
    return shown


def appeal_form(card, steps, kept=None):
    """The form for the appeal steps this user may take (raise goes through acknowledge)."""
    if isinstance(kept, forms.AppealForm):
        return focus_first_error(kept)
    if any(step != AppealStep.RAISE for step in steps):
        return forms.build(forms.AppealForm, card)
    return None


def result_of(card):
    return services.shown_result(card)


# where a write was made from: the fragment to answer htmx with, the page to go back to, and
# what else the fragment shows of the card
VIEWS = {
    "row": ("scorecards/_team_row.html", lambda card: url_for(".team"), lambda card: {}),
    "calibration": (
        "cycles/_calibration_row.html",
        lambda card: url_for("cycles.calibration", cycle_id=card.cycle_id),
        lambda card: {"row": cycle_helpers.calibration_rows([card], current_user)[0]},
    ),
}


def respond(card_id, form, status=200, message=None, error=None, conflict=None):
    """After a write. Rows of a list get their fragment (or the list again); the scorecard page
    redirects after a success, and after a refusal shows itself again with what was typed."""
    card = db.session.get(Scorecard, card_id)
    context = card_context(card, kept=form if status >= 400 else None)
    if form.view.data in VIEWS:
        fragment, url, shown = VIEWS[form.view.data]
        return back_or_fragment(fragment, url(card), status, message, error, **shown(card), **context)
    if status >= 400:
        if conflict and conflict.get("kept"):
            conflict["rows"] = typed_beside_current(form, card)
        return render_page_or_fragment("scorecards/detail.html", "scorecards/_scorecard.html", status=status,
                                       error=error, conflict=conflict, **context)
    url = url_for(".detail", scorecard_id=card_id)
    return back_or_fragment("scorecards/_scorecard.html", url, status, message, **context)


def save(card, form, call, done):
    """Validate the form, run one service call, commit once, answer with the fragment or a redirect."""
    card_id = card.id
    if not form.validate():
        return respond(card_id, form, 422, error=form_refusal())
    try:
        result = call()
        db.session.commit()
    except services.ConflictError as error:  # a race loser (StaleDataError) or a stale form
        audit_refusal(error, "scorecard", card_id)
        kept = not isinstance(form, forms.ActionForm)  # an action button has nothing typed to keep
        return respond(card_id, form, 409, error=error, conflict={**conflict_context(error), "kept": kept})
    except services.AppraisalError as error:
        audit_refusal(error, "scorecard", card_id)
        mark_refusal(form, error)
        return respond(card_id, form, 422, error=error)
    if isinstance(result, Scorecard) and result.id != card_id:  # a reopen made a new version
        return redirect_to(result.id, done)
    response = respond(card_id, form, message=done)
    response.headers["HX-Trigger"] = "scorecard-changed"  # other regions (e.g. a distribution) refresh
    return response


def typed_beside_current(kept, card):
    """[(what, typed, saved now)] for each input typed differently from what the scorecard holds
    now, so the conflict notice shows both and the person can copy what they wrote."""
    form_class = next((c for c in FORMS.values() if isinstance(kept, c)), None)
    if form_class is None:
        return []
    current = forms.build(form_class, card)
    now = {f.name: f for f in leaf_fields(current)}
    rows = []
    for name, text in forms.typed_values(kept).items():
        saved = now[name]._value() if name in now else ""
        if text.strip() != (saved or "").strip():
            rows.append((input_label(card, now.get(name)), text, saved))
    return rows


def input_label(card, field):
    """'GMV · Target' for an item's input, the label alone for the scorecard's own."""
    if field is None:
        return ""
    parts = field.name.split("-")
    item = card.item(parts[1]) if len(parts) == 3 and parts[0] == "items" and parts[1].isdigit() else None
    return f"{item.name} · {field.label.text}" if item is not None else str(field.label.text)


def mark_refusal(form, error):
    """Show a service refusal next to the input it is about, when the form has that input."""
    names = (error.field,) if error.field else FIELD_OF_CODE.get(error.code, ())
    field = next((f for f in (forms.input_of(form, n, error.item_id) for n in names) if f is not None), None)
    if field is not None:
        field.errors = [*field.errors, error_text(error)]


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
@kept_page()
def team():
    groups, totals, next_after = queries.team_page(current_user, request.args.get("after", type=int))
    facts = services.facts_for([card for cards in groups.values() for card in cards], current_user)
    return render_template(
        "scorecards/team.html",
        groups=groups,
        totals=totals,
        next_after=next_after,
        actions_for=lambda card: services.permitted(card, current_user, facts[card.id]).actions,
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
    card, form = posted(scorecard_id, forms.ActionForm)
    return save(card, form, lambda: services.apply_action(
        card.id, action, current_user, reason=form.reason.data or None, expected_version=version(form)),
        _("%(step)s: done.", step=step_label(action)))


@bp.route("/<int:scorecard_id>/targets", methods=["POST"])
@allow(STAFF)
def edit_targets(scorecard_id):
    card, form = posted(scorecard_id, forms.TargetsForm)
    return save(card, form, lambda: services.update_items(
        card, current_user, forms.item_changes(form), expected_version=version(form)), _("Targets saved."))


@bp.route("/<int:scorecard_id>/self-review", methods=["POST"])
@allow(STAFF)
def self_review(scorecard_id):
    card, form = posted(scorecard_id, forms.SelfReviewForm)

    def call():
        return services.save_self_review(card, current_user, comment=forms.sent(form.self_comment),
                                         items=forms.item_changes(form), expected_version=version(form))
    return save(card, form, call, _("Self-review saved."))


@bp.route("/<int:scorecard_id>/manager-review", methods=["POST"])
@allow(STAFF)
def manager_review(scorecard_id):
    card, form = posted(scorecard_id, forms.ManagerReviewForm)

    def call():
        return services.save_manager_review(card, current_user, comment=forms.sent(form.manager_comment),
                                            items=forms.item_changes(form), expected_version=version(form))
    return save(card, form, call, _("Review saved."))


# ---- drafts -----------------------------------------------------------------------------


@bp.route("/<int:scorecard_id>/drafts/<stage>", methods=["POST"])
@allow(STAFF)
def save_draft(scorecard_id, stage):
    """Autosave (htmx, while the person types): keep what was typed, answer with "saved 12:03"."""
    card, form = posted(scorecard_id, FORMS.get(stage) or abort(404))
    try:
        draft = drafts.save(card, current_user, stage, forms.typed_values(form))
        db.session.commit()
    except services.AppraisalError as error:
        db.session.rollback()
        audit_refusal(error, "scorecard", card.id)
        return render_template("scorecards/_draft_status.html", card=card, stage=stage, draft=None,
                               refused=True), error.status
    return render_template("scorecards/_draft_status.html", card=card, stage=stage, draft=draft)


@bp.route("/<int:scorecard_id>/drafts/<stage>/discard", methods=["POST"])
@allow(STAFF)
def discard_draft(scorecard_id, stage):
    card, form = posted(scorecard_id, forms.CardForm)
    if stage not in map(str, drafts.STAGES):
        abort(404)
    drafts.end(card, current_user, stage, "discarded")
    db.session.commit()
    return respond(card.id, form, message=_("Draft discarded."))


@bp.route("/<int:scorecard_id>/change-requests", methods=["POST"])
@allow(STAFF)
def request_change(scorecard_id):
    card, form = posted(scorecard_id, forms.ChangeRequestForm)
    return save(card, form, lambda: services.request_change(
        card, current_user, changed_only(card, forms.item_changes(form)), form.reason.data,
        expected_version=version(form)), _("Change request sent."))


@bp.route("/<int:scorecard_id>/change-requests/<int:change_id>", methods=["POST"])
@allow(STAFF)
def decide_change(scorecard_id, change_id):
    card, form = posted(scorecard_id, forms.DecideChangeForm)
    change = next((c for c in queries.change_requests(card) if c.id == change_id), None)
    if change is None:
        abort(404)
    return save(card, form, lambda: services.decide_change(
        change, current_user, form.decision.data, form.reason.data or None, expected_version=version(form)),
        _("Decided."))


@bp.route("/<int:scorecard_id>/calibrate", methods=["POST"])
@allow(STAFF)
def calibrate(scorecard_id):
    card, form = posted(scorecard_id, forms.CalibrateForm)
    return save(card, form, lambda: services.calibrate(
        card, current_user, form.grade.data, form.reason.data, expected_version=version(form)),
        _("Grade set."))


@bp.route("/<int:scorecard_id>/acknowledge", methods=["POST"])
@allow(STAFF)
def acknowledge(scorecard_id):
    card, form = posted(scorecard_id, forms.AcknowledgeForm)
    return save(card, form, lambda: services.acknowledge(
        card, current_user, form.objection.data, form.comment.data or None), _("Acknowledged."))


# appeal steps taken on the scorecard page (raise is acknowledge with an objection)
APPEAL_CALLS = {
    AppealStep.ANSWER: (services.answer_appeal, _l("Reply sent.")),
    AppealStep.CLOSE: (services.close_appeal, _l("Appeal closed.")),
    AppealStep.REOPEN: (services.reopen_from_appeal, _l("Reopened as a new version.")),
}


@bp.route("/<int:scorecard_id>/appeal/<step>", methods=["POST"])
@allow(STAFF)
def appeal_step(scorecard_id, step):
    card, form = posted(scorecard_id, forms.AppealForm)
    appeal = queries.appeal_of(card)
    if appeal is None or step not in {str(s) for s in APPEAL_CALLS}:
        abort(404)
    call, done = APPEAL_CALLS[AppealStep(step)]
    return save(card, form, lambda: call(appeal, current_user, form.text.data or None), str(done))
