"""A large file's facts written once, into metric_fact, as parsed (kpiapp/imports/direct.py):
the same facts, counts and errors as the file held in memory, whichever way each file goes
(written once, or sent back to the stage), nothing left behind when it fails, and a file over
several fresh months writes into their partitions. PostgreSQL only: SQLite always stages."""
import threading
from datetime import date, timedelta

import pytest
from flask import current_app
from sqlalchemy import select, text

from kpiapp.extensions import db
from kpiapp.imports import direct, stage
from kpiapp.imports.services import start_import
from kpiapp.models import ImportRecord, User
from kpiapp.parsers import ParseError
from kpiapp.parsers.common import Collector
from tests.conftest import PG_URL
from tests.imports.files import ads_report, business_report, hr_user, store
from tests.imports.test_stage import cases, failing_at, forget, left_behind, run
from tests.metrics.test_fact_month import writer_thread

pytestmark = pytest.mark.skipif(not PG_URL, reason="PostgreSQL only: SQLite puts a large file in fact_stage")

D1 = date(2025, 3, 1)
BR_40 = business_report([(f"B0CHILD{n:03d}", 100 + n, n % 4, f"${n}.99") for n in range(40)])


@pytest.fixture
def paths(app, monkeypatch):
    """Which way each import went: 'once' (written as parsed) or 'stage' (settled in fact_stage)."""
    monkeypatch.setitem(current_app.config, "IMPORT_WRITE_ONCE", True)
    taken = []
    finish, settle = direct.DirectSink.finish, stage.settle

    def finished(sink, result):
        rows = finish(sink, result)
        taken.append("once")
        return rows

    monkeypatch.setattr(direct.DirectSink, "finish", finished)
    monkeypatch.setattr(stage, "settle", lambda *args: taken.append("stage") or settle(*args))
    return taken


# the way each case of test_stage.cases() goes with a small limit, and why
EXPECTED_PATHS = {
    "business_report": ["once"],
    "settlement_rolls_up": ["stage"],  # a parser that rolls up
    "settlement_fixture": ["stage"],
    "orders": ["once"],
    "generic_unique_fail": ["stage"],  # no store chosen: the file names its stores
    "generic_unique_partial": ["stage"],
    "generic_errors_fail": ["stage"],
    "generic_errors_partial": ["stage"],
    "reimport_replaces": ["once", "stage"],  # the second file replaces the first's facts
}


@pytest.mark.parametrize("case", list(cases()))
def test_written_once_equals_the_in_memory_import(paths, case):
    user, shop = hr_user(), store(code="S1", currency="USD", timezone="UTC")
    uploads = cases()[case]
    expected = run(uploads, shop, user, 0)
    assert paths == []
    for limit in (1, 3):
        forget()
        del paths[:]
        got = run(uploads, shop, user, limit)
        assert got[0] == expected[0]
        assert got[1] == expected[1]
        assert got[2] == 0  # no stage rows left behind
        assert paths == EXPECTED_PATHS[case]


def ads_days(first, days, campaigns=3):
    return ads_report([((first + timedelta(days=d)).isoformat(), f"Camp {c}", 100 + d, 5 + c, "2.50", "9.99")
                       for d in range(days) for c in range(campaigns)])


def by_partition():
    return dict(db.session.execute(text(
        "SELECT tableoid::regclass::text, count(*) FROM metric_fact GROUP BY 1")).all())


def test_a_file_over_fresh_months_writes_into_their_partitions(paths):
    """Chunks reach months with no partition while the import's transaction is open: each is made
    on its own connection and this transaction writes into it (none of the rows in DEFAULT)."""
    user, shop = hr_user(), store(code="S1", currency="USD", timezone="UTC")
    current_app.config["IMPORT_STAGE_FACTS"] = 40
    record = start_import(ads_days(date(2023, 11, 20), 80), "ads.csv", shop.id, user)
    assert record.status == "committed", record.error
    assert paths == ["once"] and record.facts_written == 80 * 3 * 4
    counts = by_partition()
    assert {name.rsplit(".", 1)[-1]: n for name, n in counts.items()} == {
        "metric_fact_2023_11": 11 * 12, "metric_fact_2023_12": 31 * 12, "metric_fact_2024_01": 31 * 12,
        "metric_fact_2024_02": 7 * 12}
    current_app.config["IMPORT_STAGE_FACTS"] = 0
    forget()
    memory = start_import(ads_days(date(2023, 11, 20), 80), "ads.csv", shop.id, user)
    assert memory.facts_written == record.facts_written and by_partition() == counts




