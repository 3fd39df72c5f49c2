"""Imports: start one (F2 checks, dedupe, enqueue) and run one (parse, validate, write once).

The database records whether an import happened (SECURITY.md §2): facts and the
`committed` status are written in ONE transaction, so a crash leaves nothing
behind and a re-run starts over; a committed import is never run again.
See docs/imports.md.
"""
import hashlib
import json
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import islice

from flask import current_app
from sqlalchemy import func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from kpiapp import audit, jobs
from kpiapp.extensions import db, dialect, set_local, settings_for_one_statement
from kpiapp.imports import stage
from kpiapp.imports.direct import DirectSink, Restart
from kpiapp.imports.fact_rows import FACT_COLUMNS, FACT_KEY, FACT_UPDATES, DaySums, FactRows, binary_copy
from kpiapp.metrics import fact_day, fact_month
from kpiapp.metrics.partitions import analyze_for_facts, ensure_for_facts
from kpiapp.models import (FxRate, ImportFile, ImportKind, ImportRecord, ImportStatus, MetricFact,
                           Store)
from kpiapp.models.base import utcnow
from kpiapp.parsers import PARSERS, ParseError, RowError, parse_file, parse_fx
from kpiapp.parsers.common import latest_day

JOB_TIMEOUT = 1800  # seconds; a record 'running' for longer than this (+ grace) is dead
TRACKING_TIMEOUT = 600
CHUNK = 1000
VALUE_SCALE = MetricFact.__table__.c.value.type.scale  # the decimals metric_fact.value keeps
MAX_STORED_ERRORS = 2000
EXTENSIONS = (".csv", ".txt", ".tsv", ".tab", ".xlsx", ".json", ".gz")
XLSX_MAGIC = b"PK\x03\x04"


class ImportRejected(Exception):
    """An upload refused before anything is stored (size, extension, options)."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def noop_progress(_percent):
    return None


# ---- starting an import -------------------------------------------------------------------

def start_import(data, filename, store_id, actor, *, parser=None, date_from=None, date_to=None,
                 allow_partial=False, kind=ImportKind.facts):
    """Store an upload and enqueue its job; identical bytes and options return the existing record.

    Raises ImportRejected for an upload refused outright (too large, wrong extension or
    content, unknown parser or store, bad date range), and jobs.QueueUnavailable when Redis
    does not take the job (the record is then failed, `queue_unavailable`). Everything found
    while parsing is reported on the record instead (status failed, errors listed).
    """
    kind = ImportKind(kind)
    store_id = store_id if kind == ImportKind.facts else None
    check_upload(data, filename)
    check_options(kind, store_id, parser, date_from, date_to)
    digest = hashlib.sha256(data).hexdigest()
    key = dedupe_key(digest, kind, store_id, parser, date_from, date_to, allow_partial)
    existing = live_record(key)
    if existing is not None:
        return relaunch_if_lost(existing)
    record, run = create_record_and_job(data, filename, digest, key, kind, store_id, actor, parser,
                                        date_from, date_to, allow_partial)
    if record.status != ImportStatus.pending:
        return record  # lost a race: another request created the same import first
    if run is None:
        enqueue_import(record)
    else:
        launch_import(record, run)
    db.session.expire_all()
    return db.session.get(ImportRecord, record.id)


def check_upload(data, filename):
    """SECURITY.md F2: size cap and extension vs content (the parsers check the rest)."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if limit and len(data) > limit:
        raise ImportRejected("file_too_large", f"The file is larger than {limit // (1024 * 1024)} MB.")
    name = (filename or "").lower()
    if not name.endswith(EXTENSIONS):
        raise ImportRejected("bad_extension", "Upload a .csv, .txt, .tsv, .xlsx, .json or .gz file.")
    is_zip = data.startswith(XLSX_MAGIC)
    if name.endswith(".xlsx") != is_zip:
        raise ImportRejected("extension_mismatch", "The file's content does not match its extension.")


