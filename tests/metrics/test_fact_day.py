"""fact_day stays the sums of metric_fact: after imports (in memory and staged), re-imports that
replace facts, and facts written and deleted through the session, it equals the day groups
recomputed in Python from the facts and a rebuild; the recompute gives what the per-scorecard
computation gives from the facts themselves."""
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask import current_app
from sqlalchemy import select, text

from kpiapp.extensions import db
from kpiapp.imports.services import start_import
from kpiapp.metrics import batch, fact_day
from kpiapp.metrics.services import compute_metric
from kpiapp.models import FactDay, FxRate, MetricFact, User
from tests.conftest import PG_URL, migration_module
from tests.imports.files import ads_report, business_report, generic_file

D1, D2, D3 = date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 3)
KEY = ("store_id", "family", "measure", "business_date", "period_end", "currency")


def expected():
    """The day groups of metric_fact, the SKU-under-total rule applied in Python."""
    facts = db.session.execute(select(MetricFact)).scalars().all()
    totals = {total_key(f) for f in facts if not f.sku}
    groups = defaultdict(lambda: [Decimal(0), 0, 0, set()])
    for f in facts:
        group = groups[tuple(getattr(f, name) for name in KEY)]
        group[2] += 1
        if not f.sku or total_key(f) not in totals:
            group[0] += f.value
            group[1] += 1
            group[3].add(f.import_id)
    return {key: (total if facts else None, facts, count, ids)
            for key, (total, facts, count, ids) in groups.items()}


def total_key(fact):
    return fact.store_id, fact.family, fact.business_date, fact.period_end, fact.ref, fact.measure


def stored():
    rows = db.session.execute(select(FactDay)).scalars().all()
    found = {tuple(getattr(r, name) for name in KEY):
             (r.total, r.facts, r.all_facts, {int(n) for n in (r.import_ids or "").split(",") if n})
             for r in rows}
    assert len(found) == len(rows), "one row per key"
    return found


def check():
    db.session.expire_all()
    assert stored() == expected()


def generic(rows, name):
    record = start_import(generic_file(rows), name, None, db.session.execute(select(User)).scalars().first())
    assert record.status == "committed", record.error
    return record


SALES = [  # a total with SKU rows under it, SKU rows without a total, two stores, two currencies
    ("2025-03-01", "US-1", "", "ordered_sales", "100.50", "USD"),
    ("2025-03-01", "US-1", "SKU1", "ordered_sales", "60.25", "USD"),
    ("2025-03-01", "US-1", "SKU2", "ordered_sales", "40.25", "USD"),
    ("2025-03-02", "US-1", "SKU1", "ordered_sales", "12.10", "EUR"),
    ("2025-03-02", "US-1", "SKU2", "ordered_sales", "7.05", "EUR"),
    ("2025-03-02", "US-1", "SKU1", "units_ordered", "3", ""),
    ("2025-03-03", "US-2", "", "units_ordered", "9", ""),
    ("2025-03-03", "US-2", "SKU9", "units_ordered", "4", ""),
]


def test_fact_day_follows_imports_and_reimports(shops, user, monkeypatch):
    generic(SALES, "sales.csv")
    check()
    ads = start_import(ads_report([(D1, "Camp A", 1000, 50, "25.50", "100.00"),
                                   (D2, "Camp A", 900, 40, "20.00", "80.00")]), "ads.csv", shops[0].id, user)
    assert ads.status == "committed", ads.error
    check()
    # a re-import: D2 gets a total (its SKU rows now fall under it), D1's total changes
    second = generic([("2025-03-01", "US-1", "", "ordered_sales", "99.00", "USD"),
                      ("2025-03-02", "US-1", "", "ordered_sales", "20.00", "EUR"),
                      ("2025-03-02", "US-1", "SKU3", "units_ordered", "1", "")], "again.csv")
    assert second.facts_replaced == 1
    check()
    monkeypatch.setitem(current_app.config, "IMPORT_STAGE_FACTS", 2)  # the staged write path
    staged = generic([("2025-03-03", "US-2", "", "units_ordered", "11", ""),
                      ("2025-03-03", "US-2", "SKU8", "units_ordered", "5", ""),
                      ("2025-03-03", "US-2", "SKU9", "units_ordered", "6", "")], "staged.csv")
    assert staged.facts_replaced == 2
    check()
    sums = {key: value for key, value in stored().items() if key[0] == shops[0].id}
    assert sums[(shops[0].id, "generic", "ordered_sales", D2, D2, "EUR")][:3] == (Decimal("20.00"), 1, 3)
    assert fact_day.rebuild(db.session.connection()) == len(expected())
    check()
    db.session.commit()
    check()


