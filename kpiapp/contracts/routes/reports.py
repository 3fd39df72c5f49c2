"""Each period's report, the agency's side: generate, refresh, a manual value with its reason,
the internal note, send, answer a dispute, revise; the fee step by step, every revision, the
timeline, the XLSX for invoicing and the signed PDF."""
from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kpiapp import presentation
from kpiapp.contracts import documents, reports
from kpiapp.contracts.report_flow import REPORT_FLOW, ReportState, ReportStep
from kpiapp.contracts.routes.common import bp, load_contract, load_report, mark, metric_unit, refused, run_step
from kpiapp.contracts.routes.forms import AnswerForm, ConfirmForm, GenerateForm, NoteForm, OverrideForm
from kpiapp.extensions import db
from kpiapp.policy import allow
from kpiapp.reports.services import ReportError as DocumentError
from kpiapp.web.pages import attachment, ui_lang

AGENCY_BUTTONS = (ReportStep.REFRESH, ReportStep.SEND, ReportStep.REVISE)


def report_url(report, **extra):
    return url_for(".report", contract_id=report.contract_id, report_id=report.id, **extra)


def clause_choices(revision):
    return [(line["clause_id"], line["name"]) for line in revision.lines or ()]


def send_blockers(report):
    """Why the report cannot be sent yet, in words."""
    if report.state != ReportState.DRAFT:
        return []
    found = REPORT_FLOW.blocked(ReportStep.SEND, reports.report_facts(report))
    texts = [_(found[1])] if found else []
    if (reports.current_revision(report).fee or {}).get("missing"):
        texts.append(_(reports.MESSAGES["commission_missing"]))
    return texts


def report_page(contract, report, status=200, error=None, **forms):
    number = request.args.get("revision", type=int)
    shown = next((r for r in report.revisions if r.number == number), None) or reports.current_revision(report)
    current = reports.current_revision(report)
    lang = ui_lang()
    override = forms.get("override_form") or OverrideForm(prefix="override")
    override.clause_id.choices = clause_choices(current)
    answer = forms.get("answer_form") or AnswerForm(prefix="answer")
    answer.clause_id.choices = [(0, "—"), *clause_choices(current)]
    note = forms.get("note_form") or NoteForm(prefix="note")
    if "note_form" not in forms:
        note.internal_note.data = current.internal_note
    steps = reports.permitted_steps(current_user, report)
    context = {
        "contract": contract, "report": report, "revision": shown, "current": current,
        "is_current": shown.number == current.number, "rows": documents.line_rows(shown, lang),
        "fee_rows": documents.fee_rows(shown.fee, lang), "fee": shown.fee or {},
        "score": presentation.number(shown.score, lang), "events": list(report.events),
        "fee_total": presentation.money(shown.fee_total, lang),
        "buttons": [s for s in AGENCY_BUTTONS if s in steps], "may_answer": ReportStep.ANSWER in steps,
        "draft": report.state == ReportState.DRAFT, "blockers": send_blockers(report),
        "override_form": override, "answer_form": answer, "note_form": note, "confirm": ConfirmForm(),
        "overrides": {o.clause_id: o for o in report.overrides}, "error": error,
        "document": documents.document_for(report), "disputes": [e for e in report.events if e.step == ReportStep.DISPUTE],
    }
    return render_template("contracts/report.html", **context), status


@bp.route("/<int:contract_id>/reports/<int:report_id>")
@allow("contracts.work")
def report(contract_id, report_id):
    contract, report = load_report(contract_id, report_id)
    return report_page(contract, report)


@bp.route("/<int:contract_id>/reports", methods=["POST"])
@allow("contracts.work")
def generate(contract_id):
    contract = load_contract(contract_id)
    form = GenerateForm()
    try:
        start = date.fromisoformat(form.period_start.data or "") if form.validate() else None
    except ValueError:
        start = None
    if start is None:
        flash(_("Choose a period."), "error")
        return redirect(url_for(".detail", contract_id=contract_id))
    try:
        report = reports.generate_report(contract, start, current_user)
        db.session.commit()
    except reports.ReportError as error:
        flash(refused(error, "contract", contract_id), "error")
        return redirect(url_for(".detail", contract_id=contract_id))
    flash(_("Report generated from the data."), "success")
    return redirect(report_url(report))


STEP_CALLS = {"refresh": reports.refresh_report, "send": reports.send_report, "revise": reports.revise_report}


def step_done(step):
    return {"refresh": _("Recomputed from the data."), "send": _("Sent to the client."),
            "revise": _("A corrected revision was started: the sent one stays readable.")}[step]


