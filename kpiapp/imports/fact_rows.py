"""The facts of one upload as metric_fact rows, made a chunk at a time (issue 10: bounded memory).

The parser's Fact tuples are kept as they are; a row (dict for executemany, tuple for COPY)
is made only while it is written, so a file's facts are never held twice. What the write
path asks of the whole set (stores, dates, each store and measure's date ranges) is summed
up in one pass when the set is made.
"""

from __future__ import annotations

from contextlib import contextmanager
from decimal import ROUND_HALF_UP, Decimal
from itertools import repeat
from operator import itemgetter

FACT_KEY = ("store_id", "family", "business_date", "period_end", "sku", "ref", "measure")
FACT_UPDATES = ("value", "currency", "import_id", "source_line")
FACT_COLUMNS = FACT_KEY + FACT_UPDATES
FACT_DAY_KEY = itemgetter(8, 2, 1, 7, 4)  # a parser Fact's (store code, measure, day, period end, currency)
FACT_VALUE = itemgetter(3)


class FactSet:
    """What the write path asks of a set of fact rows: its stores, first and last days, and
    each store and measure's date ranges, and whether it holds both SKU and total rows (mixed:
    only then can the SKU-under-total rule drop a fact), summed up from the set's distinct spans."""

    count = 0
    mixed = False
    written = False  # already in metric_fact (imports/direct.py): the write phase only checks and sums

    def take_spans(self, spans, store_of: dict) -> None:
        """spans: distinct (store code, measure, start, end, is_total); store_of: code -> store id."""
        self.ranges: dict = {}  # (store_id, measure) -> {(business_date, period_end)}
        self.first_day = self.last_day = self.last_end = None
        days, ends, kinds = set(), set(), set()
        for code, measure, start, end, is_total in spans:
            self.ranges.setdefault((store_of[code], measure), set()).add((start, end))
            days.add(start)
            ends.add(end)
            kinds.add(bool(is_total))
        self.stores = {store_id for store_id, _ in self.ranges}
        self.mixed = len(kinds) > 1
        if days:
            self.first_day, self.last_day, self.last_end = min(days), max(days), max(ends)

    @property
    def all_daily(self) -> bool:
        return all(start == end for spans in self.ranges.values() for start, end in spans)

    def __len__(self) -> int:
        return self.count

    def day_range(self):
        """(first, last) business date of the rows (partitions need no more)."""
        return self.first_day, self.last_day


class FactRows(FactSet):
    """facts: the parser's Facts; store_of: store code -> store id (None: the fact is dropped,
    its line is a row error); family and import_id are the same for every row."""

    def __init__(self, facts, store_of: dict, family: str, import_id: int):
        self.facts = facts
        self.store_of = store_of
        self.family = family
        self.import_id = import_id
        self.summed = None  # day_sums' rows, once made
        self.bad_lines = ({f.line for f in facts if store_of[f.store_code] is None}
                          if None in store_of.values() else set())  # a pass only when a store is missing
        self._sum_up()

    def _sum_up(self) -> None:
        """One pass over the facts into their distinct (store, measure, start, end, is_total) spans
        (a few per store and day), then the summaries from those spans alone."""
        bad = self.bad_lines
        self.count = sum(f.line not in bad for f in self.facts) if bad else len(self.facts)
        spans = {(f.store_code, f.measure, f.business_date, f.period_end or f.business_date, not f.sku)
                 for f in self._kept()}
        self.take_spans(spans, self.store_of)

    def _kept(self):
        """The facts written: all but those on a line with a store that could not be resolved."""
        bad = self.bad_lines
        return (f for f in self.facts if f.line not in bad) if bad else iter(self.facts)

    def tuples(self):
        """Rows as tuples in FACT_COLUMNS order, one at a time (for COPY)."""
        store_of, family, import_id = self.store_of, self.family, self.import_id
        for f in self._kept():
            yield (store_of[f.store_code], family, f.business_date, f.period_end or f.business_date,
                   f.sku or "", f.ref or "", f.measure, f.value, f.currency, import_id, f.line)

    def day_sums(self, scale: int) -> list[dict]:
        """fact_day's rows for these rows when every one counts (DaySums); summed once (the COPY
        sums them while the server takes in its last rows: services.copy_upsert)."""
        if self.summed is None:
            sums = DaySums(scale)
            facts = self.facts if not self.bad_lines else list(self._kept())
            sums.add(map(FACT_DAY_KEY, facts), map(FACT_VALUE, facts))
            self.summed = sums.rows(self.store_of, self.family, self.import_id)
        return self.summed

    def __iter__(self):
        """Rows as dicts, one at a time (for executemany in chunks)."""
        for row in self.tuples():
            yield dict(zip(FACT_COLUMNS, row))


