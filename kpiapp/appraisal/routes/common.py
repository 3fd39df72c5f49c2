"""Shared by the appraisal screens: labels, error texts, score explanations, responses."""

from datetime import date
from decimal import Decimal, InvalidOperation

from flask import current_app, flash, g, redirect, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from kpiapp import presentation
from kpiapp.appraisal import progress
from kpiapp.appraisal.services import ValidationError
from kpiapp.appraisal.appeal_flow import AppealState
from kpiapp.appraisal.workflow import FORM_OF_ACTION, Action
from kpiapp.extensions import db
from kpiapp.metrics import services as metric_services
from kpiapp.web.pages import is_fragment_request, ui_lang

REASON_ACTIONS = {Action.RETURN_, Action.RETURN_SELF_REVIEW, Action.REOPEN}

# Service error codes (kpiapp/appraisal/services.py), in words a user understands.
ERROR_TEXT = {
    "weights_not_100": _l("The weights must total 100."),
    "item_incomplete": _l("Every item needs a target and a threshold (and a stretch for linear rules)."),
    "self_review_incomplete": _l("Add a self-review comment and a self score for every manual item."),
    "final_points_missing": _l("Every item needs final points first."),
    "override_reason_required": _l("Overriding a computed score needs a reason."),
    "change_request_pending": _l("A change request is pending; decide it first."),
    "not_allowed_in_state": _l("This is not possible in the scorecard's current state."),
    "forbidden": _l("You are not allowed to do this."),
    "own_scorecard": _l("You cannot do this on your own scorecard."),
    "own_request": _l("Someone other than the requester decides a change request."),
    "reason_required": _l("Please give a reason."),
    "locked": _l("This scorecard is locked; only an admin reopen can change it."),
    "not_found": _l("Not found."),
    "invalid_field": _l("A field cannot be changed here."),
    "invalid_value": _l("A value is not valid."),
    "not_editable": _l("Approved targets change only through a change request."),
    "already_decided": _l("This change request was already decided."),
    "already_acknowledged": _l("This result was already acknowledged."),
    "superseded": _l("A newer version of this scorecard exists."),
    "not_locked": _l("Only a locked result can be appealed."),
    "manual_score_out_of_range": _l("The score is outside the item's scale."),
    "order_threshold_not_below_target": _l("Higher is better here: the threshold must be below the target."),
    "order_stretch_below_target": _l("Higher is better here: the stretch must be at least the target."),
    "order_threshold_not_above_target": _l("Lower is better here: the threshold must be above the target."),
    "order_stretch_above_target": _l("Lower is better here: the stretch must be at most the target."),
    "duplicate_code": _l("A template with this code exists."),
    "invalid_period": _l("The period ends before it starts."),
    "invalid_okr_weight": _l("The OKR weight must be above 0 and below 100."),
    "invalid_reminders": _l("Reminders: days before from 1 to 60, again every 1 to 30 days, to the manager "
                            "after 1 to 60 days."),
    "invalid_grade_table": _l("Each grade needs a name, a minimum score and a coefficient."),
    "cycle_not_complete": _l("Some scorecards are not locked yet."),
    "form_invalid": _l("Some entries need correcting: see the marked fields."),
    "conflict": _l("Someone else changed this scorecard in the meantime; nothing was saved. Reload it."),
    "not_current": _l("Only the current version of a template can be edited."),
    "invalid_rule": _l("A scoring rule is not complete or not valid."),
    "invalid_number": _l("A number is not valid."),
    "linear_incomplete": _l("A linear rule needs a threshold, a target and a stretch."),
    "cap_below_100": _l("The cap must be at least 100 points."),
    "linear_order": _l("Threshold, target and stretch must run in the metric's direction (higher or lower is better)."),
    "cap_without_stretch": _l("When the stretch equals the target, the cap must be 100 points."),
    "bands_empty": _l("A bands rule needs at least one band."),
    "band_empty_range": _l("Each band's lower bound must be below its upper bound."),
    "bands_overlap": _l("Bands must not overlap."),
    "pass_fail_incomplete": _l("A pass/fail rule needs a target."),
    "pass_points_not_positive": _l("Pass points must be above 0."),
    "scale_max_not_positive": _l("A manual item needs a scale maximum above 0."),
    "grade_table_empty": _l("The grade table needs at least one grade."),
    "blank_grade": _l("Every grade needs a name."),
    "duplicate_grade": _l("Grade names must be unique."),
    "invalid_max_share": _l("A quota share must be above 0 and at most 1."),
    "negative_coefficient": _l("A bonus coefficient cannot be negative."),
    "duplicate_min_score": _l("Two grades cannot start at the same score."),
    "unknown_grade": _l("This grade is not in the cycle's grade table."),
    "bonus_frozen": _l("The bonus table is frozen: nothing in it can change."),
    "not_participant": _l("This person is not in the cycle."),
    "invalid_base": _l("Enter amounts of 0 or more, with at most two decimals."),
    "nothing_to_scale": _l("The amounts add up to 0: there is nothing to scale to the budget."),
    "dispute_open": _l(
        "A data dispute on this scorecard is open: close it first, or HR allows the lock with a reason."),
    "own_dispute": _l("You cannot handle a dispute about your own scorecard or one you raised."),
    "not_data_backed": _l("Only a number from imported data can be disputed."),
    "already_disputed": _l("This number already has an open dispute."),
    "scorecard_locked": _l("The scorecard is locked: its numbers are frozen. An appeal is the way now."),
    "already_overridden": _l("HR already allowed the lock despite this dispute."),
    "import_not_committed": _l("Choose an import that has finished."),
    "import_not_used": _l("This import is not among the number's inputs."),
    "no_open_dispute": _l("No open dispute blocks this scorecard."),
    "correction_missing": _l("Choose the import that corrects the number, or type the corrected value."),
}
UNKNOWN_ERROR = _l("This could not be done.")


