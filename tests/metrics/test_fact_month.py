"""fact_month stays fact_pick's rows summed by store, measure and month in the base currency:
after fact imports in two currencies over two months, rate imports, rates added, changed,
moved and deleted through the session, a rate changed by raw SQL (the month marked, read from
fact_pick until rewritten), a bulk delete of facts and an archived month, it equals the sums
made in Python from fact_pick and fx_rate and a rebuild; the migration fills the same rows."""
import threading
from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from flask import current_app
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select, text

from kpiapp.dashboards.fact_sums import FactSums
from kpiapp.extensions import db
from kpiapp.imports.services import start_import
from kpiapp.metrics import fact_day, fact_month
from kpiapp.models import FactMonth, FactMonthStale, FactPick, FxRate, MetricFact
from kpiapp.parsers.measures import BASE_MEASURES
from tests.conftest import PG_URL, migration_module
from tests.imports.files import fx_file, generic_file

MARCH, APRIL = date(2025, 3, 1), date(2025, 4, 1)
SALES = [("2025-03-01", "US-1", "", "ordered_sales", "100.50", "USD"),
         ("2025-03-02", "US-1", "", "ordered_sales", "12.10", "EUR"),
         ("2025-03-31", "US-1", "", "ordered_sales", "7.25", "EUR"),
         ("2025-03-03", "US-2", "", "units_ordered", "9", ""),
         ("2025-04-01", "US-2", "", "ordered_sales", "30.00", "EUR"),
         ("2025-04-02", "US-2", "", "ad_spend", "4.40", "GBP")]


def expected():
    """fact_pick's rows summed by (store, measure, month) in Python: money in another currency
    than the base times its day's rate, a row without its rate counted as missing."""
    base = current_app.config["BASE_CURRENCY"]
    rates = {(r.date, r.currency): r.rate for r in db.session.execute(select(FxRate)).scalars()}
    found = defaultdict(lambda: [None, 0, 0])
    for p in db.session.execute(select(FactPick)).scalars():
        row = found[(p.store_id, p.measure, p.business_date.replace(day=1))]
        row[1] += p.group_count
        amount = p.total
        if BASE_MEASURES[p.measure].unit == "money" and p.currency not in (None, "", base):
            rate = rates.get((p.business_date, p.currency))
            amount = None if rate is None else p.total * rate
            row[2] += p.group_count if rate is None else 0
        if amount is not None:
            row[0] = amount if row[0] is None else row[0] + amount
    return {key: (base, *value) for key, value in found.items()}


def stored():
    rows = db.session.execute(select(FactMonth)).scalars().all()
    return {(r.store_id, r.measure, r.month): (r.base, r.total, r.group_count, r.missing) for r in rows}


def marked():
    return set(db.session.execute(select(FactMonthStale.month)).scalars())


def same(a, b):
    """Equal keys, counts and totals (SQLite's NUMERIC is a float: to 1e-9 there)."""
    if db.engine.dialect.name == "postgresql":
        return a == b
    close = lambda x, y: x is None and y is None or None not in (x, y) and abs(Decimal(str(x)) - y) < Decimal("1e-9")  # noqa: E731
    return a.keys() == b.keys() and all(a[k][0::2] == b[k][0::2] and a[k][3] == b[k][3] and close(a[k][1], b[k][1])
                                        for k in a)


def check():
    """fact_month equals the Python sums and a rebuild, and no month is marked (the rebuild is
    rolled back to a savepoint, so the next write refreshes the rows it left)."""
    db.session.expire_all()
    incremental = stored()
    assert same(incremental, expected())
    assert marked() == set()
    savepoint = db.session.begin_nested()
    fact_month.rebuild(db.session.connection())
    db.session.expire_all()
    assert stored() == incremental
    savepoint.rollback()


def load(data, name, user, **options):
    record = start_import(data, name, None, user, **options)
    assert record.status == "committed", record.error
    return record