def test_facts_written_through_the_session_update_their_day_sums(shops, user):
    first = generic(SALES, "sales.csv")
    shop = shops[0]
    fact = MetricFact(store_id=shop.id, family="generic", business_date=D2, period_end=D2, sku="", ref="",
                      measure="ordered_sales", value=Decimal("5.00"), currency="EUR", import_id=first.id)
    db.session.add(fact)
    db.session.flush()
    check()  # a total over D2's SKU rows
    fact.business_date = fact.period_end = D3
    db.session.flush()
    check()  # moved: D2's SKU rows count again
    db.session.delete(fact)
    db.session.flush()
    check()
    db.session.execute(db.delete(MetricFact).where(MetricFact.store_id == shops[1].id))
    check()  # a bulk delete rebuilds
    db.session.commit()
    check()


def test_recompute_reads_the_day_sums_and_matches_compute_metric(shops, user):
    generic(SALES, "sales.csv")
    generic([("2025-03-02", "US-1", "", "ordered_sales", "20.00", "EUR"),
             ("2025-03-03", "US-1", "", "sessions", "10", "")], "more.csv")
    db.session.add_all(FxRate(date=day, currency="EUR", rate=Decimal("1.1")) for day in (D1, D2, D3))
    db.session.commit()
    shares = [(shops[0].id, Decimal("1")), (shops[1].id, Decimal("0.5"))]
    for key in ("gmv", "units", "cvr"):
        scope = batch.scope_of(key, shares, D1, D3)
        assert batch.compute_scopes([scope])[scope] == compute_metric(key, shares, D1, D3)
    db.session.execute(db.delete(FactDay))  # read from fact_day: without it, no data
    scope = batch.scope_of("gmv", shares, D1, D3)
    assert batch.compute_scopes([scope])[scope].value is None
    db.session.rollback()


def test_a_business_report_range_is_summed_once_per_key(shops, user):
    record = start_import(business_report([("B0CHILD001", 510, 41, "$1,066.59")]), "BusinessReport.csv",
                          shops[0].id, user, date_from=D1, date_to=D3)
    assert record.status == "committed", record.error
    check()
    rows = [r for r in stored() if r[3] != r[4]]
    assert rows and all((r[3], r[4]) == (D1, D3) for r in rows)


def test_the_migration_fills_the_same_day_sums_as_a_rebuild(shops, user):
    """0025 fills fact_day from the facts already imported with its own copy of the statement."""
    generic(SALES, "sales.csv")
    generic([("2025-03-02", "US-1", "", "ordered_sales", "20.00", "EUR")], "more.csv")
    migration = migration_module("0025_fact_day.py")
    rebuilt = stored()
    conn = db.session.connection()
    conn.execute(FactDay.__table__.delete())
    f_key = ", ".join(f"f.{name}" for name in migration.KEY.split(", "))
    conn.execute(text(migration.FILL.format(key=migration.KEY, f_key=f_key,
                                            import_ids=migration.IMPORT_IDS[conn.dialect.name])))
    db.session.expire_all()
    assert stored() == rebuilt == expected()
    db.session.rollback()


def matches_rebuild():
    """The day sums the imports left equal a rebuild from the facts (and the sums in Python)."""
    db.session.expire_all()
    incremental = stored()
    assert fact_day.rebuild(db.session.connection()) == len(incremental)
    db.session.expire_all()
    assert stored() == incremental == expected()
    db.session.rollback()  # the next import refreshes the table it left, not the rebuilt one


def test_day_sums_of_replacing_and_overlapping_imports_equal_a_rebuild(shops, user, monkeypatch):
    """Each import's refresh (plain sums into an empty slice, the windowed form over a slice that
    held facts or mixes SKU and total rows, in memory and staged) leaves what a rebuild makes."""
    generic([("2025-03-01", "US-1", "SKU1", "units_ordered", "3", ""),  # SKU rows only, empty slice
             ("2025-03-01", "US-1", "SKU2", "units_ordered", "4", ""),
             ("2025-03-02", "US-2", "SKU1", "units_ordered", "1", "")], "skus.csv")
    matches_rebuild()
    generic([("2025-03-03", "US-1", "", "units_ordered", "9", "")], "totals.csv")  # totals only
    matches_rebuild()
    over = generic([("2025-03-01", "US-1", "", "units_ordered", "5", "")], "over.csv")  # a total over SKU rows
    assert over.facts_replaced == 0
    matches_rebuild()
    assert stored()[(shops[0].id, "generic", "units_ordered", D1, D1, None)][:3] == (Decimal("5"), 1, 3)
    again = generic([("2025-03-01", "US-1", "SKU1", "units_ordered", "6", ""),  # replaces SKU1
                     ("2025-03-02", "US-2", "", "units_ordered", "2", "")], "again.csv")
    assert again.facts_replaced == 1
    matches_rebuild()
    monkeypatch.setitem(current_app.config, "IMPORT_STAGE_FACTS", 1)  # staged, a mixed file into an empty slice
    generic([("2025-03-04", "US-1", "", "units_ordered", "10", ""),
             ("2025-03-04", "US-1", "SKU1", "units_ordered", "7", ""),
             ("2025-03-04", "US-2", "SKU1", "units_ordered", "8", "")], "mixed.csv")
    matches_rebuild()
    monkeypatch.setitem(current_app.config, "IMPORT_STAGE_FACTS", 0)
    ranged = start_import(business_report([("B0CHILD001", 510, 41, "$1,066.59")]), "BusinessReport.csv",
                          shops[1].id, user, date_from=D1, date_to=D3)
    assert ranged.status == "committed", ranged.error
    matches_rebuild()
    daily = start_import(business_report([("B0CHILD001", 10, 1, "$26.00")]), "BusinessReport-D2.csv",
                         shops[1].id, user, date_from=D2, date_to=D2)
    assert daily.status == "failed" and daily.error_code == "overlapping_range"
    matches_rebuild()
    same = start_import(business_report([("B0CHILD001", 500, 40, "$1,000.00")]), "BusinessReport-2.csv",
                        shops[1].id, user, date_from=D1, date_to=D3)
    assert same.status == "committed" and same.facts_replaced > 0, same.error
    matches_rebuild()


