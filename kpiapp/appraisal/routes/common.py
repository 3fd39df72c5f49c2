"""Shared by the appraisal screens: labels, error texts, score explanations, responses."""

from decimal import Decimal, InvalidOperation

from flask import current_app, flash, g, redirect, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from kpiapp import presentation
from kpiapp.appraisal import progress
from kpiapp.appraisal.services import ValidationError
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
    "manual_score_out_of_range": _l("The score is outside the item's scale."),
    "duplicate_code": _l("A template with this code exists."),
    "invalid_period": _l("The period ends before it starts."),
    "invalid_grade_table": _l("Each grade needs a name, a minimum score and a coefficient."),
    "cycle_not_complete": _l("Some scorecards are not locked yet."),
    "form_invalid": _l("Some entries need correcting: see the marked fields."),
    "conflict": _l("Someone else changed this scorecard in the meantime; nothing was saved. Reload it."),
}


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
    """(translated text, detail) for an AppraisalError; detail is the service's own words."""
    known = ERROR_TEXT.get(error.code)
    return (str(known), error.message) if known is not None else (error.message, "")


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
        flash(" ".join(t for t in error_text(error) if t), "error")
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
