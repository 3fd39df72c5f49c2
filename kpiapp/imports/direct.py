"""A large file's facts written once, into metric_fact, as they are parsed (issue 10).

The stage (imports/stage.py) writes a large file's facts twice: into fact_stage while the file
is parsed, then into metric_fact with one INSERT ... SELECT once the file is known good. On
PostgreSQL, for an import whose store is chosen, the DirectSink writes them once instead, in
the import's own transaction, which it opens at the parser's first spill:

1. At the first spill (`open`): the (store, family) advisory lock that write_facts takes, the
   store codes the import may hold (its own, or none). A parser that rolls up (settlements)
   or a store code of another store sends the file to the stage (`Restart`).
2. Each chunk, as the parser hands it over: its months get their partitions and the slice is
   checked (no other import's fact on the chunk's days: nothing to replace), each on a connection
   of its own, while the writer still writes the chunk before; then a writer thread COPYs the
   chunk into metric_fact while the parser reads the next one (the server writes a chunk while
   the client parses: both cores busy, as a plain COPY keeps them).
3. After the file (`finish`): the rows are final only when nothing the stage would do after the
   file changes one: no row error, no key twice (metric_fact's unique key refuses the COPY),
   no future date, no other import's fact in the file's whole date range (the day sums are
   then the rows' own, and none is replaced). Otherwise the transaction is rolled back and the
   file parsed again through the stage, as before (`Restart`): the stage decides every case
   this path does not, so the result is the stage's in all cases.

The write phase then runs as for any import, in the same transaction (services.write_facts:
the overlap check against other imports, fact_day from the sums taken as the rows passed,
ANALYZE, committed). A crash rolls the transaction back, as for any import.
"""
from __future__ import annotations

import threading
from queue import Queue

from psycopg import errors as pg_errors
from kpiapp.extensions import db
from kpiapp.imports.fact_rows import FACT_COLUMNS, DaySums, FactSet, binary_copy, column_types
from kpiapp.imports.stage import sum_up
from kpiapp.metrics.partitions import (attached_months, create_months, is_partitioned,
                                       joined_to_outer_transaction, months_between)

OTHER_FACTS = ("SELECT 1 FROM metric_fact WHERE store_id = %s AND family = %s AND business_date BETWEEN %s "
               "AND %s AND import_id <> %s LIMIT 1")


OTHERS_ON_DAYS = "another import's facts on these days: this import may replace some"


class Restart(Exception):
    """The file is not one the direct path writes as the stage would: parse it through the stage."""


class DirectSink:
    """The Collector's sink (parsers.common.spilling_to) writing the facts into metric_fact."""

    def __init__(self, import_id: int, store_id: int, store_code: str, limit: int, scale: int,
                 lock_slice, latest):
        """lock_slice(conn, family): services.lock for the import's (store, family) slice;
        latest: the latest date the import may hold (parsers.latest_day of the store's zone)."""
        self.import_id = import_id
        self.store_id = store_id
        self.codes = {"", store_code}  # the store codes a row may carry: none, or the store's own
        self.limit = limit
        self.lock_slice = lock_slice
        self.latest = latest
        self.sums = DaySums(scale)
        self.spans: set = set()
        self.count = 0
        self.family = None
        self.writer: ChunkWriter | None = None

    def open(self, family: str, rolls_up: bool) -> None:
        """Before the first chunk: the slice's lock taken in a transaction held to the commit."""
        if rolls_up:
            raise Restart("the parser rolls SKU facts up onto totals")
        self.family = family
        conn = db.session.connection()
        self.lock_slice(conn, family)
        engine = None if joined_to_outer_transaction(db.session) else db.engine  # None: no month is made
        self.writer = ChunkWriter(conn, engine, self.import_id, self.store_id, family)
        self.writer.start()

    def write(self, rows) -> None:
        """One chunk of the Collector's rows (stage.ROW_COLUMNS): summed up here, written by the writer."""
        if not rows:
            return
        if not self.codes.issuperset({row[9] for row in rows}):
            raise Restart("a row names another store")
        self.count += len(rows)
        sum_up(rows, self.spans, self.sums)
        self.writer.put(rows)

    def roll_up(self) -> None:
        raise Restart("the parser rolls SKU facts up onto totals")

    def finish(self, result) -> "WrittenRows":
        """The written rows once the file is parsed, or Restart (see the module's step 3). The
        whole range is checked for other imports' facts while the writer writes its last chunks
        (`others_apart`), else, in a test's outer transaction, once it is done."""
        rows = WrittenRows(self)  # the parser's sums and spans: complete once the file is read
        others = self.writer.others_apart(rows.first_day, rows.last_day)
        self.writer.close()
        if result.errors:
            raise Restart("row errors")
        if rows.last_end > self.latest:
            raise Restart("a future date")
        if others is None:  # the writer is done with the import's connection
            others = self.writer.others_on(self.writer.conn, rows.first_day, rows.last_day)
        if others:
            raise Restart("other imports' facts in the file's date range")
        return rows

    def abandon(self) -> None:
        """Stop the writer and roll the transaction back (nothing of this attempt is kept)."""
        if self.writer is not None:
            self.writer.stop()
        db.session.rollback()


