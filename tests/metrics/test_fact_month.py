"""fact_month stays fact_pick's rows summed by store, measure and month in the base currency:
after fact imports in two currencies over two months, rate imports, rates added, changed,
moved and deleted through the session, a rate changed by raw SQL (the month marked, read from
fact_pick until rewritten), a bulk delete of facts and an archived month, it equals the sums
made in Python from fact_pick and fx_rate and a rebuild; the migration fills the same rows."""
from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from flask import current_app
from sqlalchemy import select, text

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


def test_the_migration_fills_the_same_rows_as_a_rebuild(shops, user):
    load(generic_file(SALES), "sales.csv", user)
    load(fx_file([("2025-03-02", "EUR", "1.10"), ("2025-04-01", "EUR", "1.08")]), "fx.csv", user, kind="fx")
    rebuilt = stored()
    migration_module("0033_fact_month.py")  # its statement is fact_month.month_sums, as `rebuild`'s
    conn = db.session.connection()
    conn.execute(FactMonth.__table__.delete())
    conn.execute(fact_month.MONTHS.insert().from_select(
        list(fact_month.COLUMNS), fact_month.month_sums(conn.dialect.name, current_app.config["BASE_CURRENCY"])))
    db.session.expire_all()
    assert stored() == rebuilt and same(rebuilt, expected())
    db.session.rollback()


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