def check_options(kind, store_id, parser, date_from, date_to):
    if parser and parser not in PARSERS:
        raise ImportRejected("unknown_parser", f"Unknown parser: {parser[:48]}")
    if date_from and date_to and date_to < date_from:
        raise ImportRejected("bad_date_range", "The end date is before the start date.")
    if kind == ImportKind.facts and store_id is not None and db.session.get(Store, store_id) is None:
        raise ImportRejected("unknown_store", "Unknown store.")


def dedupe_key(digest, kind, store_id, parser, date_from, date_to, allow_partial):
    options = [digest, str(kind), store_id, parser or "", str(date_from or ""), str(date_to or ""),
               bool(allow_partial)]
    return hashlib.sha256(json.dumps(options).encode()).hexdigest()


def live_record(key):
    """The pending/running/committed record with this key; a dead one is marked failed."""
    record = db.session.execute(
        select(ImportRecord).where(ImportRecord.dedupe_key == key, ImportRecord.status != "failed")
    ).scalar_one_or_none()
    if record is not None and is_dead(record):
        finish_failed(record, "abandoned", "The import stopped without finishing (worker lost).")
        return None
    return record


def is_dead(record):
    if record.status == ImportStatus.committed:
        return False
    since = record.started_at or record.created_at
    return since is not None and utcnow() - since > timedelta(seconds=JOB_TIMEOUT + 120)


def create_record_and_job(data, filename, digest, key, kind, store_id, actor, parser, date_from,
                          date_to, allow_partial):
    """(the new pending record, its queued job row), committed together; or (the live record with
    the same key, None) when another request created it first."""
    record = ImportRecord(
        kind=kind, parser=parser, store_id=store_id,
        uploaded_by_id=getattr(actor, "id", None), filename=display_name(filename), sha256=digest,
        size=len(data), date_from=date_from, date_to=date_to, allow_partial=bool(allow_partial),
        dedupe_key=key, status=ImportStatus.pending)
    db.session.add(record)
    try:
        db.session.flush()
        record.job_id = f"import-{record.id}"
        db.session.add(ImportFile(import_id=record.id, data=data))
        run = new_job_run(record)  # in the record's transaction: one commit, not two
        db.session.commit()
    except IntegrityError:  # the partial unique index on dedupe_key: same import, created first
        db.session.rollback()
        existing = live_record(key)
        if existing is None:
            raise ImportRejected("busy", "The same file is being imported; try again.") from None
        return existing, None
    return record, run


def display_name(filename):
    name = (filename or "upload").replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in name if ch.isprintable())[:255] or "upload"


def new_job_run(record):
    """The record's job row (flushed, not committed)."""
    return jobs.create("import", "import_record", record.id, record.uploaded_by_id, rq_id=record.job_id)


def enqueue_import(record):
    """Queue the record's job; if Redis is down the import is failed and QueueUnavailable raised."""
    launch_import(record, new_job_run(record))


def launch_import(record, run):
    """Commit and launch the record's job row; if Redis is down the import is failed and
    QueueUnavailable raised."""
    try:
        jobs.launch(run, rq_id=record.job_id, timeout=JOB_TIMEOUT)
    except jobs.QueueUnavailable:
        mark_failed(record.id, "queue_unavailable", "The job queue is unreachable; nothing was imported.")
        raise


def relaunch_if_lost(record):
    """A pending record whose job is not in Redis (flushed, or never queued) is queued again."""
    if record.status != ImportStatus.pending or not jobs.is_lost(job_run(record)):
        return record
    enqueue_import(record)
    db.session.expire_all()
    return db.session.get(ImportRecord, record.id)


def job_run(record):
    return jobs.latest("import", "import_record", record.id)


def tracking_run(record):
    """The job recomputing the scorecards this import touches (its `total`: how many), or None."""
    return jobs.latest("recompute_import", "import_record", record.id)


