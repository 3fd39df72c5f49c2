"""Results export and bonus table of a cycle (HR), on the cycles blueprint (docs/bonus.md)."""

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import true

from kpiapp.appraisal import queries, results
from kpiapp.appraisal.routes import forms
from kpiapp.appraisal.routes.common import error_text
from kpiapp.appraisal.routes.cycles import bp, load
from kpiapp.bonus import services
from kpiapp.extensions import db
from kpiapp.org.forms import ConfirmForm, UploadForm
from kpiapp.policy import allow
from kpiapp.tabular import TableError, write_csv, write_xlsx
from kpiapp.web.pages import attachment, render_page_or_fragment
from kpiapp.web.refusals import audit_refusal

MIMETYPES = {"csv": "text/csv",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
WRITERS = {"csv": write_csv, "xlsx": write_xlsx}


def download(fmt, header, rows, name):
    if fmt not in WRITERS:
        abort(404)
    return attachment(WRITERS[fmt](header, rows), f"{name}.{fmt}", MIMETYPES[fmt])


@bp.route("/<int:cycle_id>/results.<fmt>")
@allow("appraisal.manage")
def results_export(cycle_id, fmt):
    """Every latest scorecard's items and results, one row per item (docs/bonus.md)."""
    cycle = load(cycle_id)
    header, rows = results.as_table(results.result_rows(cycle, true()))
    return download(fmt, header, rows, f"results-{cycle.id}")


def page_of(rows, after):
    """The rows after the person `after` (keyset on the table's own order), and the next key."""
    start = next((n + 1 for n, row in enumerate(rows) if row.person_id == after), 0)
    shown = rows[start:start + queries.PAGE_SIZE]
    more = start + queries.PAGE_SIZE < len(rows)
    return shown, (shown[-1].person_id if more else None)


def bonus_page(cycle, status=200, problems=(), budget_form=None, upload=None):
    table = services.table(cycle)
    shown, next_after = page_of(table.rows, request.args.get("after", type=int))
    return render_page_or_fragment(
        "cycles/bonus.html", "cycles/_bonus_table.html", status, cycle=cycle, table=table, rows=shown,
        next_after=next_after, problems=problems,
        budget_form=budget_form or forms.BonusBudgetForm(budget=cycle.bonus_budget),
        upload=upload or UploadForm(), confirm=ConfirmForm(), columns=services.IMPORT_COLUMNS)


@bp.route("/<int:cycle_id>/bonus")
@allow("appraisal.manage")
def bonus(cycle_id):
    return bonus_page(load(cycle_id))


def bonus_write(cycle, call, done):
    """One service call, commit once; a refusal shows the page again with its reason."""
    try:
        call()
        db.session.commit()
    except services.AppraisalError as error:
        audit_refusal(error, "appraisal_cycle", cycle.id)  # rolls back, audits in its own commit
        flash(error_text(error), "error")
        return bonus_page(load(cycle.id), 409 if error.status == 409 else 422)
    flash(done, "success")
    return redirect(url_for(".bonus", cycle_id=cycle.id, after=request.args.get("after", type=int)))


def typed_bases():
    """{person id: text} from the table's `base-<person id>` inputs."""
    return {int(key[5:]): value for key, value in request.form.items()
            if key.startswith("base-") and key[5:].isdigit()}


@bp.route("/<int:cycle_id>/bonus/bases", methods=["POST"])
@allow("appraisal.manage")
def bonus_bases(cycle_id):
    cycle = load(cycle_id)
    if not ConfirmForm().validate():
        abort(400)
    return bonus_write(cycle, lambda: services.set_bases(
        cycle, current_user, services.parse_typed_bases(typed_bases())), _("Saved."))


@bp.route("/<int:cycle_id>/bonus/budget", methods=["POST"])
@allow("appraisal.manage")
def bonus_budget(cycle_id):
    cycle = load(cycle_id)
    form = forms.BonusBudgetForm()
    if not form.validate():
        return bonus_page(cycle, 422, budget_form=form)
    return bonus_write(cycle, lambda: services.set_budget(cycle, current_user, form.budget.data), _("Saved."))


@bp.route("/<int:cycle_id>/bonus/import", methods=["POST"])
@allow("appraisal.manage")
def bonus_import(cycle_id):
    """Every line is checked first: one problem and nothing is written, every problem listed."""
    cycle = load(cycle_id)
    upload = UploadForm()
    if not upload.validate():
        return bonus_page(cycle, 422, upload=upload)
    file = upload.file.data
    try:
        plan = services.plan_import(cycle, file.read(), file.filename)
    except TableError as error:
        return bonus_page(cycle, 422, problems=[services.RowProblem(1, "", error.args[0])], upload=upload)
    if plan.problems:
        return bonus_page(cycle, 422, problems=plan.problems, upload=upload)
    return bonus_write(cycle, lambda: services.apply_import(cycle, current_user, plan),
                       _("Imported: %(n)s bases.", n=len(plan.rows)))


@bp.route("/<int:cycle_id>/bonus/freeze", methods=["POST"])
@allow("appraisal.manage")
def bonus_freeze(cycle_id):
    cycle = load(cycle_id)
    if not ConfirmForm().validate():
        abort(400)
    return bonus_write(cycle, lambda: services.freeze(cycle, current_user), _("The bonus table is frozen."))


@bp.route("/<int:cycle_id>/bonus.xlsx")
@allow("appraisal.manage")
def bonus_export(cycle_id):
    """The frozen table for payroll (before the freeze there is nothing final to pay)."""
    cycle = load(cycle_id)
    if cycle.bonus_frozen_at is None:
        flash(_("Freeze the bonus table first: payroll gets final amounts only."), "error")
        return redirect(url_for(".bonus", cycle_id=cycle.id))
    rows = services.payroll_rows(services.table(cycle))
    return download("xlsx", services.PAYROLL_COLUMNS, rows, f"bonus-{cycle.id}")
