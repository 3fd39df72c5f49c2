"""Staged imports (issue 10: bounded memory): the same files imported with the facts held in
memory (IMPORT_STAGE_FACTS=0) and spilled to fact_stage every few facts give the same facts,
the same counts and the same error sets. The stage is what these tests check: the facts of a
large file written once (IMPORT_WRITE_ONCE, tests/imports/test_direct.py) are off here."""
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import func, select, text

from kpiapp.extensions import db
from kpiapp.imports import services, stage
from kpiapp.imports.services import start_import
from kpiapp.models import FactStage, ImportRecord, MetricFact
from kpiapp.parsers import ParseError
from kpiapp.parsers.common import Collector
from tests.imports.files import business_report, generic_file, hr_user, orders_report, store

FIXTURES = Path(__file__).resolve().parents[1] / "unit" / "parsers" / "fixtures"
D1 = date(2025, 3, 1)
FUTURE = (date.today() + timedelta(days=30)).isoformat()
SETTLEMENT_HEAD = ("settlement-id\tsettlement-start-date\tsettlement-end-date\tdeposit-date\ttotal-amount\t"
                   "currency\ttransaction-type\torder-id\tmerchant-order-id\tadjustment-id\tshipment-id\t"
                   "marketplace-name\tamount-type\tamount-description\tamount\tfulfillment-id\tposted-date\t"
                   "posted-date-time\torder-item-code\tmerchant-order-item-id\t"
                   "merchant-adjustment-item-id\tsku\t"
                   "quantity-purchased\tpromotion-id")


def settlement(lines):
    """A balanced settlement: lines (day, description, cents, sku); '' sku lines are the totals'."""
    body, total = [], 0
    for n, (day, what, cents, sku) in enumerate(lines):
        total += cents
        body.append(f"1890654321\t\t\t\t\t\tOrder\t112-{n:07d}-0000001\t\t\t\tAmazon.com\tItemPrice\t{what}\t"
                    f"{cents / 100:.2f}\tAFN\t2025-03-{day:02d}\t2025-03-{day:02d} 14:23:00 UTC\t\t\t\t"
                    f"{sku}\t1\t")
    summary = (f"1890654321\t2025-03-01 07:00:00 UTC\t2025-03-15 07:00:00 UTC\t2025-03-17 07:00:00 UTC\t"
               f"{total / 100:.2f}\tUSD" + "\t" * 18)
    return ("\n".join([SETTLEMENT_HEAD, summary] + body) + "\n").encode()


def settlement_lines():
    """Many lines on few keys, a key's lines spread over the file, SKU lines and SKU-less ones
    in the same groups (the SKU-less fact becomes the group total)."""
    return [(1 + n % 3, ("Principal", "Shipping")[n % 2], 100 + n,
             ("", "SKU-A", "SKU-B")[n % 3 if n % 5 else 0]) for n in range(40)]


GENERIC_BAD = [
    ("2025-03-01", "S1", "A", "sessions", "5", ""),
    ("2025-03-01", "S1", "A", "ordered_sales", "10.00", "USD"),
    ("2025-03-01", "S1", "B", "sessions", "7", ""),
    ("2025-03-01", "S1", "A", "sessions", "6", ""),  # duplicate of line 2
    ("2025-03-02", "S1", "A", "sessions", "1", ""),
    (FUTURE, "S1", "A", "sessions", "1", ""),  # future
    ("2025-03-01", "NOPE", "A", "sessions", "1", ""),  # unknown store
    ("2025-03-01", "S1", "B", "sessions", "9", ""),  # duplicate of line 4
    ("2025-03-03", "S1", "C", "units_ordered", "2", ""),
    ("2025-03-01", "S1", "A", "sessions", "8", ""),  # duplicate of line 2 again
    ("2025-03-02", "S1", "A", "sessions", "2", ""),  # duplicate of line 6
]

GENERIC_UNIQUE = [  # no key twice: the staged path reads the raw rows (stage 0) as the grouped ones
    ("2025-03-01", "S1", "A", "sessions", "5", ""),
    ("2025-03-01", "S1", "A", "ordered_sales", "10.00", "USD"),
    ("2025-03-01", "S1", "B", "sessions", "7", ""),
    (FUTURE, "S1", "A", "sessions", "1", ""),  # future
    ("2025-03-01", "NOPE", "A", "sessions", "1", ""),  # unknown store
    ("2025-03-02", "S1", "A", "sessions", "1", ""),
    ("2025-03-03", "S1", "C", "units_ordered", "2", ""),
]