# ---- running an import ----------------------------------------------------------------------

@dataclass
class Parsed:
    parser: str | None
    family: str | None
    rows: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    rows_read: int = 0
    warnings: list = field(default_factory=list)  # ParseWarning: columns not read, rows skipped...


def run_import(import_id, progress=noop_progress):
    """Run one import to the end: committed with its facts, or failed with nothing written.

    Safe to call more than once (RQ is at-least-once): a committed import is left alone,
    any other state starts over from the stored bytes.
    """
    record = db.session.get(ImportRecord, import_id)
    if record is None or record.status == ImportStatus.committed:
        return record
    begin(record)
    try:
        return parse_and_write(record, progress)
    except Exception as error:
        db.session.rollback()
        mark_failed(import_id, "internal_error", f"The import stopped: {type(error).__name__}.")
        raise


def begin(record):
    record.status, record.started_at, record.finished_at = ImportStatus.running, utcnow(), None
    record.progress, record.errors, record.warnings, record.error, record.error_code = 0, None, None, None, None
    record.rows_read = record.facts_written = record.facts_replaced = record.rows_rejected = 0
    db.session.commit()


def parse_and_write(record, progress):
    upload = Upload.of(record)
    db.session.commit()  # hold no transaction while parsing (on SQLite that would be the write lock)
    try:
        parsed = parse_upload(upload)
    except ParseError as error:
        return finish_failed(record, error.code, error.message)
    record.parser, record.family = parsed.parser, parsed.family
    progress(10)
    if parsed.errors and not record.allow_partial:
        lines = len({e.line for e in parsed.errors})
        return finish_failed(record, "row_errors",
                             f"{lines} rows have errors; nothing was imported.", parsed)
    if not parsed.rows:
        return finish_failed(record, "no_rows", "The file has no rows to import.", parsed)
    if record.kind == ImportKind.fx:
        return write_rates(record, parsed, progress)
    return write_facts(record, parsed, progress)


@dataclass(frozen=True)
class Upload:
    """What parsing needs, read from the record before the transaction ends."""

    import_id: int
    kind: str
    data: bytes
    filename: str
    parser: str | None
    date_from: object
    date_to: object
    store_id: int | None
    store_code: str | None
    tz: str | None
    currency: str | None

    @classmethod
    def of(cls, record):
        store = record.store
        return cls(record.id, record.kind, db.session.get(ImportFile, record.id).data, record.filename,
                   record.parser, record.date_from, record.date_to, record.store_id,
                   store.code if store else None, store.timezone if store else None,
                   store.currency if store else None)


def parse_upload(upload):
    if upload.kind == ImportKind.fx:
        rates, errors = parse_fx(upload.data, upload.filename)
        rows = [{"date": r.date, "currency": r.currency, "rate": r.rate, "import_id": upload.import_id}
                for r in rates]
        return Parsed("fx", "fx", rows, list(errors), len(rates) + len({e.line for e in errors}))
    sink = direct_sink(upload)
    if sink is not None:  # a large file's facts written once, as parsed (imports/direct.py)
        try:
            return parse_facts(upload, sink)
        except Restart as why:  # one the stage decides: parsed again, through it
            sink.abandon()
            current_app.logger.info("import %s goes through the stage: %s", upload.import_id, why)
        except BaseException:
            sink.abandon()
            raise
    return parse_facts(upload, stage_sink(upload))


def direct_sink(upload):
    """The DirectSink for an import of facts into a chosen store on PostgreSQL, else None."""
    config = current_app.config
    if not (config["IMPORT_WRITE_ONCE"] and config["IMPORT_STAGE_FACTS"] and upload.store_id
            and dialect() == "postgresql"):
        return None
    return DirectSink(upload.import_id, upload.store_id, upload.store_code, config["IMPORT_STAGE_FACTS"],
                      VALUE_SCALE, lambda conn, family: lock_slices(conn, [upload.store_id], family),
                      latest_day(upload.tz))