class ChunkWriter(threading.Thread):
    """Writes the chunks into metric_fact on the import's connection, one at a time, while the
    parser goes on (the main thread touches the import's connection no more until `close`; it
    makes a chunk's months and checks its days on connections of their own). One chunk waits at
    most: the parser's memory stays bounded. The first failure is kept; later chunks are dropped
    and `put` or `close` raise it (Restart for what the stage decides instead)."""

    def __init__(self, conn, engine, import_id: int, store_id: int, family: str):
        super().__init__(name=f"import-{import_id}-writer", daemon=True)
        self.conn = conn
        self.engine = engine  # None: no partition is made (a test's outer transaction)
        self.import_id = import_id
        self.store_id = store_id
        self.family = family
        self.queue: Queue = Queue(maxsize=1)
        self.error: BaseException | None = None
        self.months = attached_months(conn) if is_partitioned(conn) else None  # None: one table
        # read once: each chunk's COPY would ask the catalogue again (16-21 ms a chunk beside the parser)
        self.types = column_types(conn.connection.driver_connection.cursor(), "metric_fact", FACT_COLUMNS)

    def put(self, rows) -> None:
        """Hand a chunk to the writer once its months are made and its days checked (on the
        parser's thread: the writer, the import's bottleneck, goes on writing the chunk before)."""
        self.raise_error()
        first, last = day_range(rows)
        self.make_months(first, last)
        if self.others_apart(first, last):
            raise Restart(OTHERS_ON_DAYS)
        self.queue.put(rows)

    def others_apart(self, first, last) -> bool | None:
        """other_facts on a connection of its own, so on the parser's thread while the writer goes
        on: it sees what committed, as the import's own connection does, less this import's rows,
        which the check leaves out anyway (and no import of the slice commits meanwhile: this one
        holds the slice's lock). None in a test's outer transaction (no engine): what the test
        wrote is seen on the import's connection only, so the check waits for the writer."""
        if self.engine is None:
            return None
        with self.engine.connect() as conn:
            return self.others_on(conn, first, last)

    def others_on(self, conn, first, last) -> bool:
        """other_facts of this import's slice on the days first..last, read on `conn`."""
        return other_facts(conn, self.store_id, self.family, first, last, self.import_id)

    def close(self) -> None:
        """Wait for every chunk to be written; raise the first failure."""
        self.queue.put(None)
        self.join()
        self.raise_error()

    def stop(self) -> None:
        if self.is_alive():
            self.error = self.error or Restart("abandoned")
            self.queue.put(None)
            self.join()

    def raise_error(self) -> None:
        error = self.error
        if error is None:
            return
        if isinstance(error, pg_errors.IntegrityError):  # a key twice: the stage sums or refuses it
            raise Restart(str(error)) from error
        raise error

    def run(self) -> None:
        while (rows := self.queue.get()) is not None:
            if self.error is not None:
                continue
            try:
                self.write(rows)
            except BaseException as error:  # noqa: BLE001  handed to the parser's thread
                self.error = error

    def write(self, rows) -> None:
        if self.engine is None and self.others_on(self.conn, *day_range(rows)):  # not checked apart
            raise Restart(OTHERS_ON_DAYS)
        store_id, family, import_id = self.store_id, self.family, self.import_id
        cursor = self.conn.connection.driver_connection.cursor()
        with binary_copy(cursor, "metric_fact", FACT_COLUMNS, self.types) as copy:
            for _seq, line, day, end, measure, value, currency, sku, ref, _code, _once in rows:
                copy.write_row((store_id, family, day, end or day, sku, ref, measure, value, currency,
                                import_id, line))

    def make_months(self, first, last) -> None:
        """The chunk's months get their partitions (partitions.create_months, each on its own
        connection), while the writer may be COPYing an earlier chunk. It waits for no lock of
        this transaction, which has written only into attached months and never read DEFAULT
        (other_facts is planned for its chunk's days, made months); the writer's next COPY routes
        rows into the months made (tests/imports/test_direct.py). A month not made (a lock
        timeout) leaves its rows to DEFAULT, as ensure_month_partitions does, and is not tried
        again for the next chunks."""
        if self.months is None or self.engine is None:
            return
        missing = [month for month in months_between(first, last) if month not in self.months]
        if missing:
            create_months(self.engine, missing)
            self.months.update(missing)


def day_range(rows):
    """(first, last) day of a chunk's rows (stage.ROW_COLUMNS)."""
    days = [row[2] for row in rows]
    return min(days), max(days)


def other_facts(conn, store_id, family, first, last, import_id) -> bool:
    """Whether another import has facts of the slice on the days first..last (run unprepared:
    a generic plan would lock every partition, DEFAULT too, and block the months made meanwhile)."""
    cursor = conn.connection.driver_connection.cursor()
    cursor.execute(OTHER_FACTS, (store_id, family, first, last, import_id), prepare=False)
    return cursor.fetchone() is not None


class WrittenRows(FactSet):
    """The facts the DirectSink wrote, as the write phase sees them (FactRows' and StagedRows' twin):
    already in metric_fact; their spans and day sums summed as they passed."""

    written = True

    def __init__(self, sink: DirectSink):
        self.import_id = sink.import_id
        self.family = sink.family
        self.count = sink.count
        self.sums = sink.sums
        self.store_of = {code: sink.store_id for code in sink.codes}
        self.take_spans(sink.spans, self.store_of)

    def day_sums(self, _scale: int) -> list[dict]:
        return self.sums.rows(self.store_of, self.family, self.import_id)