ORDERS_MIXED = orders_report([(f"111-0000000-{n // 2:07d}", "2025-03-0%d" % (1 + n % 2), "Shipped",
                               "SKU-%d" % (n % 2),
                               1 + n, "%d.50" % n) for n in range(9)])


def cases():
    return {
        "business_report": [(business_report([(f"B0CHILD{n:03d}", 100 + n, n % 4, f"${n * 3}.99")
                                              for n in range(30)]), "br.csv",
                             {"date_from": D1, "date_to": D1})],
        "settlement_rolls_up": [(settlement(settlement_lines()), "settlement.txt", {})],
        "settlement_fixture": [((FIXTURES / "amazon_settlement_us.txt").read_bytes(), "settlement.txt", {})],
        "orders": [(ORDERS_MIXED, "orders.txt", {})],
        "generic_unique_fail": [(generic_file(GENERIC_UNIQUE), "generic.csv", {"store_id": None})],
        "generic_unique_partial": [(generic_file(GENERIC_UNIQUE), "generic.csv",
                                    {"store_id": None, "allow_partial": True})],
        "generic_errors_fail": [(generic_file(GENERIC_BAD), "generic.csv", {"store_id": None})],
        "generic_errors_partial": [(generic_file(GENERIC_BAD), "generic.csv",
                                    {"store_id": None, "allow_partial": True})],
        "reimport_replaces": [
            (business_report([(f"B0CHILD{n:03d}", 100 + n, 1, "$5.00") for n in range(20)]), "br.csv",
             {"date_from": D1, "date_to": D1}),
            (business_report([(f"B0CHILD{n:03d}", 200 + n, 2, "$6.00") for n in range(5, 25)]), "br2.csv",
             {"date_from": D1, "date_to": D1})],
    }


@pytest.fixture(autouse=True)
def through_the_stage(app, monkeypatch):
    monkeypatch.setitem(current_app.config, "IMPORT_WRITE_ONCE", False)


def run(uploads, shop, user, limit):
    """Import the uploads in order with IMPORT_STAGE_FACTS=limit; what they left behind."""
    current_app.config["IMPORT_STAGE_FACTS"] = limit
    records = []
    for data, name, options in uploads:
        options = dict(options)
        store_id = options.pop("store_id", shop.id)
        record = start_import(data, name, store_id, user, **options)
        records.append((record.status, record.error_code, record.rows_read, record.facts_written,
                        record.facts_replaced, record.rows_rejected,
                        sorted((e["line"], e["column"] or "", e["code"], e["message"])
                               for e in record.errors or [])))
    t = MetricFact.__table__.c
    facts = sorted(db.session.execute(select(t.store_id, t.family, t.business_date, t.period_end, t.sku,
                                             t.ref, t.measure, t.value, t.currency, t.source_line)).all())
    left = db.session.execute(select(func.count()).select_from(FactStage)).scalar()
    return records, facts, left


def forget():
    """Start the next run from an empty fact table (the same bytes are a new import again)."""
    db.session.execute(MetricFact.__table__.delete())
    db.session.execute(ImportRecord.__table__.update().values(status="failed"))
    db.session.commit()


@pytest.fixture
def settled(monkeypatch):
    """How many imports went through the staged path."""
    calls = []
    real = stage.settle
    monkeypatch.setattr(stage, "settle", lambda *args: calls.append(1) or real(*args))
    return calls


@pytest.mark.parametrize("case", list(cases()))
def test_staged_import_equals_the_in_memory_import(app, case, settled):
    user, shop = hr_user(), store(code="S1", currency="USD", timezone="UTC")
    uploads = cases()[case]
    expected = run(uploads, shop, user, 0)
    assert expected[1] or expected[0][-1][0] == "failed", "the case writes facts or fails"
    assert not settled
    for limit in (1, 3):
        forget()
        got = run(uploads, shop, user, limit)
        assert got[0] == expected[0]
        assert got[1] == expected[1]
        assert got[2] == 0  # no stage rows left behind
    assert len(settled) == 2 * len(uploads)


@pytest.mark.parametrize("case, grouped", [("business_report", False), ("generic_unique_partial", False),
                                           ("generic_errors_partial", True), ("settlement_rolls_up", True)])
