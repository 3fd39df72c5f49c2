"""Data disputes (数据异议, docs/disputes.md): raise one beside a number on the scorecard, the
handlers' queue, one dispute with the steps this user may take, HR's lock override."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from kpiapp.appraisal import disputes, services
from kpiapp.appraisal.dispute_flow import DisputeState, DisputeStep
from kpiapp.appraisal.routes.common import error_text, form_refusal
from kpiapp.appraisal.routes.forms import DisputeForm
from kpiapp.extensions import db
from kpiapp.models import Dispute, Scorecard, ScorecardItem
from kpiapp.policy import STAFF, allow, authorize
from kpiapp.web.pages import render_page_or_fragment
from kpiapp.web.refusals import audit_refusal

bp = Blueprint("disputes", __name__)


def correct(dispute, form):
    """A typed value wins over a named import; one of them is needed."""
    if form.value.data is not None:
        return disputes.correct_by_value(dispute, current_user, form.value.data, form.text.data)
    if form.import_id.data:
        return disputes.correct_by_import(dispute, current_user, form.import_id.data, form.text.data)
    raise services.ValidationError("correction_missing", "Name an import or type the value.", field="value")


# the steps taken on the dispute page, and what the person is told afterwards
STEPS = {
    DisputeStep.CORRECT: (correct, _l("Corrected: the scorecard shows the new number.")),
    DisputeStep.REJECT: (lambda d, f: disputes.reject_dispute(d, current_user, f.text.data),
                         _l("Rejected; the person who raised it is told why.")),
    DisputeStep.CLOSE: (lambda d, f: disputes.close_dispute(d, current_user, f.text.data),
                        _l("Dispute closed.")),
    DisputeStep.OVERRIDE_LOCK: (lambda d, f: disputes.override_lock(d, current_user, f.text.data),
                                _l("The scorecard may now be locked despite this dispute.")),
}


def load(dispute_id):
    return authorize("dispute.view", db.session.get(Dispute, dispute_id))


def page(dispute, form=None, error=None, status=200):
    steps = disputes.permitted(current_user, dispute.item, dispute)
    imports = disputes.recent_imports(dispute) if DisputeStep.CORRECT in steps else []
    return render_page_or_fragment("disputes/detail.html", "disputes/_dispute.html", status=status,
                                   dispute=dispute, steps=steps, form=form or DisputeForm(), imports=imports,
                                   error=error)


@bp.route("/")
@allow("disputes.handle")
def queue():
    """The handlers' queue: HR and admins see every dispute, a store owner those of their stores."""
    showing = request.args.get("status") or None
    rows, next_before = disputes.queue(current_user, request.args.get("before", type=int), showing)
    return render_page_or_fragment("disputes/queue.html", "disputes/_queue.html", rows=rows,
                                   next_before=next_before, showing=showing, states=list(DisputeState))


@bp.route("/<int:dispute_id>")
@allow(STAFF)
def detail(dispute_id):
    return page(load(dispute_id))


def load_item(item_id):
    item = db.session.get(ScorecardItem, item_id)
    authorize("scorecard.view", item.scorecard if item is not None else None)
    return item


@bp.route("/items/<int:item_id>")
@allow(STAFF)
def new(item_id):
    """The raise form on a page of its own (from a scorecard whose items sit inside a form)."""
    item = load_item(item_id)
    return render_template("disputes/new.html", item=item, card=item.scorecard,
                           disputes=disputes.panel(item.scorecard, current_user))


@bp.route("/items/<int:item_id>", methods=["POST"])
@allow(STAFF)
def raise_dispute(item_id):
    """'Dispute this number' beside an actual on the scorecard; back to the scorecard."""
    item = load_item(item_id)
    card_id, form = item.scorecard_id, DisputeForm()
    try:
        if not form.validate():
            raise form_refusal()
        disputes.raise_dispute(item, current_user, form.text.data)
        db.session.commit()
        flash(_("Dispute raised: HR and the store's owners are told."), "success")
    except services.AppraisalError as error:
        audit_refusal(error, "scorecard", card_id)
        flash(error_text(error), "error")
    return redirect(url_for("scorecards.detail", scorecard_id=card_id) + f"#item-{item_id}")


@bp.route("/<int:dispute_id>/<step>", methods=["POST"])
@allow(STAFF)
def act(dispute_id, step):
    dispute, form = load(dispute_id), DisputeForm()
    if step not in {str(s) for s in STEPS}:
        abort(404)
    call, done = STEPS[DisputeStep(step)]
    if not form.validate():
        return page(dispute, form, form_refusal(), 422)
    card_id = dispute.scorecard_id
    try:
        call(dispute, form)
        db.session.commit()
    except services.AppraisalError as error:
        audit_refusal(error, "scorecard", card_id)
        status = error.status if error.status == 403 else 422
        return page(db.session.get(Dispute, dispute_id), form, error, status)
    flash(str(done), "success")
    return redirect(url_for(".detail", dispute_id=dispute_id))


@bp.route("/scorecards/<int:scorecard_id>/override-lock", methods=["POST"])
@allow("appraisal.manage")
def override_lock(scorecard_id):
    """From the lock confirmation: HR lets this scorecard be locked despite its open disputes."""
    card = authorize("scorecard.view", db.session.get(Scorecard, scorecard_id))
    form, cycle_id = DisputeForm(), card.cycle_id
    try:
        if not form.validate():
            raise form_refusal()
        disputes.override_lock_for(card, current_user, form.text.data)
        db.session.commit()
        flash(_("The lock is allowed for %(person)s; the dispute stays open.", person=card.person.name),
              "success")
    except services.AppraisalError as error:
        audit_refusal(error, "scorecard", scorecard_id)
        flash(error_text(error), "error")
    scope = {k: request.form.get(k, type=int) for k in ("department_id", "scorecard_id")}
    scope = {k: v for k, v in scope.items() if v}
    return redirect(url_for("cycles.lock_confirm", cycle_id=cycle_id, **scope))
