"""The client portal: a client user's own company's contracts, terms, amendments, reports,
trend charts and signed PDFs, in their language (docs/contracts.md, "The portal").

Every object goes through policy.authorize ("contract.view", "contract_report.view"); a draft
contract, a draft version and a draft report are the agency's alone, and a revision's
internal note is never read here."""
from types import SimpleNamespace

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from kpiapp import policy
from kpiapp.contracts import documents, reports, terms
from kpiapp.contracts.amendment_flow import TermsState
from kpiapp.contracts.report_flow import ReportState
from kpiapp.extensions import db
from kpiapp.forms import focus_first_error
from kpiapp.models import Contract, ContractReport, ContractVersion
from kpiapp.policy import allow, authorize
from kpiapp.portal import views
from kpiapp.portal.forms import ReasonForm
from kpiapp.web.pages import attachment, ui_lang
from kpiapp.web.refusals import audit_refusal

bp = Blueprint("portal", __name__)

CLIENT_TERMS = (TermsState.IN_FORCE, TermsState.PROPOSED, TermsState.REJECTED, TermsState.WITHDRAWN)


def contract_or_404(contract_id):
    return authorize("contract.view", db.session.get(Contract, contract_id))


def version_or_404(contract, version_id):
    version = db.session.get(ContractVersion, version_id)
    if version is None or version.contract_id != contract.id or version.status not in CLIENT_TERMS:
        abort(404)
    return version


def report_or_404(report_id):
    return authorize("contract_report.view", db.session.get(ContractReport, report_id))


def client_reports(contract):
    return list(db.session.scalars(select(ContractReport).where(
        ContractReport.contract_id == contract.id, policy.client_reports_filter())
        .order_by(ContractReport.period_start.desc())))


@bp.route("/")
@allow("portal.use")
def index():
    contracts = db.session.scalars(select(Contract).where(policy.visible_contracts_filter(current_user))
                                   .order_by(Contract.start_date.desc(), Contract.code)).all()
    rows = [(c, client_reports(c), [v for v in c.versions if v.status == TermsState.PROPOSED])
            for c in contracts]
    return render_template("portal/index.html", rows=rows, ReportState=ReportState)


@bp.route("/contracts/<int:contract_id>")
@allow("portal.use")
def contract(contract_id):
    contract = contract_or_404(contract_id)
    versions = [v for v in contract.versions if v.status in CLIENT_TERMS]
    in_force = views.version_in_force(versions)
    return render_template("portal/contract.html", contract=contract, versions=versions, in_force=in_force,
                           proposed=[v for v in versions if v.status == TermsState.PROPOSED],
                           reports=client_reports(contract), reason_form=ReasonForm(), TermsState=TermsState,
                           ReportState=ReportState)


@bp.route("/contracts/<int:contract_id>/versions/<int:version_id>")
@allow("portal.use")
def version(contract_id, version_id):
    contract = contract_or_404(contract_id)
    version = version_or_404(contract, version_id)
    return render_template("portal/version.html", contract=contract, version=version,
                           reason_form=ReasonForm(), TermsState=TermsState)


@bp.route("/contracts/<int:contract_id>/versions/<int:version_id>/accept", methods=["POST"])
@allow("portal.use")
def accept_amendment(contract_id, version_id):
    contract = contract_or_404(contract_id)
    version = version_or_404(contract, version_id)
    try:
        terms.accept_amendment(version, current_user)
    except terms.TermsError as error:
        return refused(error, "contract_version", version.id,
                       url_for("portal.version", contract_id=contract.id, version_id=version.id))
    db.session.commit()
    flash(_("You accepted the amendment. It is now in force."), "success")
    return redirect(url_for("portal.contract", contract_id=contract.id))