def stage_sink(upload):
    """The StageSink that spills a large file's facts to fact_stage, or None (IMPORT_STAGE_FACTS 0)."""
    limit = current_app.config["IMPORT_STAGE_FACTS"]
    # PostgreSQL (exact decimals) sums fact_day's rows of a first import from the facts it has; SQLite in SQL
    sums = DaySums(VALUE_SCALE) if limit and dialect() == "postgresql" else None
    return stage.StageSink(upload.import_id, limit, sums) if limit else None


def parse_facts(upload, sink):
    result = parse_file(upload.data, upload.filename, parser=upload.parser, date_from=upload.date_from,
                        date_to=upload.date_to, tz=upload.tz, currency=upload.currency, sink=sink)
    if not result.staged:
        rows, store_errors = fact_rows(upload, result)
    elif isinstance(sink, DirectSink):  # already in metric_fact, in this transaction
        rows, store_errors = sink.finish(result), []
    else:  # a large file: its facts are in fact_stage (imports/stage.py)
        sort_memory(db.session.connection())
        result.errors = list(result.errors) + stage.settle(sink, latest_day(upload.tz))
        rows, store_errors = staged_rows(upload, result, sink)
    return Parsed(result.parser, result.family, rows, list(result.errors) + store_errors,
                  result.rows_read, list(result.warnings))


def fact_rows(upload, result):
    """Facts as table rows (made a chunk at a time while written); facts whose store cannot be
    resolved become row errors and their lines are left out."""
    codes = {s.code: s.id for s in db.session.execute(select(Store)).scalars()}
    resolved = {code: resolve_store(upload.store_id, code, codes)
                for code in {fact.store_code for fact in result.facts}}  # one answer per store code
    errors, bad_lines = [], set()
    if any(problem for _, problem in resolved.values()):
        for fact in result.facts:
            problem = resolved[fact.store_code][1]
            if problem and fact.line not in bad_lines:
                errors.append(RowError(fact.line, "store", problem[0], problem[1]))
                bad_lines.add(fact.line)
    store_of = {code: store_id for code, (store_id, _) in resolved.items()}
    return FactRows(result.facts, store_of, result.family, upload.import_id), errors


def staged_rows(upload, result, sink):
    """fact_rows() for facts staged in fact_stage (one row per key in stage `sink.grouped`): the
    same store rules, applied in SQL. What the sink summed up while the file was written (its
    rows' spans and store codes) stands in for reading the stage unless lines were dropped."""
    codes = {s.code: s.id for s in db.session.execute(select(Store)).scalars()}
    summary = sink.summary()
    staged_codes = ({code for code, *_ in summary[0]} if summary
                    else stage.store_codes(upload.import_id, sink.grouped))
    resolved = {code: resolve_store(upload.store_id, code, codes) for code in staged_codes}
    problems = {code: problem for code, (_, problem) in resolved.items() if problem}
    errors = stage.refuse_stores(upload.import_id, problems, sink.grouped)
    store_of = {code: store_id for code, (store_id, problem) in resolved.items() if not problem}
    return stage.StagedRows(upload.import_id, store_of, result.family, sink.grouped,
                            None if errors else summary, None if errors else sink.day_sums()), errors


def resolve_store(store_id, code, codes):
    if not code:
        if store_id:
            return store_id, None
        return None, ("missing_store", "Choose a store or fill the store column.")
    if code not in codes:
        return None, ("unknown_store", f"Unknown store code: {code[:32]}")
    if store_id and codes[code] != store_id:
        return None, ("store_mismatch", f"Store {code[:32]} is not the store chosen for this import.")
    return codes[code], None


