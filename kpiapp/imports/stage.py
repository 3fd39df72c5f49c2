"""A large file's facts staged in SQL instead of held in memory (issue 10: bounded memory).

The parser's Collector keeps a dict natural key -> Fact; once it holds IMPORT_STAGE_FACTS
facts it writes them to fact_stage (stage 0) through a StageSink and from then on writes
every fact as it comes, unsummed, a chunk at a time. After the file, SQL does what the
dict did (docs/scaling.md, "Bounded memory"):

1. key_errors: per natural key the first fact (lowest seq) rules; a later fact is a
   duplicate_row when it came with mode "unique" (generic template), a mixed_currency when
   its currency differs from the first's, each naming the first's line, as Collector._put.
2. group: one row per key into stage 1 (sum of the first and the same-currency facts, the
   first's line and currency); settlements add their SKU facts to the SKU-less total.
   When no key came twice and nothing rolls up (REPEATS: one read, no write), the raw
   rows of stage 0 are already those rows and steps 1-2 are skipped: the later steps read
   stage 0 (sink.grouped).
3. refuse_future and the store rules drop whole lines, as parsers.refuse_future and
   fact_rows() do; then StagedRows summarises and writes the grouped rows into metric_fact
   with one INSERT ... SELECT (ON CONFLICT DO UPDATE unless the slice is empty).

The stage rows are committed a chunk at a time while the file is parsed (a SQLite write
lock is held for one chunk, not for the whole parse); they are scratch, keyed by the
import id, deleted when the import commits (in its transaction) or fails, and before a
re-run writes its first chunk. All-or-nothing and idempotence stay with metric_fact's
one transaction and its natural-key upsert.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from contextlib import contextmanager
from itertools import islice
from operator import itemgetter, le

from sqlalchemy import case, delete, func, literal, select, text
from sqlalchemy.dialects import postgresql, sqlite

from kpiapp.extensions import db, settings_for_one_statement
from kpiapp.imports.fact_rows import FACT_COLUMNS, FACT_KEY, FACT_UPDATES, DaySums, FactSet, binary_copy
from kpiapp.models import FactStage, MetricFact
from kpiapp.parsers import RowError

STAGE = FactStage.__table__
RAW, GROUPED = 0, 1
ROW_COLUMNS = ("seq", "line", "business_date", "period_end", "measure", "value", "currency", "sku", "ref",
               "store_code", "once")  # the Collector's row order
KEY = "business_date, period_end, sku, ref, measure, store_code"
DELETE_CHUNK = 500

# Every raw fact with its key's first fact (lowest seq): line and currency.
WINDOWED = f"""
SELECT seq, line, {KEY}, value, currency, once,
       first_value(seq) OVER w AS first_seq, first_value(line) OVER w AS first_line,
       first_value(currency) OVER w AS first_currency
