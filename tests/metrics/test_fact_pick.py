"""fact_pick stays fact_day's picked one-day groups: after imports of two families on the same
days, re-imports, a monthly range, facts written and deleted through the session, a bulk
delete and an archived month, it equals the groups picked in Python from fact_day and a
rebuild; the migration fills the same rows."""
from collections import defaultdict
from datetime import date
from decimal import Decimal

from sqlalchemy import select, text

from kpiapp.extensions import db
from kpiapp.imports.services import start_import
from kpiapp.metrics import fact_day, fact_pick
from kpiapp.metrics.services import family_rank
from kpiapp.models import FactDay, FactPick, MetricFact
from tests.conftest import migration_module
from tests.imports.files import ads_report, business_report, generic_file

D1, D2, D3 = date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 3)


def expected():
    """fact_day's one-day groups with facts, the first family of each store, measure and day
    kept, summed by currency (pick_families' rule, in Python)."""
    days = defaultdict(list)
    for g in db.session.execute(select(FactDay)).scalars():
        if g.business_date == g.period_end and g.facts > 0:
            days[(g.store_id, g.measure, g.business_date)].append(g)
    found = defaultdict(lambda: [Decimal(0), 0])
    for (store_id, measure, day), groups in days.items():
        first = min(family_rank(g.family) for g in groups)
        for g in groups:
            if family_rank(g.family) == first:
                row = found[(store_id, measure, day, g.currency)]
                row[0] += g.total
                row[1] += 1
    return {key: tuple(value) for key, value in found.items()}


def stored():
    rows = db.session.execute(select(FactPick)).scalars().all()
    found = {(r.store_id, r.measure, r.business_date, r.currency): (r.total, r.group_count) for r in rows}
    assert len(found) == len(rows), "one row per key"
    return found


def check():
    """fact_pick equals the Python pick and a rebuild (then the rebuild is rolled back to a
    savepoint, so the next write refreshes the rows it left, not rebuilt ones)."""
    db.session.expire_all()
    incremental = stored()
    assert incremental == expected()
    savepoint = db.session.begin_nested()
    assert fact_pick.rebuild(db.session.connection()) == len(incremental)
    db.session.expire_all()
    assert stored() == incremental
    savepoint.rollback()


def generic(rows, name, user):
    record = start_import(generic_file(rows), name, None, user)
    assert record.status == "committed", record.error
    return record


SALES = [("2025-03-01", "US-1", "", "ordered_sales", "100.50", "USD"),
         ("2025-03-01", "US-1", "SKU1", "ordered_sales", "60.25", "USD"),
         ("2025-03-02", "US-1", "", "ordered_sales", "12.10", "EUR"),
         ("2025-03-02", "US-1", "SKU2", "ordered_sales", "7.05", "USD"),  # under the EUR total: not counted
         ("2025-03-03", "US-2", "", "units_ordered", "9", "")]


def test_fact_pick_follows_imports_of_two_families_and_session_writes(shops, user):
    generic(SALES, "sales.csv", user)
    check()
    assert stored()[(shops[0].id, "ordered_sales", D2, "EUR")] == (Decimal("12.10"), 1)
    # the ads family ranks before generic: on D1 and D2 its ad sales drop nothing (another measure),
    # and a generic ad_sales fact on D1 is dropped by it
    generic([("2025-03-01", "US-1", "", "ad_sales", "5.00", "USD"),
             ("2025-03-03", "US-1", "", "ad_sales", "6.00", "USD")], "generic-ads.csv", user)
    check()
    ads = start_import(ads_report([(D1, "Camp A", 1000, 50, "25.50", "100.00"),
                                   (D2, "Camp A", 900, 40, "20.00", "80.00")]), "ads.csv", shops[0].id, user)
    assert ads.status == "committed", ads.error
    check()
    assert stored()[(shops[0].id, "ad_sales", D1, "USD")] == (Decimal("100.00"), 1)
    assert stored()[(shops[0].id, "ad_sales", D3, "USD")] == (Decimal("6.00"), 1)
    again = generic([("2025-03-01", "US-1", "", "ordered_sales", "99.00", "USD")], "again.csv", user)
    assert again.facts_replaced == 1
    check()
    ranged = start_import(business_report([("B0CHILD001", 510, 41, "$1,066.59")]), "BusinessReport.csv",
                          shops[1].id, user, date_from=D1, date_to=D3)
    assert ranged.status == "committed", ranged.error
    check()  # a range is not kept here: the reader takes it from fact_day
    fact = MetricFact(store_id=shops[1].id, family="amazon_sales_traffic", business_date=D3, period_end=D3,
                      sku="", ref="", measure="units_ordered", value=Decimal("4"), currency=None,
                      import_id=ranged.id)
    db.session.add(fact)
    db.session.flush()
    check()  # a higher family on D3: US-2's generic units that day are dropped
    assert stored()[(shops[1].id, "units_ordered", D3, None)] == (Decimal("4"), 1)
    db.session.delete(fact)
    db.session.flush()
    check()
    db.session.execute(db.delete(MetricFact).where(MetricFact.store_id == shops[1].id))
    check()  # a bulk delete rebuilds
    db.session.commit()
    check()
    fact_day.forget_month(db.session.connection(), D1, date(2025, 3, 31))
    assert stored() == {} == expected()
    db.session.rollback()


def test_the_migration_fills_the_same_rows_as_a_rebuild(shops, user):
    """0028 fills fact_pick from fact_day with its own copy of the statement."""
    generic(SALES, "sales.csv", user)
    start_import(ads_report([(D1, "Camp A", 1000, 50, "25.50", "100.00")]), "ads.csv", shops[0].id, user)
    generic([("2025-03-01", "US-1", "", "ad_sales", "5.00", "USD")], "generic-ads.csv", user)
    migration = migration_module("0028_fact_pick.py")
    rebuilt = stored()
    conn = db.session.connection()
    conn.execute(FactPick.__table__.delete())
    conn.execute(text(migration.FILL))
    db.session.expire_all()
    assert stored() == rebuilt == expected()
    db.session.rollback()