def test_fact_month_follows_fact_imports_and_every_kind_of_rate_write(shops, user):
    load(generic_file(SALES), "sales.csv", user)
    check()
    us1 = shops[0].id
    assert stored()[(us1, "ordered_sales", MARCH)][2:] == (3, 2)  # two EUR days without a rate
    load(fx_file([("2025-03-02", "EUR", "1.10"), ("2025-04-01", "EUR", "1.08")]), "fx.csv", user, kind="fx")
    check()
    assert stored()[(us1, "ordered_sales", MARCH)][1:] == (Decimal("100.50") + Decimal("12.10") * Decimal("1.10"),
                                                             3, 1)
    load(fx_file([("2025-03-02", "EUR", "1.20"), ("2025-03-31", "EUR", "1.30")]), "fx2.csv", user, kind="fx")
    check()  # a rate replaced and one added by an import
    assert stored()[(us1, "ordered_sales", MARCH)][3] == 0
    rate = FxRate(date=date(2025, 4, 2), currency="GBP", rate=Decimal("1.2654321"))
    db.session.add(rate)
    db.session.flush()
    check()  # added through the session
    rate.rate = Decimal("1.5")
    db.session.flush()
    check()  # changed
    rate.date = date(2025, 3, 1)
    db.session.flush()
    check()  # moved to another month: both months rewritten
    db.session.delete(rate)
    db.session.flush()
    check()  # deleted
    load(generic_file([("2025-03-02", "US-1", "", "ordered_sales", "99.00", "EUR")]), "again.csv", user)
    check()  # a re-import replaces a day
    db.session.execute(db.delete(MetricFact).where(MetricFact.store_id == shops[1].id))
    check()  # a bulk delete rebuilds fact_day, fact_pick and fact_month
    db.session.commit()
    check()
    fact_day.forget_month(db.session.connection(), MARCH, date(2025, 3, 31))
    assert {key[2] for key in stored()} == set() == {key[2] for key in expected()}
    db.session.rollback()


def test_a_rate_written_by_raw_sql_marks_its_month_until_it_is_rewritten(shops, user):
    load(generic_file(SALES), "sales.csv", user)
    load(fx_file([("2025-03-02", "EUR", "1.10"), ("2025-03-31", "EUR", "1.10"), ("2025-04-01", "EUR", "1.08")]),
         "fx.csv", user, kind="fx")
    db.session.commit()
    check()
    before = stored()
    db.session.execute(text("UPDATE fx_rate SET rate = rate + 1 WHERE date = '2025-03-31'"))
    assert marked() == {MARCH}  # the trigger, whatever wrote the rate
    db.session.expire_all()
    assert stored() == before  # not rewritten yet: the reader takes March from fact_pick meanwhile
    assert not same(before, expected())
    if db.engine.dialect.name == "postgresql":
        base = current_app.config["BASE_CURRENCY"]
        sums = FactSums(MARCH, date(2025, 4, 30), None, ["ordered_sales"], base, shared=True)
        assert sums.kept_months((MARCH, date(2025, 4, 30))) == [APRIL]
        assert FactSums(MARCH, date(2025, 4, 30), None, ["ordered_sales"], "EUR", shared=True) \
            .kept_months((MARCH, date(2025, 4, 30))) == []  # written in another base: not read
    fact_month.refresh_rates(db.session.connection())
    check()
    db.session.execute(text("DELETE FROM fx_rate WHERE date = '2025-04-01'"))
    assert marked() == {APRIL}
    db.session.commit()
    fact_month.refresh_rates(db.session.connection())
    check()


def test_a_truncate_of_the_rates_marks_their_months(shops, user):
    """TRUNCATE fx_rate (PostgreSQL; SQLite has none, its DELETE of every row fires the row
    triggers) fired none of the rate marks: fact_month kept sums converted at rates that were
    gone. Its months are marked (read from fact_pick), then a refresh writes them again."""
    load(generic_file(SALES), "sales.csv", user)
    load(fx_file([("2025-03-02", "EUR", "1.10"), ("2025-04-01", "EUR", "1.08")]), "fx.csv", user, kind="fx")
    db.session.commit()
    check()
    before = stored()
    postgresql = db.engine.dialect.name == "postgresql"
    db.session.execute(text("TRUNCATE fx_rate" if postgresql else "DELETE FROM fx_rate"))
    assert marked() == {MARCH, APRIL}
    db.session.commit()
    db.session.expire_all()
    assert stored() == before and not same(before, expected())  # kept as they were: marked, not read
    if postgresql:
        sums = FactSums(MARCH, date(2025, 4, 30), None, ["ordered_sales"], current_app.config["BASE_CURRENCY"],
                        shared=True)
        assert sums.kept_months((MARCH, date(2025, 4, 30))) == []
    fact_month.refresh_rates(db.session.connection())
    check()
    assert stored()[(shops[0].id, "ordered_sales", MARCH)][3] == 2  # both EUR days without a rate now


