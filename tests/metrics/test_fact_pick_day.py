"""fact_pick_day stays fact_pick's rows summed across stores by (measure, day, currency): after
imports of two families and two stores on the same days, re-imports, a monthly range, facts
written and deleted through the session, a bulk delete and an archived month, its rows (summed
by key, as the reader sums them) equal fact_pick grouped in Python and a rebuild, with one row a
key left after each writer's fold; the migration fills the same rows. On PostgreSQL, a fold never
waits for a writer that holds rows of its days, and keeps every key's sum."""
import threading
from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, func, select, text

from kpiapp.extensions import db
from kpiapp.imports.services import start_import
from kpiapp.metrics import fact_day, fact_pick, fact_pick_day
from kpiapp.models import FactPick, FactPickDay, MetricFact
from tests.conftest import PG_URL, migration_module
from tests.imports.files import ads_report, business_report
from tests.metrics.test_fact_pick import generic

D1, D3 = date(2025, 3, 1), date(2025, 3, 3)
PLACES = Decimal("0.000001")  # SQLite's NUMERIC is a float: its sums compared at fact_pick's 6 places


def expected():
    """fact_pick's rows summed by (measure, business date, currency), in Python."""
    found = defaultdict(lambda: [Decimal(0), 0])
    for p in db.session.execute(select(FactPick)).scalars():
        row = found[(p.measure, p.business_date, p.currency)]
        row[0] += Decimal(str(p.total))
        row[1] += p.group_count
    return {key: (total.quantize(PLACES), groups) for key, (total, groups) in found.items()}


def kept():
    """The kept rows summed by key, keys of no group left out (as `kept_sums` reads them)."""
    query = fact_pick_day.kept_sums({m for (m, _d, _c) in expected()} | {"ordered_sales"}, date(2000, 1, 1),
                                    date(2100, 1, 1))
    return {(m, d, c): (Decimal(str(total)).quantize(PLACES), groups)
            for m, d, c, total, groups in db.session.execute(query)}


def rows_a_key():
    return db.session.execute(select(func.count(), func.count(func.distinct(
        func.coalesce(FactPickDay.measure, "") + "|" + func.coalesce(FactPickDay.currency, "") + "|"
        + func.cast(FactPickDay.business_date, db.String))))).one()


def check():
    """fact_pick_day's sums equal fact_pick's and a rebuild's, one row a key (one writer at a
    time: every fold took every row of its days)."""
    db.session.expire_all()
    assert kept() == expected()
    rows, keys = rows_a_key()
    assert rows == keys
    savepoint = db.session.begin_nested()
    fact_pick_day.rebuild(db.session.connection())
    assert kept() == expected()
    savepoint.rollback()


SALES = [("2025-03-01", "US-1", "", "ordered_sales", "100.50", "USD"),
         ("2025-03-01", "US-2", "", "ordered_sales", "10.25", "USD"),
         ("2025-03-02", "US-1", "", "ordered_sales", "12.10", "EUR"),
         ("2025-03-02", "US-2", "", "ordered_sales", "3.00", "USD"),
         ("2025-03-02", "US-1", "SKU2", "ordered_sales", "7.05", "USD"),  # under the EUR total: not counted
         ("2025-03-03", "US-2", "", "units_ordered", "9", "")]