def write_facts(record, parsed, progress):
    """Upsert every fact and commit them with the 'committed' status, or fail on an overlap; the
    day sums of the (stores, family, days) slice written are replaced in the same transaction."""
    rows = parsed.rows
    if not rows.written:  # written rows (imports/direct.py) made their months as they went
        ensure_for_facts(db.session, rows)  # PostgreSQL: each month has its partition
    conn = db.session.connection()
    sort_memory(conn)
    lock_slices(conn, rows.stores, parsed.family)
    conflict = find_overlap(conn, parsed.family, rows)
    if conflict:
        db.session.rollback()
        return finish_failed(record, "overlapping_range", conflict, parsed)
    # written rows were checked: no other import's fact in their date range
    before = 0 if rows.written else count_facts(conn, parsed.family, rows)
    direct = before == 0 and conn.dialect.name == "postgresql"  # nothing to conflict with: no ON CONFLICT
    if rows.written:
        progress(99)
    elif isinstance(rows, stage.StagedRows):
        rows.write(conn, direct=direct)
        progress(99)
    elif conn.dialect.name == "postgresql":
        copy_upsert(conn, rows, progress, direct=direct)
    else:
        upsert(conn, fact_upsert(conn.dialect.name), rows, progress)
    # written straight into an empty slice, every row is a new fact there (a repeated key would have
    # raised): the slice holds len(rows) facts, none replaced, without counting it again
    replaced = 0 if direct else len(rows) - (count_facts(conn, parsed.family, rows) - before)
    if rows:  # the day sums of the slice just written, in the same transaction (metrics/fact_day.py);
        # a slice empty before holds only these rows: the plain sums do unless they mix SKU and totals,
        # and on PostgreSQL (exact decimals) the facts in memory, or the staged rows summed as they were
        # written, give them without reading metric_fact
        plain = before == 0 and not rows.mixed
        summed = rows.day_sums(VALUE_SCALE) if plain and conn.dialect.name == "postgresql" else None
        fact_day.refresh(conn, rows.stores, {parsed.family}, rows.first_day, rows.last_day,
                         mixed=not plain, rows=summed)
    config = current_app.config
    analyze_for_facts(conn, rows, config["ANALYZE_AFTER_FACTS"], config["ANALYZE_AFTER_GROWTH"])
    keep_footprint(record, rows)
    return finish_committed(record, parsed, replaced)


def keep_footprint(record, rows):
    """The record keeps where its facts are (stores, first day, last period end), committed with
    them: the tracking job reads it instead of the facts (tracking.import_footprint)."""
    record.facts_stores = sorted(store_id for store_id in rows.stores if store_id is not None)
    record.facts_from, record.facts_to = rows.first_day, rows.last_end


def sort_memory(conn):
    """PostgreSQL: IMPORT_WORK_MEM for the rest of this transaction (its sorts and hashes over a
    file's rows: the staged INSERT ... SELECT, the day sums, the stage's key checks)."""
    setting = current_app.config["IMPORT_WORK_MEM"]
    if setting:
        set_local(conn, work_mem=setting)


def write_rates(record, parsed, progress):
    rows, conn = parsed.rows, db.session.connection()
    lock(conn, ["fx"])
    fact_month.lock_rates(conn)  # before the rate rows: fact writers in progress commit first
    before = count_rates(conn, rows)
    upsert(conn, rate_upsert(conn.dialect.name), rows, progress)
    fact_month.refresh_rates(conn, {r["date"] for r in rows})  # their months, converted at the new rates
    replaced = len(rows) - (count_rates(conn, rows) - before)
    return finish_committed(record, parsed, replaced)


def lock_slices(conn, stores, family):
    """Serialise the writers of each (store, family) slice (lock)."""
    lock(conn, [f"facts:{store_id}:{family}" for store_id in sorted(stores)])


def lock(conn, names):
    """Serialise writers of one (store, family) slice on PostgreSQL; SQLite has one writer anyway."""
    if conn.dialect.name != "postgresql":
        return
    for name in sorted(names):
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


