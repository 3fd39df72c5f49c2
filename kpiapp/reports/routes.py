"""Reports screens: list, scorecard report, download, verify, cycle summary and bulk issue.

Views load (404/403), validate, call one service, commit, render (STYLE.md).
"""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import case, func, select

from kpiapp import jobs, policy
from kpiapp.extensions import db
from kpiapp.job_views import job_state
from kpiapp.models import Cycle, Scorecard
from kpiapp.models.reports import ReportBatch, ReportKind
from kpiapp.policy import SIGNED_IN, STAFF, allow, authorize
from kpiapp.reports import services
from kpiapp.reports.forms import IssueForm, VerifyForm
from kpiapp.web.kept_pages import kept_page
from kpiapp.web.pages import attachment, render_page_or_fragment, ui_lang

bp = Blueprint("reports", __name__)

LIST_SIZE = 200

# Verification problems and service refusals, translated; codes come from services/verify_pdf.
PROBLEM_TEXT = {
    "not_a_pdf": _l("The file is not a PDF."),
    "no_signature": _l("The file has no signature."),
    "malformed_signature": _l("The signature is malformed."),
    "multiple_signatures": _l("The file has more than one signature."),
    "not_intact": _l("The file was changed after it was signed."),
    "invalid_signature": _l("The signature is not valid."),
    "untrusted": _l("The signature is not from this organisation's report certificate."),
    "incomplete_coverage": _l("The signature does not cover the whole file."),
    "modified_after_signing": _l("Content was added after signing."),
    "bad_timestamp": _l("The signature's timestamp is not valid."),
    "validation_failed": _l("The signature could not be validated."),
    "signature_invalid": _l("The signature is not valid."),
    "unknown_document": _l("No report with this document id was issued here."),
    "differs_from_stored": _l("The file is not byte for byte the copy that was issued."),
    "too_large": _l("The file is larger than the limit."),
    "not_locked": _l("Only a locked scorecard has a report."),
    "forbidden": _l("Only HR and admins issue reports."),
    "bad_lang": _l("Unknown language."),
    "corrupt": _l("The stored copy of this report is damaged; it was not sent."),
}


def problem_text(code, message=""):
    known = PROBLEM_TEXT.get(code)
    return str(known) if known is not None else message or code


def issue_form():
    form = IssueForm()
    if not form.is_submitted():
        form.lang.data = ui_lang()
    return form


def load_report(document_id):
    return authorize("report.download", services.get_report(document_id))


@bp.route("/")
@allow(STAFF)
@kept_page()
def index():
    query = services.visible_reports(current_user, before=request.args.get("before", type=int))
    reports = db.session.execute(query.limit(LIST_SIZE)).scalars().all()
    older_url = url_for(".index", before=reports[-1].id) if len(reports) == LIST_SIZE else None
    return render_template("reports/index.html", reports=reports, older_url=older_url,
                           superseded=services.superseded_checker(reports))


@bp.route("/scorecards/<int:scorecard_id>")
@allow(STAFF)
def scorecard(scorecard_id):
    card = authorize("scorecard.view", db.session.get(Scorecard, scorecard_id))
    return render_page_or_fragment(
        "reports/scorecard.html", "reports/_scorecard_reports.html", **scorecard_panel(card)
    )


def scorecard_panel(card, form=None):
    return {
        "card": card,
        "reports": services.reports_of_scorecard(card),
        "form": form or issue_form(),
        "superseded": services.is_superseded,
        "problem_text": problem_text,
    }


@bp.route("/scorecards/<int:scorecard_id>/issue", methods=["POST"])
@allow("reports.issue")
def issue(scorecard_id):
    card = authorize("scorecard.view", db.session.get(Scorecard, scorecard_id))
    form = issue_form()
    if form.validate_on_submit():
        try:
            report = services.issue_report(card.id, current_user, form.lang.data)
            db.session.commit()
            flash(_("Report %(id)s issued.", id=report.document_id), "success")
        except services.ReportError as error:
            db.session.rollback()
            form.lang.errors.append(problem_text(error.code, error.message))
    if request.htmx:
        return render_page_or_fragment(
            "reports/scorecard.html", "reports/_scorecard_reports.html", **scorecard_panel(card, form)
        )
    return redirect(url_for("reports.scorecard", scorecard_id=card.id))


@bp.route("/d/<string:document_id>")
@allow(STAFF)
def download(document_id):
    report = load_report(document_id)
    try:
        data = services.report_bytes(report)
    except services.ReportError:
        abort(500)
    return attachment(data, services.report_filename(report), "application/pdf")