def test_only_repeated_keys_or_a_roll_up_are_grouped(app, monkeypatch, case, grouped):
    """A file whose keys all came once and that rolls nothing up is written from its raw rows;
    the grouping (stage 1) runs only where facts must be summed or checked against each other."""
    calls = []
    real = stage.group
    monkeypatch.setattr(stage, "group", lambda *args: calls.append(1) or real(*args))
    user, shop = hr_user(), store(code="S1", currency="USD", timezone="UTC")
    run(cases()[case], shop, user, 1)
    assert bool(calls) == grouped


def test_errors_name_the_first_line_across_chunks(app):
    user, shop = hr_user(), store(code="S1", currency="USD", timezone="UTC")
    uploads = [(generic_file(GENERIC_BAD), "generic.csv", {"store_id": None})]
    records, _facts, _left = run(uploads, shop, user, 1)
    errors = records[0][-1]
    assert (5, "", "duplicate_row", "Same date, store, SKU and measure as line 2.") in errors
    assert (11, "", "duplicate_row", "Same date, store, SKU and measure as line 2.") in errors
    assert (9, "", "duplicate_row", "Same date, store, SKU and measure as line 4.") in errors
    assert (8, "store", "unknown_store", "Unknown store code: NOPE") in errors
    assert any(line == 7 and code == "future_date" for line, _c, code, _m in errors)


def orders_in(rows):
    """rows: (order_id, day, sku, qty, currency, price) -> all-orders flat file bytes."""
    lines = ["amazon-order-id\tpurchase-date\torder-status\titem-status\tsku\tquantity\tcurrency\titem-price"]
    lines += [f"{o}\t{d}T18:00:00+00:00\tShipped\tShipped\t{sku}\t{q}\t{c}\t{p}"
              for o, d, sku, q, c, p in rows]
    return ("\n".join(lines) + "\n").encode()


def test_mixed_currency_across_chunks(app):
    user, shop = hr_user(), store(code="S1", currency="USD", timezone="UTC")
    rows = [("111-0000000-0000001", "2025-03-01", "SKU-1", 1, "EUR" if n in (3, 5) else "USD", "2.50")
            for n in range(7)]  # one order's lines: summed, except the EUR ones
    uploads = [(orders_in(rows), "orders.txt", {"allow_partial": True})]
    expected = run(uploads, shop, user, 0)
    assert any(code == "mixed_currency" for _l, _c, code, _m in expected[0][0][-1])
    forget()
    got = run(uploads, shop, user, 1)
    assert got[0] == expected[0] and got[1] == expected[1]


# ---- failures while the chunks are written ---------------------------------------------------

def failing_at(call, real, error, calls=None):
    """`real`, raising `error` at its `call`-th call instead (the calls are counted in `calls`)."""
    calls = [] if calls is None else calls

    def failing(*args):
        calls.append(args)
        if len(calls) == call:
            raise error
        return real(*args)
    return failing


def left_behind():
    return (db.session.execute(select(func.count()).select_from(MetricFact)).scalar(),
            db.session.execute(select(func.count()).select_from(FactStage)).scalar())


BR_40 = business_report([(f"B0CHILD{n:03d}", 100 + n, n % 4, f"${n}.99") for n in range(40)])


def test_a_failed_chunk_write_fails_the_import_with_nothing_written(app, monkeypatch):
    """The second chunk's write fails: the import fails, the parser stops there, nothing is kept,
    and the same file imports again."""
    user, shop = hr_user(), store(code="S1", currency="USD", timezone="UTC")
    current_app.config["IMPORT_STAGE_FACTS"] = 5
    real, calls = stage.write_chunk, []
    monkeypatch.setattr(stage, "write_chunk", failing_at(2, real, RuntimeError("the disk is full"), calls))
    record = start_import(BR_40, "br.csv", shop.id, user, date_from=D1, date_to=D1)
    assert record.status == "failed" and "RuntimeError" in record.error
    assert len(calls) < 40  # the parser stopped at the failed chunk, not at the end of the file
    assert left_behind() == (0, 0)
    monkeypatch.setattr(stage, "write_chunk", real)
    db.session.execute(ImportRecord.__table__.update().values(status="failed"))
    db.session.commit()
    again = start_import(BR_40, "br.csv", shop.id, user, date_from=D1, date_to=D1)
    assert again.status == "committed" and again.facts_written == 200
    assert left_behind() == (200, 0)