def test_a_failed_chunk_write_fails_the_import_with_nothing_written(paths, monkeypatch):
    """The writer's third chunk fails (not a key the stage would settle): the import fails with
    the error, no fact is kept, and the same file imports again."""
    user, shop = hr_user(), store(code="S1", currency="USD", timezone="UTC")
    current_app.config["IMPORT_STAGE_FACTS"] = 5
    real, calls = direct.ChunkWriter.write, []
    full = RuntimeError("the disk is full")
    monkeypatch.setattr(direct.ChunkWriter, "write", failing_at(3, real, full, calls))
    record = start_import(BR_40, "br.csv", shop.id, user, date_from=D1, date_to=D1)
    assert record.status == "failed" and "RuntimeError" in record.error
    assert len(calls) < 40  # the parser stopped soon after the failed chunk
    assert left_behind() == (0, 0)
    monkeypatch.setattr(direct.ChunkWriter, "write", real)
    db.session.execute(ImportRecord.__table__.update().values(status="failed"))
    db.session.commit()
    again = start_import(BR_40, "br.csv", shop.id, user, date_from=D1, date_to=D1)
    assert again.status == "committed" and again.facts_written == 200
    assert left_behind() == (200, 0) and paths == ["once"]


def test_a_parse_error_after_chunks_were_written_leaves_no_facts(paths, monkeypatch):
    """The parser fails after some chunks went into metric_fact: its error is the import's, and
    the failed status is committed without them."""
    user, shop = hr_user(), store(code="S1", currency="USD", timezone="UTC")
    current_app.config["IMPORT_STAGE_FACTS"] = 5
    broken = ParseError("bad_file", "The file is broken half way.")
    monkeypatch.setattr(Collector, "_spill", failing_at(4, Collector._spill, broken))
    record = start_import(BR_40, "br.csv", shop.id, user, date_from=D1, date_to=D1)
    assert (record.status, record.error_code) == ("failed", "bad_file")
    assert left_behind() == (0, 0)


def test_a_key_twice_after_the_first_chunk_goes_to_the_stage(paths):
    """A campaign's day repeated far down the file: metric_fact's unique key refuses the chunk
    holding it, the transaction is rolled back, and the stage sums the two rows as in memory."""
    user, shop = hr_user(), store(code="S1", currency="USD", timezone="UTC")
    rows = [((D1 + timedelta(days=d)).isoformat(), f"Camp {c}", 100, 5, "2.50", "9.99")
            for d in range(10) for c in range(3)]
    data = ads_report(rows + [(D1.isoformat(), "Camp 0", 1, 1, "1.00", "1.00")])
    current_app.config["IMPORT_STAGE_FACTS"] = 0
    expected = run([(data, "ads.csv", {})], shop, user, 0)
    forget()
    got = run([(data, "ads.csv", {})], shop, user, 8)
    assert got == expected and paths == ["stage"]


def test_a_future_date_goes_to_the_stage(paths):
    user, shop = hr_user(), store(code="S1", currency="USD", timezone="UTC")
    first = date.today() - timedelta(days=5)
    data = ads_days(first, 10)
    expected = run([(data, "ads.csv", {"allow_partial": True})], shop, user, 0)
    assert any(e[2] == "future_date" for e in expected[0][0][-1])
    forget()
    got = run([(data, "ads.csv", {"allow_partial": True})], shop, user, 8)
    assert got == expected and paths == ["stage"]


def waiting_for_a_lock():
    with db.engine.connect() as conn:
        return conn.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database()")).scalar()