@bp.route("/<int:contract_id>/reports/<int:report_id>/<step>", methods=["POST"])
@allow("contracts.work")
def report_step(contract_id, report_id, step):
    """refresh, send or revise."""
    _contract, report = load_report(contract_id, report_id)
    if step not in STEP_CALLS:
        abort(404)
    return run_step(STEP_CALLS[step], report, "contract_report", reports.ReportError, report_url(report),
                    step_done(step))


@bp.route("/<int:contract_id>/reports/<int:report_id>/override", methods=["POST"])
@allow("contracts.work")
def override(contract_id, report_id):
    contract, report = load_report(contract_id, report_id)
    form = OverrideForm(prefix="override")
    form.clause_id.choices = clause_choices(reports.current_revision(report))
    if not form.validate():
        return report_page(contract, report, 422, _("See the marked fields."), override_form=form)
    line = next((row for row in reports.current_revision(report).lines if row["clause_id"] == form.clause_id.data),
                None)
    value = presentation.from_entry(form.value.data, metric_unit(line["metric_key"]) if line else None)
    try:
        reports.set_override(report, form.clause_id.data, value, form.reason.data, current_user)
        db.session.commit()
    except reports.ReportError as error:
        text = refused(error, "contract_report", report_id)
        contract, report = load_report(contract_id, report_id)
        return report_page(contract, report, 422, mark(form, error, text), override_form=form)
    flash(_("Manual value saved; the report was recomputed."), "success")
    return redirect(report_url(report))


@bp.route("/<int:contract_id>/reports/<int:report_id>/override/<int:clause_id>/clear", methods=["POST"])
@allow("contracts.work")
def clear_override(contract_id, report_id, clause_id):
    _contract, report = load_report(contract_id, report_id)
    if not ConfirmForm().validate():
        abort(400)
    try:
        reports.clear_override(report, clause_id, current_user)
        db.session.commit()
        flash(_("The value from the data is used again."), "success")
    except reports.ReportError as error:
        flash(refused(error, "contract_report", report_id), "error")
    return redirect(report_url(report))


@bp.route("/<int:contract_id>/reports/<int:report_id>/note", methods=["POST"])
@allow("contracts.work")
def note(contract_id, report_id):
    contract, report = load_report(contract_id, report_id)
    form = NoteForm(prefix="note")
    if not form.validate():
        return report_page(contract, report, 422, _("See the marked fields."), note_form=form)
    try:
        reports.set_internal_note(report, form.internal_note.data, current_user)
        db.session.commit()
    except reports.ReportError as error:
        text = refused(error, "contract_report", report_id)
        contract, report = load_report(contract_id, report_id)
        return report_page(contract, report, 422, mark(form, error, text), note_form=form)
    flash(_("Internal note saved."), "success")
    return redirect(report_url(report))


@bp.route("/<int:contract_id>/reports/<int:report_id>/answer", methods=["POST"])
@allow("contracts.work")
def answer(contract_id, report_id):
    contract, report = load_report(contract_id, report_id)
    form = AnswerForm(prefix="answer")
    form.clause_id.choices = [(0, "—"), *clause_choices(reports.current_revision(report))]
    if not form.validate():
        return report_page(contract, report, 422, _("See the marked fields."), answer_form=form)
    try:
        reports.answer_dispute(report, form.clause_id.data or None, form.comment.data, current_user)
        db.session.commit()
    except reports.ReportError as error:
        text = refused(error, "contract_report", report_id)
        contract, report = load_report(contract_id, report_id)
        return report_page(contract, report, 422, mark(form, error, text), answer_form=form)
    flash(_("Answer sent to the client."), "success")
    return redirect(report_url(report))


@bp.route("/<int:contract_id>/reports/<int:report_id>/fee.xlsx")
@allow("contracts.work")
def fee_xlsx(contract_id, report_id):
    _contract, report = load_report(contract_id, report_id)
    body = reports.fee_xlsx(report)
    name = f"fee-{report.contract.code}-{report.period_start.isoformat()[:7]}-r{report.revision}.xlsx"
    return attachment(body, name, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.route("/<int:contract_id>/reports/<int:report_id>/document.pdf")
@allow("contracts.work")
def document(contract_id, report_id):
    _contract, report = load_report(contract_id, report_id)
    doc = documents.document_for(report)
    if doc is None:
        abort(404)
    try:
        body = documents.document_bytes(doc)
    except DocumentError:
        abort(500)
    return attachment(body, documents.document_filename(doc), "application/pdf")