def test_a_parse_error_mid_file_with_the_writer_running_leaves_no_facts(app, monkeypatch):
    """The parser fails after some chunks were written: its error is the import's, and no fact
    or stage row is left."""
    user, shop = hr_user(), store(code="S1", currency="USD", timezone="UTC")
    current_app.config["IMPORT_STAGE_FACTS"] = 5
    broken = ParseError("bad_file", "The file is broken half way.")
    monkeypatch.setattr(Collector, "_spill", failing_at(3, Collector._spill, broken))
    record = start_import(BR_40, "br.csv", shop.id, user, date_from=D1, date_to=D1)
    assert (record.status, record.error_code) == ("failed", "bad_file")
    assert record.error == "The file is broken half way."
    assert left_behind() == (0, 0)


@pytest.mark.parametrize("limit", [0, 5])
def test_a_row_error_fails_a_staged_import_as_an_in_memory_one(app, limit):
    user, shop = hr_user(), store(code="S1", currency="USD", timezone="UTC")
    current_app.config["IMPORT_STAGE_FACTS"] = limit
    bad = business_report([(f"B0CHILD{n:03d}", 100 + n, n % 4, "12 apples" if n == 30 else f"${n}.99")
                           for n in range(40)])
    record = start_import(bad, "br.csv", shop.id, user, date_from=D1, date_to=D1)
    assert (record.status, record.error_code) == ("failed", "row_errors")
    assert left_behind() == (0, 0)


def test_the_stage_statements_plan_without_sorts_and_put_the_setting_back(app):
    """stage.unsorted: sorts off on PostgreSQL for the statement inside (fact_stage has no
    statistics), the session's setting back afterwards; nothing on SQLite."""
    conn = db.session.connection()
    if conn.dialect.name != "postgresql":
        with stage.unsorted(conn):
            pass
        return
    setting = "SELECT current_setting('enable_sort')"
    with stage.unsorted(conn):
        assert conn.execute(text(setting)).scalar() == "off"
    assert conn.execute(text(setting)).scalar() == "on"
    db.session.rollback()


@pytest.mark.parametrize("limit", [0, 1])
def test_a_first_import_counts_its_slice_once_and_a_reimport_twice(app, monkeypatch, limit):
    """Into an empty slice PostgreSQL writes without ON CONFLICT: every row is new, so the slice
    is not counted again to find how many were replaced (0); a re-import counts before and after."""
    calls = []
    real = services.count_facts
    monkeypatch.setattr(services, "count_facts", lambda *args: calls.append(1) or real(*args))
    current_app.config["IMPORT_STAGE_FACTS"] = limit
    user, shop = hr_user(), store(code="S1", currency="USD", timezone="UTC")
    first = start_import(business_report([(f"B0CHILD{n:03d}", 100 + n, 1, "$5.00") for n in range(4)]),
                         "br.csv", shop.id, user, date_from=D1, date_to=D1)
    assert (first.status, first.facts_replaced) == ("committed", 0)
    assert len(calls) == (1 if db.engine.dialect.name == "postgresql" else 2)
    del calls[:]
    again = start_import(business_report([(f"B0CHILD{n:03d}", 200 + n, 2, "$6.00") for n in range(2, 6)]),
                         "br2.csv", shop.id, user, date_from=D1, date_to=D1)
    assert again.status == "committed" and again.facts_replaced == 2 * first.facts_written // 4
    assert len(calls) == 2


# ---- REPEATS proven needless as the rows pass (RepeatWatch) -----------------------------------

def raw(seq, day, sku, measure="sessions", ref="", end=None, code=""):
    """A raw stage row in the Collector's order (stage.ROW_COLUMNS)."""
    return (seq, seq + 2, day, end, measure, 1, None, sku, ref, code, False)


def watched(*chunks, limit=50_000, repeated=False):
    watch = stage.RepeatWatch(limit)
    for chunk in chunks:
        watch.add(chunk)
    return watch.repeated if repeated else watch.proven


def test_the_watch_proves_no_key_came_twice_in_date_order_across_chunks():
    d1, d2, d3 = D1, D1 + timedelta(days=1), D1 + timedelta(days=2)
    assert watched([raw(0, d1, "A"), raw(1, d1, "B")], [raw(2, d1, "C"), raw(3, d2, "A")],
                   [raw(4, d2, "B"), raw(5, d3, "A")], [])
    # the same SKU on one day under another measure, ref, period end or store is another key
    assert watched([raw(0, d1, "A"), raw(1, d1, "A", measure="units_ordered"), raw(2, d1, "A", ref="R")],
                   [raw(3, d1, "A", end=d2), raw(4, d1, "A", code="S2")])