FROM fact_stage WHERE import_id = :i AND stage = 0
WINDOW w AS (PARTITION BY {KEY} ORDER BY seq)"""
SAME_CURRENCY = "coalesce(currency, '') = coalesce(first_currency, '')"
KEY_ERRORS = f"""
SELECT line, once, currency, first_line, first_currency FROM ({WINDOWED}) w
WHERE seq <> first_seq AND (once OR NOT {SAME_CURRENCY}) ORDER BY seq"""
SUMMED = f"""
SELECT first_seq, first_line, {KEY}, sum(value) AS value, first_currency FROM ({WINDOWED}) w
WHERE seq = first_seq OR (NOT once AND {SAME_CURRENCY})
GROUP BY first_seq, first_line, first_currency, {KEY}"""
REPEATS = f"""
SELECT EXISTS (SELECT 1 FROM fact_stage WHERE import_id = :i AND stage = 0
               GROUP BY {KEY} HAVING count(*) > 1)"""
WATCH_KEYS = 10_000  # RepeatWatch keeps at most this many keys of one date (or the sink's limit)
ROW_KEY = itemgetter(2, 3, 7, 8, 4, 9)  # a raw row's natural key, in KEY's order
ROW_DAY = itemgetter(2)
ROW_SPAN = itemgetter(9, 4, 2, 3, 7)  # (store code, measure, day, period end, sku)
ROW_DAY_KEY = itemgetter(9, 4, 2, 3, 6)  # DaySums' key: (store code, measure, day, period end, currency)
ROW_VALUE = itemgetter(5)
ROLLED_UP = """value + CASE WHEN sku = '' THEN coalesce(sum(CASE WHEN sku <> '' THEN value END)
    OVER (PARTITION BY business_date, period_end, ref, measure, store_code), 0) ELSE 0 END"""


class RepeatWatch:
    """Proves, as the raw rows pass, that no natural key came twice, so that REPEATS (a hash
    aggregate over every raw row, 0.2-0.3 s of server CPU for the bench's 209,600 Ads rows)
    need not run. Exact while the rows come in business_date order (a report's usual order):
    a key holds its date, so a key seen before can only be one of the current date's, and
    only that date's keys are kept. Stops at the first repeat (`repeated`: the file is grouped
    without REPEATS); gives up (`proven` False: REPEATS decides, as before) at the first row
    dated before the one ahead of it, or when one date holds
    more keys than the sink's limit or WATCH_KEYS, whichever is more (memory stays bounded)."""

    def __init__(self, limit: int):
        self.limit = max(limit, WATCH_KEYS)
        self.proven = True
        self.repeated = False  # a key was seen twice (then proven is False too)
        self.day = None  # the latest date seen
        self.keys: set = set()  # the keys seen on that date

    def add(self, rows) -> None:
        if not self.proven or not rows:
            return
        days = list(map(ROW_DAY, rows))
        first, last = days[0], days[-1]
        if (self.day is not None and first < self.day) or not all(map(le, days, islice(days, 1, None))):
            self.proven, self.keys = False, set()  # out of date order: a repeat may be anywhere
            return
        chunk = set(map(ROW_KEY, rows))
        if len(chunk) < len(rows) or (first == self.day and not self.keys.isdisjoint(
                map(ROW_KEY, islice(rows, bisect_right(days, first))))):
            self.proven, self.repeated, self.keys = False, True, set()  # a key came twice
            return
        start = bisect_left(days, last)
        tail = set(map(ROW_KEY, islice(rows, start, None))) if start else chunk
        self.keys = self.keys | tail if last == self.day else tail
        self.day = last
        if len(self.keys) > self.limit:
            self.proven, self.keys = False, set()


class StageSink:
    """The Collector's sink (parsers.common.spilling_to) for one import: rows into fact_stage."""

    def __init__(self, import_id: int, limit: int, day_sums: DaySums | None = None):
        """day_sums: fact_day's rows summed from the raw rows as they are written (PostgreSQL),
        used when they are the rows written (`day_sums`)."""
        self.import_id = import_id
        self.limit = limit
        self.sums = day_sums
        self.rolls_up = False
        self.grouped = GROUPED  # the stage holding one row per key once settled
        self.used = False
        self.count = 0  # raw rows written
        self.keys = None  # grouped rows, once settled
        self.spans: set = set()  # distinct (store code, measure, start, end, is_total) of the rows
        self.trimmed = False  # lines were dropped after the file: the spans above may be too many
        self.watch = RepeatWatch(limit)  # no key twice, proven as the rows pass: no REPEATS after

    def open(self, _family: str, _rolls_up: bool) -> None:
        """Before the first write (the Collector's protocol); the stage needs nothing then."""

    def write(self, rows) -> None:
        if not self.used:
            clear(self.import_id)  # a re-run after a crash: the last run's rows go first
            self.used = True
        if rows:
            write_chunk(db.session.connection(), self.import_id, rows)
            self.count += len(rows)
            sum_up(rows, self.spans, self.sums)  # they need no read of the stage
            self.watch.add(rows)
        db.session.commit()

    def summary(self):
        """(spans, rows) of the settled rows when known without reading the stage, else None:
        grouping keeps every key; only dropped lines change them."""
        return None if self.trimmed or self.keys is None else (self.spans, self.keys)

    def day_sums(self):
        """The DaySums of the rows written into metric_fact when known without reading it: the
        raw rows are those rows (no key came twice, nothing rolled up, no line dropped), else None."""
        return self.sums if self.summary() is not None and self.grouped == RAW else None

    def roll_up(self) -> None:
        self.rolls_up = True


def sum_up(rows, spans: set, sums: DaySums | None) -> None:
    """What a sink sums up of the raw rows as they pass: their distinct (store code, measure, start,
    end, is_total) spans, a few per store and day, into `spans`; fact_day's sums into `sums` (if any)."""
    spans.update({(code, measure, day, end or day, sku == "")
                  for code, measure, day, end, sku in set(map(ROW_SPAN, rows))})
    if sums is not None:
        sums.add(map(ROW_DAY_KEY, rows), map(ROW_VALUE, rows))


def write_chunk(conn, import_id, rows) -> None:
    """One chunk of raw rows into stage 0 (in the caller's transaction)."""
    if conn.dialect.name == "postgresql":
        copy_rows(conn, import_id, rows)
    else:
        insert_rows(conn, import_id, rows)


def copy_rows(conn, import_id, rows) -> None:
    head = (import_id, RAW)
    cursor = conn.connection.driver_connection.cursor()
    with binary_copy(cursor, "fact_stage", ("import_id", "stage") + ROW_COLUMNS) as copy:
        for row in rows:
            copy.write_row(head + row)


def insert_rows(conn, import_id, rows) -> None:
    """SQLite: executemany on the driver, a row at a time (no list of dicts); values bound as
    SQLAlchemy binds Numeric there (float), dates as ISO text."""
    columns = ("import_id", "stage") + ROW_COLUMNS
    marks = ", ".join("?" * len(columns))
    cursor = conn.connection.driver_connection.cursor()
    cursor.executemany(f"INSERT INTO fact_stage ({', '.join(columns)}) VALUES ({marks})", (
        (import_id, RAW, seq, line, day.isoformat(), end.isoformat() if end else None, measure, float(value),
         currency, sku, ref, code, once)
        for seq, line, day, end, measure, value, currency, sku, ref, code, once in rows))


def clear(import_id: int) -> None:
    """Delete an import's stage rows (in the caller's transaction)."""
    db.session.execute(delete(STAGE).where(STAGE.c.import_id == import_id))


def settle(sink: StageSink, latest) -> list[RowError]:
    """After the file: the key errors, one row per key, the future-date rule. Returns the errors."""
    conn = db.session.connection()
    with unsorted(conn):
        watch = sink.watch
        repeats = sink.rolls_up or watch.repeated or (
            not watch.proven and conn.execute(text(REPEATS), {"i": sink.import_id}).scalar())
    if not repeats:
        # every key came once: the raw rows are the grouped rows
        sink.grouped, errors, sink.keys = RAW, [], sink.count
    else:
        sink.keys = group(conn, sink.import_id, sink.rolls_up)
        # fewer keys than rows: some key came twice (else none did, and there is nothing to report)
        errors = key_errors(conn, sink.import_id) if sink.keys < sink.count else []
    # the sink's spans hold every row's dates: when none is after latest, nothing to read
    newest = max((max(day, end) for _code, _measure, day, end, _total in sink.spans), default=None)
    future = refuse_future(conn, sink.import_id, latest, sink.grouped) if newest and newest > latest else []
    sink.trimmed = bool(future)
    return errors + future


@contextmanager
def unsorted(conn):
    """PostgreSQL: sorts off for one statement over the stage (`enable_sort`, put back after).

    fact_stage is never analysed (its rows live for one import), so the planner guesses a
    couple of rows per import and plans for that: it sorted all 209,600 raw rows of the bench's
    Ads file before REPEATS' GROUP BY (0.47 of 0.54 s; hashed, the check takes 0.17 s, half
    the server CPU: docs/scaling.md, "One import end to end after stop 28"). Sorts stay
    possible, only costed higher. (The INSERT ... SELECT's sort by seq, read from the primary
    key instead, saved nothing measurable: left as it was.)"""
    with settings_for_one_statement(conn, enable_sort="off"):
        yield


def key_errors(conn, import_id) -> list[RowError]:
    errors = []
    for line, once, currency, first_line, first_currency in conn.execute(text(KEY_ERRORS), {"i": import_id}):
        if once:
            errors.append(RowError(line, None, "duplicate_row",
                                   "Same date, store, SKU and measure as line %d." % first_line))
        else:
            errors.append(RowError(line, None, "mixed_currency", "Currency %s differs from %s on line %d."
                                   % (currency, first_currency, first_line)))
    return errors


def group(conn, import_id, rolls_up) -> int:
    """One row per key into stage 1; returns how many keys."""
    value = ROLLED_UP if rolls_up else "value"
    return conn.execute(text(f"""
        INSERT INTO fact_stage (import_id, stage, seq, line, {KEY}, value, currency, once)
        SELECT :i, {GROUPED}, first_seq, first_line, {KEY}, {value}, first_currency, false
        FROM ({SUMMED}) g"""), {"i": import_id}).rowcount


def refuse_future(conn, import_id, latest, grouped=GROUPED) -> list[RowError]:
    """parsers.refuse_future on the grouped rows (in stage `grouped`): a line holding a fact dated
    after latest is an error (its first such date) and none of its facts are kept."""
    c = STAGE.c
    query = select(c.line, c.business_date, c.period_end).where(
        c.import_id == import_id, c.stage == grouped,
        (c.business_date > latest) | (c.period_end > latest)).order_by(c.seq)
    bad = {}
    for line, day, end in conn.execute(query):
        bad.setdefault(line, max(day, end or day))
    drop_lines(conn, import_id, bad, grouped)
    return [RowError(line, None, "future_date", "The date %s is in the future." % day.isoformat())
            for line, day in sorted(bad.items())]


def drop_lines(conn, import_id, lines, grouped=GROUPED) -> None:
    lines = sorted(lines)
    for start in range(0, len(lines), DELETE_CHUNK):
        conn.execute(delete(STAGE).where(STAGE.c.import_id == import_id, STAGE.c.stage == grouped,
                                         STAGE.c.line.in_(lines[start:start + DELETE_CHUNK])))


def store_codes(import_id, grouped=GROUPED) -> list[str]:
    c = STAGE.c
    return list(db.session.execute(select(c.store_code).distinct().where(
        c.import_id == import_id, c.stage == grouped)).scalars())


def refuse_stores(import_id, problems: dict, grouped=GROUPED) -> list[RowError]:
    """fact_rows()'s rule: a line with a fact whose store code has a problem is an error (the
    first such fact's problem) and none of its facts are kept. problems: code -> (code, message)."""
    if not problems:
        return []
    c = STAGE.c
    query = select(c.line, c.store_code).where(
        c.import_id == import_id, c.stage == grouped, c.store_code.in_(list(problems))).order_by(c.seq)
    errors, bad = [], set()
    for line, code in db.session.execute(query):
        if line not in bad:
            errors.append(RowError(line, "store", *problems[code]))
            bad.add(line)
    drop_lines(db.session.connection(), import_id, bad, grouped)
    return errors


class StagedRows(FactSet):
    """The grouped stage rows of one import (in stage `grouped`) as the write path sees them
    (FactRows' twin)."""

    def __init__(self, import_id: int, store_of: dict, family: str, grouped: int = GROUPED, summary=None,
                 sums: DaySums | None = None):
        """summary: (spans, rows) when the caller knows them (StageSink.summary): no read of the stage;
        sums: the rows' DaySums when known (StageSink.day_sums)."""
        self.import_id = import_id
        self.sums = sums
        self.store_of = store_of
        self.family = family
        self.grouped = grouped
        if summary is not None:
            spans, self.count = summary
            self.take_spans(spans, store_of)
            return
        c = STAGE.c
        mine = (c.import_id == import_id, c.stage == grouped)
        self.count = db.session.execute(select(func.count()).where(*mine)).scalar()
        end = func.coalesce(c.period_end, c.business_date)
        spans = db.session.execute(
            select(c.store_code, c.measure, c.business_date, end, c.sku == "").distinct().where(*mine))
        self.take_spans(spans, store_of)

    def day_sums(self, _scale: int) -> list[dict] | None:
        """FactRows.day_sums when the sink summed them (rounded to its scale), else None."""
        return None if self.sums is None else self.sums.rows(self.store_of, self.family, self.import_id)

    def write(self, conn, direct: bool) -> None:
        """INSERT ... SELECT the grouped rows into metric_fact, in seq order (the ids follow the
        order the in-memory path writes); ON CONFLICT DO UPDATE unless the slice was empty."""
        c = STAGE.c
        store_id = case(self.store_of, value=c.store_code)
        end = func.coalesce(c.period_end, c.business_date)
        rows = select(store_id, literal(self.family), c.business_date, end, c.sku, c.ref, c.measure, c.value,
                      c.currency, literal(self.import_id), c.line).where(
            c.import_id == self.import_id, c.stage == self.grouped).order_by(c.seq)
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(MetricFact.__table__).from_select(list(FACT_COLUMNS), rows)
        if not direct:
            stmt = stmt.on_conflict_do_update(index_elements=list(FACT_KEY),
                                              set_={name: stmt.excluded[name] for name in FACT_UPDATES})
        conn.execute(stmt)
        clear(self.import_id)