@bp.route("/contracts/<int:contract_id>/versions/<int:version_id>/reject", methods=["POST"])
@allow("portal.use")
def reject_amendment(contract_id, version_id):
    contract = contract_or_404(contract_id)
    version = version_or_404(contract, version_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        return render_template("portal/version.html", contract=contract, version=version,
                               reason_form=focus_first_error(form), TermsState=TermsState), 422
    try:
        terms.reject_amendment(version, form.reason.data, current_user)
    except terms.TermsError as error:
        return refused(error, "contract_version", version.id,
                       url_for("portal.version", contract_id=contract.id, version_id=version.id))
    db.session.commit()
    flash(_("You rejected the amendment. The agency sees your reason."), "success")
    return redirect(url_for("portal.contract", contract_id=contract.id))


def error_text(error):
    """A service refusal in the reader's language (its message is a catalogue msgid)."""
    return _(error.message, **(getattr(error, "params", None) or {}))


def audit(error, entity, entity_id):
    """Roll the refused call back and audit the refusal (throttled), as the agency pages do."""
    status = getattr(error, "status", 403 if error.code == "forbidden" else 422)
    audit_refusal(SimpleNamespace(code=error.code, status=status), entity, entity_id)


def refused(error, entity, entity_id, back):
    audit(error, entity, entity_id)
    flash(error_text(error), "error")
    return redirect(back)


def report_page(report, dispute_form=None, status=200):
    revision = views.chosen_revision(report, request.args.get("revision", type=int))
    return render_template("portal/report.html", report=report, contract=report.contract, revision=revision,
                           revisions=views.client_revisions(report), lines=views.lines_of(report, revision),
                           fee_steps=views.fee_steps(revision), events=views.events_of(report),
                           document=views.document_of(report), steps=views.client_steps(current_user, report),
                           dispute_form=dispute_form or views.dispute_form(report, revision),
                           ReportState=ReportState), status


@bp.route("/reports/<int:report_id>")
@allow("portal.use")
def report(report_id):
    return report_page(report_or_404(report_id))


@bp.route("/reports/<int:report_id>/accept", methods=["POST"])
@allow("portal.use")
def accept_report(report_id):
    report = report_or_404(report_id)
    try:
        reports.accept_report(report, current_user, ui_lang())
    except reports.ReportError as error:
        return refused(error, "contract_report", report.id, url_for("portal.report", report_id=report.id))
    db.session.commit()
    flash(_("You accepted the report. The signed PDF is ready to download."), "success")
    return redirect(url_for("portal.report", report_id=report.id))


@bp.route("/reports/<int:report_id>/dispute", methods=["POST"])
@allow("portal.use")
def dispute(report_id):
    report = report_or_404(report_id)
    form = views.dispute_form(report, views.chosen_revision(report, None))
    if not form.validate_on_submit():
        return report_page(report, focus_first_error(form), 422)
    try:
        reports.dispute_clause(report, form.clause_id.data, form.comment.data, current_user)
    except reports.ReportError as error:
        audit(error, "contract_report", report.id)
        form.comment.errors.append(error_text(error))
        return report_page(report, form, 422)
    db.session.commit()
    flash(_("Your dispute is sent to the agency."), "success")
    return redirect(url_for("portal.report", report_id=report.id))


@bp.route("/reports/<int:report_id>/document.pdf")
@allow("portal.use")
def document(report_id):
    report = report_or_404(report_id)
    doc = documents.document_for(report)
    if doc is None:
        abort(404)
    return attachment(documents.document_bytes(doc), documents.document_filename(doc), "application/pdf")


@bp.route("/contracts/<int:contract_id>/trends")
@allow("portal.use")
def trends(contract_id):
    contract = contract_or_404(contract_id)
    history = views.client_history(contract)
    return render_template("portal/trends.html", contract=contract, history=history,
                           specs=views.trend_specs(history), score_spec=views.score_spec(history),
                           score_rows=views.score_rows(history), clause_rows=views.clause_rows(history))



@bp.context_processor
def formatting():
    """in_unit(value, unit, currency): a number as the client reads it, in their language."""
    from kpiapp import presentation

    return {"in_unit": lambda value, unit=None, currency=None: presentation.in_unit(value, unit, ui_lang(), currency)}