def test_two_imports_of_one_store_at_once_end_as_one_after_the_other(app, paths, monkeypatch):
    """The first import holds its slice's lock from its first chunk to its commit; the second,
    days overlapping, waits for it, then finds its facts on its days and goes to the stage,
    which replaces them: the facts the two leave are those of the two imported in turn."""
    user, shop = hr_user(), store(code="S1", currency="USD", timezone="UTC")
    first, second = ads_days(D1, 12), ads_days(D1 + timedelta(days=6), 12, campaigns=2)
    expected = run([(first, "a.csv", {}), (second, "b.csv", {})], shop, user, 0)
    forget()
    del paths[:]
    current_app.config["IMPORT_STAGE_FACTS"] = 8
    real, written, go = direct.ChunkWriter.write, threading.Event(), threading.Event()

    def paused(writer, rows):
        real(writer, rows)
        if not written.is_set():  # the first import's first chunk is in: hold it there
            written.set()
            go.wait(timeout=30)

    monkeypatch.setattr(direct.ChunkWriter, "write", paused)
    failed, shop_id, user_id = [], shop.id, user.id

    def importing(data, name):
        return start_import(data, name, shop_id, db.session.get(User, user_id))

    one = writer_thread(app, failed, importing, first, "a.csv")
    two = writer_thread(app, failed, importing, second, "b.csv")
    one.start()
    assert written.wait(timeout=30)
    two.start()
    for _ in range(1000):  # until the second import waits for the first's lock
        if waiting_for_a_lock() or not two.is_alive():
            break
        two.join(0.01)
    assert two.is_alive(), "the second import waited for the first"
    go.set()
    one.join()
    two.join()
    assert failed == []
    db.session.expire_all()
    got = run([], shop, user, 8)
    assert got[1] == expected[1] and got[2] == 0
    r = ImportRecord
    statuses = db.session.execute(select(r.filename, r.status, r.facts_replaced)
                                  .where(r.status == "committed").order_by(r.id)).all()
    assert statuses == [("a.csv", "committed", 0), ("b.csv", "committed", expected[0][1][4])]
    assert expected[0][1][4] > 0  # the second replaced some of the first's facts
    assert paths == ["once", "stage"]


def day_facts(day):
    """(SKU, units ordered) of the day's facts, and the day's fact_day sum of units."""
    facts = db.session.execute(text(
        "SELECT sku, value FROM metric_fact WHERE business_date = :d AND measure = 'units_ordered' "
        "ORDER BY sku"), {"d": day}).all()
    summed = db.session.execute(text("SELECT total FROM fact_day WHERE business_date = :d "
                                     "AND measure = 'units_ordered'"), {"d": day}).scalar()
    return [(sku, int(value)) for sku, value in facts], int(summed)


def other_skus_on(day_file_skus, shift):
    return business_report([(f"B0OTHER{n:03d}", 100 + n, (n + shift) % 4, f"${n}.99") for n in day_file_skus])


def a_second_file_of_the_day(paths):
    """Two files of one day, other SKUs: the second goes to the stage (other imports' facts on its
    days), which sums the day over both files."""
    user, shop = hr_user(), store(code="S1", currency="USD", timezone="UTC")
    current_app.config["IMPORT_STAGE_FACTS"] = 5
    first = start_import(BR_40, "br.csv", shop.id, user, date_from=D1, date_to=D1)
    assert first.status == "committed" and paths == ["once"]
    second = start_import(other_skus_on(range(10), 1), "br2.csv", shop.id, user, date_from=D1, date_to=D1)
    assert second.status == "committed", second.error
    assert paths == ["once", "stage"]
    facts, summed = day_facts(D1)
    assert len(facts) == 50 and summed == sum(units for _, units in facts)


def test_a_second_file_of_a_day_is_checked_apart_and_goes_to_the_stage(paths, monkeypatch):
    """The chunk's days are checked on a connection of its own, on the parser's thread
    (ChunkWriter.others_apart): it sees the first file's committed facts."""
    apart = []
    real = direct.ChunkWriter.others_apart
    monkeypatch.setattr(direct.ChunkWriter, "others_apart",
                        lambda writer, first, last: apart.append(real(writer, first, last)) or apart[-1])
    a_second_file_of_the_day(paths)
    assert apart[-1] is True


@pytest.mark.rollback
def test_in_a_tests_outer_transaction_each_check_runs_on_the_imports_connection(paths):
    """In a test's outer transaction (tests/conftest.py, rollback) the facts an earlier import
    wrote are uncommitted: a connection of its own would not see them. The writer then checks
    each chunk on the import's connection, and finish the whole range once the writer is done,
    so the second file of the day goes to the stage here too, not written as if the day were empty."""
    a_second_file_of_the_day(paths)
