from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from werkzeug.utils import secure_filename

from kpiapp.extensions import db
from kpiapp.imports import services
from kpiapp.imports.forms import ImportForm
from kpiapp.job_views import job_state
from kpiapp.models import ImportFile, ImportRecord, Store
from kpiapp.parsers import PARSERS, generic_template_csv
from kpiapp.parsers.measures import BASE_MEASURES
from kpiapp.policy import allow
from kpiapp.tabular import write_csv
from kpiapp.web.kept_pages import kept_page
from kpiapp.web.pages import attachment, render_page_or_fragment, ui_lang

bp = Blueprint("imports", __name__)

LIST_SIZE = 50

# Whole-file and row error codes, translated; the parser's English detail is shown beside them.
ERROR_TEXT = {
    "empty_file": _l("The file is empty."),
    "unknown_format": _l("This file is not a format we know."),
    "bad_encoding": _l("The file's text encoding could not be read."),
    "bad_csv": _l("The CSV file is malformed."),
    "bad_json": _l("The file is not valid JSON."),
    "bad_gzip": _l("The gzip file is damaged."),
    "bad_xlsx": _l("The Excel file is damaged or cannot be read."),
    "not_xlsx": _l("The file is not an Excel .xlsx workbook."),
    "xlsx_too_large": _l("The Excel file expands beyond the size limit."),
    "file_too_large": _l("The file is larger than the upload limit."),
    "extension_mismatch": _l("The file's content does not match its extension."),
    "bad_extension": _l("This kind of file is not accepted."),
    "wrong_format": _l("The file is not in the chosen format."),
    "missing_columns": _l("Required columns are missing."),
    "date_range_required": _l("This report has no dates: give the report's start and end date."),
    "bad_date_range": _l("The end date is before the start date."),
    "unknown_parser": _l("Unknown format."),
    "unknown_store": _l("Unknown store."),
    "store_mismatch": _l("The row belongs to another store than the one chosen."),
    "missing_store": _l("Choose a store or fill the store column."),
    "row_errors": _l("Some rows have errors; nothing was imported."),
    "no_rows": _l("The file has no rows to import."),
    "overlapping_range": _l("The dates overlap data of another import with a different date range."),
    "internal_error": _l("The import stopped because of an internal error."),
    "job_failed": _l("The import job failed."),
    "abandoned": _l("The import stopped without finishing."),
    "queue_unavailable": _l("The job queue is unavailable, so the import was not started. "
                            "Try again in a few minutes."),
    "worker_killed": _l("The worker running this job stopped unexpectedly."),
    "worker_lost": _l("The worker running this job was lost."),
    "timeout": _l("The job took too long and was stopped."),
    "bad_number": _l("Not a number."),
    "bad_date": _l("Not a date."),
    "bad_currency": _l("Not a currency code."),
    "missing_value": _l("A required value is empty."),
    "missing_currency": _l("A currency is required."),
    "unknown_measure": _l("Unknown measure."),
    "duplicate_row": _l("Duplicate row."),
    "formula_cell": _l("Spreadsheet formulas are not accepted."),
    "ragged_row": _l("The row has more or fewer cells than the header; the file may be truncated."),
    "bad_key": _l("The row's key (ASIN, order or settlement id) is not valid."),
    "negative_value": _l("This count cannot be negative."),
    "future_date": _l("The date is after tomorrow in the store's time zone."),
    "duplicate_columns": _l("The header names a column more than once."),
    "header_too_long": _l("The first lines of the file are longer or wider than we accept."),
    "too_many_columns": _l("The first lines of the file are longer or wider than we accept."),
}


def error_text(code, message=""):
    known = ERROR_TEXT.get(code)
    return str(known) if known is not None else message


def warning_text(note):
    """A stored parser warning in the user's language."""
    params = note.get("params") or {}
    if note["code"] == "columns_not_read":
        return _("Columns not read: %(columns)s", columns=", ".join(params.get("columns", [])))
    if note["code"] == "missing_measure" and params.get("measure") in BASE_MEASURES:
        measure = BASE_MEASURES[params["measure"]]
        name = measure.name_zh if ui_lang() == "zh_CN" else measure.name_en.lower()
        return _("No column for %(measure)s: KPIs that use it will show no data for this store.",
                 measure=name)
    if note["code"] == "total_rows_skipped":
        return _("%(count)d total rows skipped.", count=params.get("count", 0))
    if note["code"] == "description_rows_skipped":
        return _("%(count)d description rows skipped.", count=params.get("count", 0))
    return note["message"]