def test_fact_pick_day_follows_every_writer_of_fact_pick(shops, user):
    generic(SALES, "sales.csv", user)
    check()
    assert kept()[("ordered_sales", D1, "USD")] == (Decimal("110.75").quantize(PLACES), 2)
    generic([("2025-03-01", "US-1", "", "ad_sales", "5.00", "USD"),
             ("2025-03-03", "US-1", "", "ad_sales", "6.00", "USD")], "generic-ads.csv", user)
    check()
    ads = start_import(ads_report([(D1, "Camp A", 1000, 50, "25.50", "100.00"),
                                   (date(2025, 3, 2), "Camp A", 900, 40, "20.00", "80.00")]),
                       "ads.csv", shops[0].id, user)
    assert ads.status == "committed", ads.error
    check()  # the ads family ranks first: US-1's generic ad sales of D1 dropped
    assert kept()[("ad_sales", D1, "USD")] == (Decimal("100.00").quantize(PLACES), 1)
    again = generic([("2025-03-01", "US-1", "", "ordered_sales", "99.00", "USD")], "again.csv", user)
    assert again.facts_replaced == 1
    check()
    assert kept()[("ordered_sales", D1, "USD")] == (Decimal("109.25").quantize(PLACES), 2)
    ranged = start_import(business_report([("B0CHILD001", 510, 41, "$1,066.59")]), "BusinessReport.csv",
                          shops[1].id, user, date_from=D1, date_to=D3)
    assert ranged.status == "committed", ranged.error
    check()  # a range is not in fact_pick, so not here
    fact = MetricFact(store_id=shops[1].id, family="amazon_sales_traffic", business_date=D3, period_end=D3,
                      sku="", ref="", measure="units_ordered", value=Decimal("4"), currency=None,
                      import_id=ranged.id)
    db.session.add(fact)
    db.session.flush()
    check()
    assert kept()[("units_ordered", D3, None)] == (Decimal("4").quantize(PLACES), 1)
    db.session.delete(fact)
    db.session.flush()
    check()
    db.session.execute(db.delete(MetricFact).where(MetricFact.store_id == shops[1].id))
    check()  # a bulk delete rebuilds
    db.session.execute(db.delete(MetricFact))
    check()
    assert kept() == {}
    db.session.commit()
    generic(SALES, "sales-again.csv", user)
    check()
    fact_day.forget_month(db.session.connection(), D1, date(2025, 3, 31))
    assert kept() == {} == expected()
    db.session.rollback()


def test_a_writers_fold_leaves_the_keys_its_deltas_did_not_reach(shops, user):
    """A re-import of one store's day folds only the keys it appended deltas to: the day's other
    keys (a measure only another store has) keep their row as it was (the fold rewrote every key
    of its days before)."""
    generic([*SALES, ("2025-03-01", "US-2", "", "units_ordered", "3", "")], "sales.csv", user)
    other_store = select(FactPickDay.id).where(FactPickDay.measure == "units_ordered",
                                               FactPickDay.business_date == D1)
    before = db.session.execute(other_store).scalars().all()
    generic([("2025-03-01", "US-1", "", "ordered_sales", "99.00", "USD")], "again.csv", user)
    check()
    assert len(before) == 1 and db.session.execute(other_store).scalars().all() == before
    assert kept()[("ordered_sales", D1, "USD")] == (Decimal("109.25").quantize(PLACES), 2)


def test_the_migration_fills_the_same_rows_as_a_rebuild(shops, user):
    """0038 fills fact_pick_day from fact_pick with its own copy of the statement."""
    generic(SALES, "sales.csv", user)
    start_import(ads_report([(D1, "Camp A", 1000, 50, "25.50", "100.00")]), "ads.csv", shops[0].id, user)
    migration = migration_module("0038_fact_pick_day.py")
    conn = db.session.connection()
    conn.execute(FactPickDay.__table__.delete())
    conn.execute(text(migration.FILL))
    db.session.expire_all()
    filled = kept()
    fact_pick_day.rebuild(conn)
    assert filled == kept() == expected()
    db.session.rollback()


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL only: SQLite has one writer at a time, so no fold meets a held row")
@pytest.mark.rollback(False)
def test_a_fold_skips_rows_another_writer_holds_and_keeps_every_sum(app, shops, user):
    """PostgreSQL: a writer's fold (`compact`) while another transaction holds rows of the same
    days (it is folding them, uncommitted) neither waits nor loses a sum: the held rows stay, the
    rest are folded, and once both commit every key's sum is fact_pick's."""
    engine = create_engine(db.engine.url)
    other = engine.connect()
    try:
        generic(SALES, "sales.csv", user)
        db.session.commit()
        holder = other.begin()
        fact_pick.refresh(other, [shops[1].id], D1, D3)  # appends and folds, holding the folded rows
        done = []

        def fold():
            with app.app_context(), engine.begin() as conn:
                conn.execute(text("SET LOCAL lock_timeout = '5s'"))
                fact_pick.refresh(conn, [shops[0].id], D1, D3)
            done.append(True)

        worker = threading.Thread(target=fold)
        worker.start()
        worker.join(20)
        assert done == [True], "the second writer waited for the first"
        holder.commit()
        db.session.expire_all()
        assert kept() == expected()
        fact_pick_day.compact(db.session.connection(), D1, D3)
        rows, keys = rows_a_key()
        assert rows == keys and kept() == expected()
        db.session.commit()
    finally:
        other.close()  # rolls back whatever it still holds
        engine.dispose()
        db.session.rollback()
        db.session.execute(db.delete(MetricFact))
        db.session.commit()