def find_overlap(conn, family, rows):
    """A message naming the import whose different date range overlaps these facts, or None."""
    if not rows:
        return None
    with settings_for_one_statement(conn, **(RANGE_INDEX_READ if rows.all_daily else {})):
        found = conn.execute(overlap_query(family, rows)).all()
    for store_id, measure, start, end, import_id in found:
        for new_start, new_end in rows.ranges.get((store_id, measure), ()):
            if new_start <= end and new_end >= start and (new_start, new_end) != (start, end):
                return (f"{measure} for {new_start}..{new_end} overlaps {start}..{end} from import "
                        f"#{import_id}; import the same date range to replace it, or one file per day.")
    return None


# PostgreSQL cannot estimate `business_date <> period_end` (two columns: it takes 0.995 of the
# rows), so it plans the daily check as if the range index returned most of the month: a seq scan
# of the month (42-148 ms on the bench's January), or parallel workers started (11-28 ms) to read
# the index. The index holds exactly the range facts (0.1-0.3 ms); seq scans stay possible, only
# costed higher (docs/scaling.md, "One import end to end after stop 29").
RANGE_INDEX_READ = {"max_parallel_workers_per_gather": 0, "enable_seqscan": "off"}


def overlap_query(family, rows):
    """The facts of the rows' stores and family whose range reaches their days, other imports' (the
    rows may be written already: imports/direct.py); for daily rows only
    the range facts (daily vs daily: the same day replaces), read from their own partial index,
    ix_metric_fact_ranges, not from every daily fact of those months."""
    t = MetricFact.__table__.c
    query = select(t.store_id, t.measure, t.business_date, t.period_end, t.import_id).distinct().where(
        t.store_id.in_(rows.stores), t.family == family, t.import_id != rows.import_id,
        t.business_date <= rows.last_end, t.period_end >= rows.first_day)
    if rows.all_daily:
        query = query.where(t.business_date != t.period_end)
    return query


def count_facts(conn, family, rows):
    if not rows:
        return 0
    t = MetricFact.__table__.c
    return conn.execute(select(func.count()).where(
        t.store_id.in_(rows.stores), t.family == family,
        t.business_date.between(rows.first_day, rows.last_day))).scalar()


def count_rates(conn, rows):
    if not rows:
        return 0
    t = FxRate.__table__.c
    return conn.execute(select(func.count()).where(
        t.date.between(min(r["date"] for r in rows), max(r["date"] for r in rows)))).scalar()


def dialect_insert(dialect_name, table):
    return (postgresql.insert if dialect_name == "postgresql" else sqlite.insert)(table)


def fact_upsert(dialect_name):
    stmt = dialect_insert(dialect_name, MetricFact.__table__)
    return stmt.on_conflict_do_update(index_elements=list(FACT_KEY),
                                      set_={name: stmt.excluded[name] for name in FACT_UPDATES})


def rate_upsert(dialect_name):
    stmt = dialect_insert(dialect_name, FxRate.__table__)
    return stmt.on_conflict_do_update(index_elements=["date", "currency"],
                                      set_={"rate": stmt.excluded.rate, "import_id": stmt.excluded.import_id})