@pytest.mark.skipif(not PG_URL,
                    reason="PostgreSQL only: SQLite stores values as floats (its day sums are summed in SQL)")
def test_day_sums_of_a_first_import_summed_in_memory_equal_the_facts_to_the_last_digit(shops, user):
    """Into an empty slice, the in-memory import sums its facts itself (PostgreSQL): each value
    rounded to metric_fact's 6 places as the column stores it, then summed (0.0000005 three times
    is 0.000003, not 0.000002)."""
    rows = [("2025-03-01", "US-1", f"SKU{n}", "ordered_sales", value, "USD")
            for n, value in enumerate(("0.0000005", "0.0000005", "0.0000005", "19.9999994",
                                       "1234567.1234565"))]
    rows += [("2025-03-02", "US-1", "SKU1", "units_ordered", "3", ""),
             ("2025-03-01", "US-2", "SKU1", "units_ordered", "4", "")]
    generic(rows, "precise.csv")
    check()
    total = stored()[(shops[0].id, "generic", "ordered_sales", D1, D1, "USD")][0]
    assert total == Decimal("0.000003") + Decimal("19.999999") + Decimal("1234567.123457")


@pytest.fixture
def sums_read(monkeypatch):
    """The SQL day sums run (plain or windowed): each call reads metric_fact."""
    calls = []
    for name in ("plain_sums", "day_sums"):
        real = getattr(fact_day, name)
        monkeypatch.setattr(fact_day, name,
                            lambda *args, real=real, name=name: calls.append(name) or real(*args))
    return calls


PRECISE = [("2025-03-01", "US-1", f"SKU{n}", "ordered_sales", value, "USD")
           for n, value in enumerate(("0.0000005", "0.0000005", "0.0000005", "19.9999994",
                                      "1234567.1234565"))]
PRECISE += [("2025-03-02", "US-1", "SKU1", "units_ordered", "3", ""),
            ("2025-03-01", "US-2", "SKU1", "units_ordered", "4", "")]


@pytest.mark.skipif(not PG_URL,
                    reason="PostgreSQL only: SQLite stores values as floats (its day sums are summed in SQL)")
def test_day_sums_of_a_first_staged_import_are_summed_as_its_rows_are_written(shops, user, monkeypatch,
                                                                               sums_read):
    """A staged file whose rows go to metric_fact as they were staged (no key twice, no line
    dropped) into an empty slice: the stage's sink sums them as it writes them, as the in-memory
    import does, and metric_fact is not read back; the sums are the facts' to the last digit."""
    monkeypatch.setitem(current_app.config, "IMPORT_STAGE_FACTS", 2)
    generic(PRECISE, "precise.csv")
    assert sums_read == []
    check()
    total = stored()[(shops[0].id, "generic", "ordered_sales", D1, D1, "USD")][0]
    assert total == Decimal("0.000003") + Decimal("19.999999") + Decimal("1234567.123457")


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL only: SQLite always sums in SQL")
def test_a_staged_import_that_dropped_lines_sums_its_day_rows_in_sql(shops, user, monkeypatch, sums_read):
    """A future-dated line dropped after the file (allow_partial): what the sink summed holds a
    line not written, so the day sums are read from metric_fact, and equal the facts."""
    monkeypatch.setitem(current_app.config, "IMPORT_STAGE_FACTS", 2)
    future = (date.today() + timedelta(days=30)).isoformat()
    rows = PRECISE + [(future, "US-1", "SKU1", "units_ordered", "5", "")]
    record = start_import(generic_file(rows), "future.csv", None, user, allow_partial=True)
    assert record.status == "committed" and record.rows_rejected == 1, record.error
    assert sums_read == ["plain_sums"]
    check()