def test_upgrading_from_0032_fills_the_same_rows_as_a_rebuild(shops, user):
    """A database with facts and rates at 0032, upgraded: 0033 fills fact_month with its own
    inlined statement (no app code), the same rows as today's `fact_month.rebuild` and the
    sums made in Python; 0034 and later then track and keep it as at head."""
    load(generic_file(SALES), "sales.csv", user)
    load(fx_file([("2025-03-02", "EUR", "1.10"), ("2025-04-01", "EUR", "1.08")]), "fx.csv", user, kind="fx")
    db.session.commit()
    rebuilt = stored()
    assert rebuilt and same(rebuilt, expected())
    assert "fact_month" not in migration_module("0033_fact_month.py").__dict__  # the app's module: not used
    db.session.close()
    downgrade(revision="0032")
    assert not inspect(db.engine).has_table("fact_month")
    upgrade(revision="0033")
    assert stored() == rebuilt
    db.session.close()
    upgrade()
    assert stored() == rebuilt
    db.session.close()


def writer_thread(app, failed, write, *args):
    """A thread (not started) that runs write(*args) in a session of its own and commits it; an
    error is noted in `failed` (the test asserts it stays empty) and rolled back."""
    def run():
        with app.app_context():
            try:
                write(*args)
                db.session.commit()
            except Exception as error:  # noqa: BLE001 (reported by the test's assertion)
                failed.append(repr(error))
                db.session.rollback()
            finally:
                db.session.remove()
    return threading.Thread(target=run)


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL only: the locks between fact and rate writers")
def test_a_rate_writer_waits_for_the_fact_writers_in_progress(shops, user):
    """A fact writer holds the rates lock shared until it commits; a rate writer takes it
    exclusive, so it cannot convert a month while another transaction rewrites it."""
    conn = db.session.connection()
    fact_month.lock_rates(conn, shared=True)
    key = fact_month.RATES
    with db.engine.connect() as other:
        assert not other.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": key}).scalar()
        assert other.execute(text("SELECT pg_try_advisory_xact_lock_shared(:k)"), {"k": key}).scalar()
        other.rollback()
    db.session.rollback()


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL only: the locks between fact and rate writers")
def test_facts_then_rates_through_the_orm_in_two_sessions_do_not_deadlock(app, shops, user):
    """Facts flushed through the session took the rates lock shared (fact_month.refresh), the
    rates flushed after them in the same transaction exclusive: two such transactions each held
    it shared and waited for the other's to upgrade it (a deadlock, one rolled back). The ORM's
    fact writer now takes it exclusive first; the second transaction waits, then both commit."""
    record = load(generic_file(SALES), "sales.csv", user)
    db.session.commit()
    both_flushed, failed = threading.Barrier(2), []

    def writer(n, store_id):
        db.session.add(MetricFact(store_id=store_id, family="generic", business_date=date(2025, 3, 10 + n),
                                  period_end=date(2025, 3, 10 + n), sku="", ref="", measure="ordered_sales",
                                  value=Decimal("5.00"), currency="EUR", import_id=record.id))
        db.session.flush()
        try:  # both hold what their facts took before either writes its rate (old: a deadlock)
            both_flushed.wait(timeout=3)
        except threading.BrokenBarrierError:  # the other waits for this one's lock: go on
            pass
        db.session.add(FxRate(date=date(2025, 3, 20 + n), currency="EUR", rate=Decimal("1.1")))
        db.session.flush()

    threads = [writer_thread(app, failed, writer, n, shop.id) for n, shop in enumerate(shops)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failed == []
    db.session.expire_all()
    assert len(db.session.execute(select(FxRate)).all()) == 2
    check()


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL only: the locks between an archived month and rate writers")
def test_an_archived_month_leaves_no_rows_a_rate_writer_was_rewriting(app, shops, user):
    """A rate writer rewrites a month of every store from fact_pick (refresh_rates) while the
    month is archived (fact_day.forget_month). forget took no lock: its DELETE waited for the
    rows the writer deleted, skipped them once it committed and never saw the ones it inserted,
    which stayed for a month fact_pick no longer holds. forget now takes the rates lock first."""
    load(generic_file(SALES), "sales.csv", user)
    db.session.commit()
    assert MARCH in {key[2] for key in stored()}
    failed = []
    archive = lambda: fact_day.forget_month(db.session.connection(), MARCH, date(2025, 3, 31))  # noqa: E731

    with db.engine.connect() as rates:
        fact_month.refresh_rates(rates, [date(2025, 3, 2)])  # March rewritten, not committed
        thread = writer_thread(app, failed, archive)
        thread.start()
        for _ in range(1000):  # until the archive waits for a lock the rate writer holds
            waiting = rates.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid() "
                "AND datname = current_database()")).scalar()
            if waiting or not thread.is_alive():
                break
            thread.join(0.01)
        rates.commit()
    thread.join()
    assert failed == []
    db.session.expire_all()
    assert MARCH not in {key[2] for key in stored()}
    assert MARCH not in {key[2] for key in expected()}