def upsert(conn, stmt, rows, progress):
    done, total = 0, max(len(rows), 1)
    iterator = iter(rows)
    while chunk := list(islice(iterator, CHUNK)):
        conn.execute(stmt, chunk)  # executemany
        done += len(chunk)
        progress(10 + 89 * done // total)


def copy_upsert(conn, rows, progress, direct):
    """PostgreSQL: COPY (binary), inside the import's single transaction.

    direct: the locked slice holds no facts yet, so nothing can conflict and the rows are
    copied straight into metric_fact. Otherwise they go to a temporary table first and
    one INSERT ... ON CONFLICT DO UPDATE merges them (same result as the chunked upsert).
    """
    columns = ", ".join(FACT_COLUMNS)
    target = "metric_fact" if direct else "fact_merge"
    if not direct:
        conn.execute(text(f"CREATE TEMPORARY TABLE fact_merge ON COMMIT DROP AS "
                          f"SELECT {columns} FROM metric_fact WITH NO DATA"))
    cursor = conn.connection.driver_connection.cursor()
    with binary_copy(cursor, target, FACT_COLUMNS) as copy:
        for done, row in enumerate(rows.tuples(), 1):
            copy.write_row(row)
            if done % CHUNK == 0:
                progress(10 + 80 * done // len(rows))
        if direct and not rows.mixed:  # write_facts takes such a slice's day sums from the rows:
            rows.day_sums(VALUE_SCALE)  # summed while the server takes in the last rows, not after
    if not direct:
        updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in FACT_UPDATES)
        conn.execute(text(f"INSERT INTO metric_fact ({columns}) SELECT {columns} FROM fact_merge "
                          f"ON CONFLICT ON CONSTRAINT uq_metric_fact_natural_key DO UPDATE SET {updates}"))
        conn.execute(text("DROP TABLE fact_merge"))
    progress(99)


# ---- finishing ------------------------------------------------------------------------------

def finish_committed(record, parsed, replaced):
    record.status, record.finished_at, record.progress = ImportStatus.committed, utcnow(), 100
    record.rows_read, record.facts_written = parsed.rows_read, len(parsed.rows)
    record.facts_replaced = replaced
    store_errors(record, parsed.errors, parsed.warnings)
    audit.record(db.session, "import.committed", "import_record", record.id, after={
        "kind": str(record.kind), "parser": record.parser, "store_id": record.store_id,
        "sha256": record.sha256, "rows_read": record.rows_read, "facts_written": record.facts_written,
        "facts_replaced": replaced, "rows_rejected": record.rows_rejected})
    run = tracking_job_run(record.id)  # committed with the import: one commit, not two
    db.session.commit()
    launch_tracking(run)
    return record


def tracking_job_run(import_id):
    """The job row recomputing what an import changes (flushed, not committed)."""
    return jobs.create("recompute_import", "import_record", import_id, rq_id=f"track-import-{import_id}")


def launch_tracking(run):
    """Commit and launch a tracking job row; a queue that is down is logged, not raised."""
    try:
        jobs.launch(run, rq_id=run.rq_id, timeout=TRACKING_TIMEOUT)
    except jobs.QueueUnavailable:  # the import stays committed; `kpi recompute` catches up
        current_app.logger.warning("could not enqueue tracking for import %s", run.subject_id)


def finish_failed(record, code, message, parsed=None):
    if record.status == ImportStatus.committed:
        return record  # never undo a committed import (rq#2424)
    record.status, record.finished_at = ImportStatus.failed, utcnow()
    record.error_code, record.error = code, message
    stage.clear(record.id)
    record.facts_written = record.facts_replaced = 0
    if parsed is not None:
        record.rows_read = parsed.rows_read
        store_errors(record, parsed.errors, parsed.warnings)
    db.session.commit()
    return record


def store_errors(record, errors, warnings=()):
    """The row errors (first MAX_STORED_ERRORS, by line) and the file's warnings."""
    ordered = sorted(errors, key=lambda e: (e.line, e.column or ""))
    record.rows_rejected = len({e.line for e in ordered})
    record.errors = [{"line": e.line, "column": e.column, "code": e.code, "message": e.message}
                     for e in ordered[:MAX_STORED_ERRORS]] or None
    record.warnings = [{"code": w.code, "message": w.message, "params": w.params} for w in warnings] or None


def mark_failed(import_id, code, message):
    """Mark an import failed after a crash; a committed import is left as it is."""
    db.session.rollback()
    record = db.session.get(ImportRecord, import_id)
    if record is not None:
        db.session.refresh(record)
        finish_failed(record, code, message)
    return record