class DaySums:
    """fact_day's rows of facts that all count (fact_day.plain_sums: no SKU row under a total),
    summed as the facts pass: per (store, family, measure, day, period end, currency) the sum
    of the values rounded to `scale` places half away from zero, as metric_fact's column stores
    them (the sum is then the database's, to the last digit), and the count. Summed by store
    code and the period end as given (None for a one-day fact); `rows` names the stores by id
    and the period end a one-day fact's day (two codes may be one store: their sums are added).
    """

    def __init__(self, scale: int):
        self.step = Decimal(1).scaleb(-scale)
        self.totals: dict = {}  # (store code, measure, day, period end or None, currency) -> total
        self.counts: dict = {}  # the same keys -> how many facts

    def add(self, keys, values) -> None:
        """keys: (store code, measure, day, period end or None, currency) of each fact; values: its
        value, in the same order. One dict probe a fact (its values listed by key), then each
        key's values rounded and summed in C."""
        groups: dict = {}
        held = groups.setdefault
        for key, value in zip(keys, values):
            held(key, []).append(value)
        totals, counts = self.totals, self.counts
        for key, group in groups.items():
            total = sum(map(Decimal.quantize, group, repeat(self.step), repeat(ROUND_HALF_UP)))
            if key in totals:
                totals[key] += total
                counts[key] += len(group)
            else:
                totals[key], counts[key] = total, len(group)

    def rows(self, store_of: dict, family: str, import_id: int) -> list[dict]:
        by_store: dict = {}
        counts = self.counts
        for held, total in self.totals.items():
            code, measure, day, end, currency = held
            key = (store_of[code], measure, day, end or day, currency)
            count = counts[held]
            summed = by_store.get(key)
            by_store[key] = (total, count) if summed is None else (summed[0] + total, summed[1] + count)
        return [{"store_id": store_id, "family": family, "measure": measure, "business_date": day,
                 "period_end": end, "currency": currency, "total": total, "facts": count, "all_facts": count,
                 "import_ids": str(import_id)}
                for (store_id, measure, day, end, currency), (total, count) in by_store.items()]


@contextmanager
def binary_copy(cursor, table: str, columns, types=None) -> object:
    """PostgreSQL: `COPY table (columns) FROM STDIN` in binary format on a psycopg cursor; yields
    the Copy (write_row). Each column is sent as its table's type (`types`, or read from the
    catalogue: `column_types`; binary COPY needs the exact types): neither side formats or parses
    dates and numbers as text, a quarter less CPU than text COPY on both (docs/scaling.md)."""
    types = types or column_types(cursor, table, columns)
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(types)
        yield copy


def column_types(cursor, table: str, columns) -> list:
    """The type oids of `columns` of `table`, in their order, from the catalogue."""
    cursor.execute("SELECT attname, atttypid FROM pg_attribute WHERE attrelid = to_regclass(%s) "
                   "AND attnum > 0 AND NOT attisdropped", (table,))
    types = dict(cursor.fetchall())
    return [types[name] for name in columns]