@bp.route("/<string:document_id>/provenance")
@allow(SIGNED_IN)  # a client gets the 404 of report.download, as for a foreign report
def provenance(document_id):
    """A signed report's items, each linked to the rows behind its number (docs/tracking.md)."""
    report = load_report(document_id)
    if report.scorecard is None:
        abort(404)  # a cycle summary has no items
    return render_template("reports/provenance.html", report=report, card=report.scorecard)


@bp.route("/verify", methods=["GET", "POST"])
@allow(SIGNED_IN)
def verify():
    form, result, error = VerifyForm(), None, None
    if form.validate_on_submit():
        data = form.file.data.read(current_app.config["REPORT_VERIFY_MAX_BYTES"] + 1)
        if len(data) > current_app.config["REPORT_VERIFY_MAX_BYTES"]:
            error = problem_text("too_large")
        else:
            result = services.verify_document(data)
    return render_page_or_fragment(
        "reports/verify.html",
        "reports/_verify_result.html",
        form=form,
        result=result,
        error=error,
        problem_text=problem_text,
        show_owner=result and show_owner(result),
    )


def show_owner(result):
    """Who a document belongs to is shown for genuine copies, or to someone who may download it
    (a contract report: who may see it). What is shown is what the file itself states."""
    if result.contract_document is not None:
        report = result.contract_document.report
        return result.matches_stored or result.verification.ok or policy.can(
            current_user, "contract_report.view", report)
    report = result.report
    return report is not None and (
        result.matches_stored or result.verification.ok or policy.can(current_user, "report.download", report)
    )


@bp.route("/cycles")
@allow("reports.issue")
def cycles():
    locked = func.sum(case((Scorecard.state == "locked", 1), else_=0))
    rows = db.session.execute(
        select(Cycle, func.count(Scorecard.id), locked)
        .outerjoin(Scorecard, Scorecard.cycle_id == Cycle.id)
        .where(policy.visible_cycles_filter(current_user))
        .group_by(Cycle.id)
        .order_by(Cycle.period_start.desc())
    ).all()
    summaries = (
        db.session.execute(services.visible_reports(current_user, ReportKind.cycle_summary).limit(LIST_SIZE))
        .scalars()
        .all()
    )
    return render_template(
        "reports/cycles.html",
        rows=rows,
        form=issue_form(),
        summaries=summaries,
        latest_batch=services.latest_batch,
        superseded=services.superseded_checker(summaries),
    )


@bp.route("/cycles/<int:cycle_id>/summary", methods=["POST"])
@allow("reports.issue")
def issue_summary(cycle_id):
    form = issue_form()
    if not form.validate_on_submit():
        abort(400)
    try:
        report = services.issue_cycle_summary(cycle_id, current_user, form.lang.data)
    except services.ReportError as error:
        abort(error.status)
    db.session.commit()
    flash(_("Cycle summary %(id)s issued.", id=report.document_id), "success")
    return redirect(url_for("reports.cycles"))


@bp.route("/cycles/<int:cycle_id>/batch", methods=["POST"])
@allow("reports.issue")
def start_batch(cycle_id):
    form = issue_form()
    if not form.validate_on_submit():
        abort(400)
    try:
        batch, created = services.start_batch(cycle_id, current_user, form.lang.data)
    except services.ReportError as error:
        abort(error.status)
    db.session.commit()
    if created or services.batch_job_lost(batch):
        services.launch_batch(batch)
    return redirect(url_for("reports.batch", batch_id=batch.id))


@bp.route("/batches/<int:batch_id>")
@allow("reports.issue")
def batch(batch_id):
    batch = db.session.get(ReportBatch, batch_id) or abort(404)
    run = jobs.latest("report_batch", "report_batch", batch.id)
    return render_page_or_fragment("reports/batch.html", "reports/_batch_progress.html", batch=batch,
                                   run=run, live=job_state(run))


@bp.route("/batches/<int:batch_id>/reports.zip")
@allow("reports.issue")
def batch_zip(batch_id):
    batch = db.session.get(ReportBatch, batch_id)
    if batch is None or batch.status != "done":
        abort(404)
    try:
        data = services.batch_zip(batch)
    except services.ReportError:
        abort(500)
    return attachment(
        data, f"reports-cycle-{batch.cycle_id}-batch-{batch.id}-{batch.lang}.zip", "application/zip"
    )