def parser_label(info):
    return info.label_zh if ui_lang() == "zh_CN" else info.label_en


def import_form():
    form = ImportForm()
    form.parser.choices = [("", _("Detect automatically"))] + [
        (key, parser_label(info)) for key, info in PARSERS.items()]
    return form


def load_record(import_id):
    record = db.session.get(ImportRecord, import_id)
    if record is None:
        abort(404)
    return record


@bp.route("/", methods=["GET", "POST"])
@allow("imports.run")
@kept_page()
def index():
    form = import_form()
    if form.validate_on_submit():
        record = submit(form)
        if record is not None:
            return redirect(url_for("imports.detail", import_id=record.id))
    records = recent_imports(request.args.get("before", type=int))
    older_url = url_for("imports.index", before=records[-1].id) if len(records) == LIST_SIZE else None
    dated = [parser_label(i) for i in PARSERS.values() if i.needs_date_range]
    return render_template("imports/index.html", form=form, records=records, dated_formats=dated,
                           older_url=older_url, stores=suggested_stores(records),
                           limit_mb=current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024))


def recent_imports(before=None):
    """One page of imports, newest first, from id `before` down (keyset: no OFFSET scan)."""
    # each row shows its store: one query for all of them, not one per row
    stmt = select(ImportRecord).order_by(ImportRecord.id.desc()).options(selectinload(ImportRecord.store))
    if before:
        stmt = stmt.where(ImportRecord.id < before)
    return db.session.execute(stmt.limit(LIST_SIZE)).scalars().all()


def suggested_stores(records):
    """The active stores of the listed imports, by code: the store field's suggestions, at most
    one per row of the page whatever the number of stores (their stores are loaded already)."""
    return sorted({r.store for r in records if r.store is not None and r.store.active}, key=lambda s: s.code)


def store_by_code(code):
    """The active store with this code (the exact code first, else ignoring case), or None."""
    found = db.session.execute(select(Store).where(Store.active, func.lower(Store.code) == code.lower())
                               .order_by(Store.code)).scalars().all()
    return next((s for s in found if s.code == code), found[0] if found else None)


def submit(form):
    store = store_by_code(form.store.data) if form.store.data else None
    if form.store.data and store is None:
        form.store.errors.append(error_text("unknown_store"))
        return None
    upload = form.file.data
    try:
        return services.start_import(
            upload.read(), upload.filename, store.id if store else None, current_user,
            parser=form.parser.data or None, date_from=form.date_from.data, date_to=form.date_to.data,
            allow_partial=form.allow_partial.data, kind=form.kind.data)
    except services.ImportRejected as error:
        form.file.errors.append(error_text(error.code, error.message))
        return None


@bp.route("/<int:import_id>")
@allow("imports.run")
def detail(import_id):
    record = load_record(import_id)
    run = services.job_run(record)
    live = job_state(run, record.progress)
    progress = record.progress if record.is_finished or live is None else live.progress
    return render_page_or_fragment("imports/detail.html", "imports/_progress.html", record=record,
                                   run=run, live=live, progress=progress, error_text=error_text,
                                   tracking=services.tracking_run(record),
                                   warning_text=warning_text)


@bp.route("/<int:import_id>/rejected.csv")
@allow("imports.run")
def rejected_rows(import_id):
    record = load_record(import_id)
    rows = [(e["line"], e.get("column") or "", e["code"], e["message"]) for e in record.errors or []]
    body = write_csv(["line", "column", "code", "message"], rows)
    return attachment(body, f"import-{record.id}-rejected.csv", "text/csv; charset=utf-8")


@bp.route("/<int:import_id>/file")
@allow("imports.run")
def raw_file(import_id):
    record = load_record(import_id)
    stored = db.session.get(ImportFile, record.id)
    if stored is None:
        abort(404)
    name = secure_filename(record.filename) or f"import-{record.id}"
    return attachment(stored.data, name, "application/octet-stream")


@bp.route("/template.csv")
@allow("imports.run")
def generic_template():
    return attachment(generic_template_csv().encode("utf-8"), "kpiapp-generic-template.csv",
                    "text/csv; charset=utf-8")