@pytest.mark.parametrize("chunks", [
    [[raw(0, D1, "A"), raw(1, D1, "A")]],  # twice in one chunk
    [[raw(0, D1, "A"), raw(1, D1, "B")], [raw(2, D1, "A")]],  # the last day's key again in the next chunk
    [[raw(0, D1, "A")], [raw(1, D1, "B")], [raw(2, D1, "C")], [raw(3, D1, "A")]],  # a day over four chunks
])
def test_the_watch_sees_a_repeated_key(chunks):
    assert not watched(*chunks) and watched(*chunks, repeated=True)


def test_the_watch_gives_up_out_of_date_order_or_past_its_keys():
    d2 = D1 + timedelta(days=1)
    for chunks in ([[raw(0, d2, "A"), raw(1, D1, "B")]], [[raw(0, d2, "A")], [raw(1, D1, "B")]]):
        # no repeat, but the order is not the dates': REPEATS decides
        assert not watched(*chunks) and not watched(*chunks, repeated=True)
    many = [raw(n, D1, f"S{n}") for n in range(stage.WATCH_KEYS + 1)]
    assert watched(many[:-1], limit=0)
    assert not watched(many[:-1], many[-1:], limit=0) and not watched(many[:-1], many[-1:], limit=0, repeated=True)


def repeats_run(monkeypatch):
    """How many times the stage's REPEATS statement reached the database."""
    calls = []
    real = stage.settle

    def counting(sink, latest):
        from sqlalchemy import event
        conn = db.session.connection()

        def seen(_conn, _cursor, statement, *_args):
            calls.extend(["REPEATS"] if "HAVING count(*) > 1" in statement else [])
        event.listen(conn, "before_cursor_execute", seen)
        try:
            return real(sink, latest)
        finally:
            event.remove(conn, "before_cursor_execute", seen)
    monkeypatch.setattr(stage, "settle", counting)
    return calls


def test_a_staged_file_in_date_order_with_no_key_twice_skips_repeats(app, monkeypatch):
    """The Business Report case (one day, every key once) spilled every 3 facts: the sink proved
    no key came twice, so REPEATS does not run and the raw rows are written (the facts and counts
    equal the in-memory import's: test_staged_import_equals_the_in_memory_import)."""
    calls = repeats_run(monkeypatch)
    grouped = []
    real_group = stage.group
    monkeypatch.setattr(stage, "group", lambda *args: grouped.append(1) or real_group(*args))
    user, shop = hr_user(), store(code="S1", currency="USD", timezone="UTC")
    records, facts, _left = run(cases()["business_report"], shop, user, 3)
    assert records[0][0] == "committed" and facts
    assert calls == [] and grouped == []


def test_a_staged_file_out_of_date_order_still_runs_repeats(app, monkeypatch):
    calls = repeats_run(monkeypatch)
    user, shop = hr_user(), store(code="S1", currency="USD", timezone="UTC")
    run(cases()["generic_unique_partial"], shop, user, 1)  # a future date between 1 March's rows
    assert calls == ["REPEATS"]


def test_a_key_repeated_in_date_order_is_grouped_without_repeats(app, monkeypatch):
    """One order's lines on one day (test_mixed_currency_across_chunks): the watch sees the key
    twice, so the file is grouped, summed and its mixed currencies refused, as in memory."""
    calls = repeats_run(monkeypatch)
    user, shop = hr_user(), store(code="S1", currency="USD", timezone="UTC")
    rows = [("111-0000000-0000001", "2025-03-01", "SKU-1", 1, "EUR" if n in (3, 5) else "USD", "2.50")
            for n in range(7)]
    uploads = [(orders_in(rows), "orders.txt", {"allow_partial": True})]
    expected = run(uploads, shop, user, 0)
    forget()
    got = run(uploads, shop, user, 2)
    assert got[0] == expected[0] and got[1] == expected[1]
    assert calls == []


def test_the_future_date_rule_reads_the_stage_only_when_a_row_is_dated_after_today(app, monkeypatch):
    """The sink's spans hold every row's dates: a file with none in the future skips the read
    (its facts equal the in-memory import's: test_staged_import_equals_the_in_memory_import);
    one with a future row still refuses that line."""
    calls = []
    real = stage.refuse_future
    monkeypatch.setattr(stage, "refuse_future", lambda *args: calls.append(1) or real(*args))
    user, shop = hr_user(), store(code="S1", currency="USD", timezone="UTC")
    run(cases()["business_report"], shop, user, 3)
    assert calls == []
    forget()
    records, _facts, _left = run(cases()["generic_unique_partial"], shop, user, 1)
    assert calls == [1]
    assert any(code == "future_date" for _l, _c, code, _m in records[0][-1])