def step_label(action):
    """An action named in the URL, in words; one the workflow does not know shows as given
    (the service refuses it)."""
    try:
        return presentation.label(Action(action), ui_lang())
    except ValueError:
        return action


def form_refusal():
    """The notice above a form whose inputs failed validation (each input says why)."""
    return ValidationError("form_invalid", "See the marked fields.")


def error_text(error):
    """An AppraisalError in one sentence of the user's language. The code and the service's own
    (English, developer) words go to the log; the API answers with them."""
    current_app.logger.info("refused %s: %s", error.code, error.message)
    return str(ERROR_TEXT.get(error.code, UNKNOWN_ERROR))


def item_definition(item):
    """The item's metric definition, looked up once per request."""
    cache = g.setdefault("metric_definitions", {})
    key = (item.metric_key, (getattr(item, "provenance", None) or {}).get("metric_version"))
    if key not in cache:
        cache[key] = metric_services.item_definition(item)
    return cache[key]


def metric_label(item):
    spec = item_definition(item)
    if spec is None:
        return None
    return spec.name_zh if ui_lang() == "zh_CN" else spec.name_en


def metric_unit(item):
    spec = item_definition(item)
    return spec.unit if spec is not None and spec.unit in presentation.UNITS else None


def explain(item):
    """The item's score in plain words, as the signed report words it."""
    return presentation.explain(item, ui_lang(), metric_unit(item), current_app.config["BASE_CURRENCY"])


def plain(value):
    """A Decimal without trailing zeros, for form values."""
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        return ""  # also Jinja's Undefined for a blank form row
    try:
        return f"{Decimal(str(value)).normalize():f}"
    except InvalidOperation:
        return str(value)


def shown(item, value):
    """A target or actual in its metric's unit, as the signed report shows it."""
    return presentation.in_unit(value, metric_unit(item), ui_lang(), current_app.config["BASE_CURRENCY"])


def affix(item):
    """(before, after) an input of the item's limits: '%' for a percent metric, the currency symbol for money."""
    return presentation.entry_affix(metric_unit(item), ui_lang(), current_app.config["BASE_CURRENCY"])


def changed_only(card, changes):
    """Drop proposed values equal to what is in force (a change request lists real changes)."""
    result = {}
    for item_id, fields in changes.items():
        item = card.item(item_id)
        if item is None:
            result[item_id] = fields  # the service refuses unknown items
            continue
        diff = {k: v for k, v in fields.items() if not _same(getattr(item, k), v)}
        if diff:
            result[item_id] = diff
    return result


def _same(current, proposed):
    try:
        return (current is None and proposed is None) or Decimal(current) == Decimal(proposed)
    except (InvalidOperation, TypeError):
        return str(current or "") == str(proposed or "")


def back_or_fragment(fragment, url, status=200, message=None, error=None, **context):
    """After a write: htmx gets the re-rendered fragment; a plain form post is redirected."""
    if is_fragment_request():
        html = render_template(fragment, message=message, error=error, **context)
        response = current_app.make_response((html, status))
        response.vary.add("HX-Request")
        return response
    if error is not None:
        flash(error_text(error), "error")
    elif message:
        flash(message, "success")
    return redirect(url)


def conflict_context(error):
    """Who changed the scorecard in the meantime, and when (for the 409 notice)."""
    who = error.changed_by.name if error.changed_by is not None else _("someone else")
    return {"who": who, "when": error.changed_at}


def beside_form(actions, can, edit=None):
    """The actions whose button sits next to the form of `edit` (shown to this user), or with
    `edit` None those that have no such form and stay in the status panel."""
    def form_of(action):
        found = FORM_OF_ACTION.get(action)
        return found if found is not None and can.get(str(found)) else None
    return [a for a in actions if form_of(a) == edit]


def due_date(card):
    """The cycle deadline of the stage the scorecard is in (None when none is set)."""
    return progress.deadline(card)


def appeal_overdue(appeal):
    """An open appeal past its reply deadline."""
    due = appeal.deadline
    return appeal.status == AppealState.OPEN and due is not None and due < date.today()


STAGE_LABELS = {
    "draft": _l("Has not drafted targets"),
    "submit": _l("Has not submitted targets"),
    "approve": _l("Targets not approved yet"),
    "self_review": _l("Has not done the self-review"),
    "manager_review": _l("Manager review not done"),
    "calibrate": _l("Waiting for calibration and lock"),
}


def participant_label(rule):
    from kpiapp.models import Department, Position, User

    if rule.department_id:
        found = db.session.get(Department, rule.department_id)
        return _("department %(name)s", name=found.path() if found else "?")
    if rule.position_id:
        found = db.session.get(Position, rule.position_id)
        return _("position %(name)s", name=found.title if found else "?")
    found = db.session.get(User, rule.person_id)
    return found.name if found else "?"
