"""Shared by the appraisal screens: labels, error texts, score explanations, responses."""

import re
from decimal import Decimal, InvalidOperation

from flask import current_app, flash, redirect, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from kpiapp.appraisal import scoring
from kpiapp.appraisal.workflow import Action, ScorecardState
from kpiapp.extensions import db
from kpiapp.metrics.catalog import BUILTIN_METRICS_BY_KEY
from kpiapp.web import audit_refusal, is_fragment_request, ui_lang  # noqa: F401  (audit_refusal re-exported)

STATE_LABELS = {
    ScorecardState.DRAFT: _l("Draft"),
    ScorecardState.RETURNED: _l("Returned"),
    ScorecardState.SUBMITTED: _l("Submitted"),
    ScorecardState.HR_APPROVAL: _l("Waiting for HR approval"),
    ScorecardState.APPROVED: _l("Approved"),
    ScorecardState.SELF_REVIEW: _l("Self-review"),
    ScorecardState.MANAGER_REVIEW: _l("Manager review"),
    ScorecardState.CALIBRATION: _l("Calibration"),
    ScorecardState.LOCKED: _l("Locked"),
}

ACTION_LABELS = {
    Action.SUBMIT: _l("Submit targets"),
    Action.RETURN_: _l("Return with a reason"),
    Action.APPROVE: _l("Approve targets"),
    Action.HR_APPROVE: _l("Approve as HR"),
    Action.OPEN_REVIEW: _l("Open the review"),
    Action.SUBMIT_SELF_REVIEW: _l("Submit self-review"),
    Action.RETURN_SELF_REVIEW: _l("Return the self-review"),
    Action.SUBMIT_MANAGER_REVIEW: _l("Submit manager review"),
    Action.LOCK: _l("Lock the result"),
    Action.REOPEN: _l("Reopen as a new version"),
}
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
}


def error_text(error):
    """(translated text, detail) for an AppraisalError; detail is the service's own words."""
    known = ERROR_TEXT.get(error.code)
    return (str(known), error.message) if known is not None else (error.message, "")


def metric_label(item):
    spec = BUILTIN_METRICS_BY_KEY.get(item.metric_key or "")
    if spec is None:
        return None
    return spec.name_zh if ui_lang() == "zh_CN" else spec.name_en


def metric_unit(item):
    spec = BUILTIN_METRICS_BY_KEY.get(item.metric_key or "")
    return spec.unit if spec is not None and spec.unit in scoring.UNITS else None


def _number(value):
    if isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            return value
    return value


def explain(item):
    """The item's score in plain words (scoring.describe), or '' when nothing to say."""
    data = item.explanation
    if not data and item.is_manual and item.manager_score is not None and item.final_points is not None:
        data = {
            "code": "manual_score",
            "params": {
                "score": item.manager_score,
                "points": item.final_points,
                "scale_max": (item.rule or {}).get("scale_max"),
            },
        }
    if not data and item.is_manual:
        data = {"code": "no_manual_score", "params": {}}
    if not data:
        data = {"code": "no_data", "params": {}}
    params = {k: (v if k == "direction" else _number(v)) for k, v in (data.get("params") or {}).items()}
    params = {
        k: Decimal(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v
        for k, v in params.items()
    }
    try:
        return scoring.describe(
            scoring.Explanation(data["code"], params), ui_lang(), metric_unit(item), item.name
        )
    except (KeyError, ValueError, TypeError):
        return ""


def plain(value):
    """A Decimal without trailing zeros, for showing and for form values."""
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        return ""  # also Jinja's Undefined for a blank form row
    try:
        return f"{Decimal(str(value)).normalize():f}"
    except InvalidOperation:
        return str(value)


def shown(item, value):
    """A target or actual formatted by its metric's unit (form inputs keep plain())."""
    number = _number(value) if value is not None else None
    unit = metric_unit(item)
    if not isinstance(number, Decimal) or unit is None:
        return plain(value)
    return scoring.format_value(number, unit)


ITEM_FIELD = re.compile(r"^items-(\d+)-([a-z_]+)$")


def item_fields(form, allowed):
    """{item_id: {field: value}} from inputs named items-<id>-<field>; other fields are ignored
    (the allowlist of SECURITY.md Z4: state, cycle_id, scores... cannot be bound)."""
    found = {}
    for key, value in form.items():
        match = ITEM_FIELD.match(key)
        if match and match.group(2) in allowed:
            found.setdefault(int(match.group(1)), {})[match.group(2)] = value.strip() or None
    return found


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


def conflict_response(error, url):
    """409: someone else changed the scorecard; say who and offer a reload."""
    db.session.rollback()
    context = {
        "who": error.changed_by.name if error.changed_by is not None else _("someone else"),
        "when": error.changed_at,
        "reload_url": url,
    }
    template = "scorecards/_conflict.html" if is_fragment_request() else "scorecards/conflict.html"
    response = current_app.make_response((render_template(template, **context), 409))
    response.vary.add("HX-Request")
    return response


DUE = {
    ScorecardState.DRAFT: "targets_due",
    ScorecardState.RETURNED: "targets_due",
    ScorecardState.SUBMITTED: "approval_due",
    ScorecardState.HR_APPROVAL: "approval_due",
    ScorecardState.APPROVED: "self_review_due",
    ScorecardState.SELF_REVIEW: "self_review_due",
    ScorecardState.MANAGER_REVIEW: "manager_review_due",
    ScorecardState.CALIBRATION: "calibration_due",
}


def due_date(card):
    """The cycle deadline of the stage the scorecard is in (None when none is set)."""
    name = DUE.get(card.state)
    return getattr(card.cycle, name) if name else None


CYCLE_STATUS = {"draft": _l("Not started"), "running": _l("Running"), "closed": _l("Closed")}
STAGE_LABELS = {
    "draft": _l("Has not drafted targets"),
    "submit": _l("Has not submitted targets"),
    "approve": _l("Targets not approved yet"),
    "self_review": _l("Has not done the self-review"),
    "manager_review": _l("Manager review not done"),
    "calibrate": _l("Waiting for calibration and lock"),
}


def cycle_status(status):
    return CYCLE_STATUS.get(str(status), status)


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
