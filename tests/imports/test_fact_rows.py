"""FactRows' summaries (stores, each store and measure's date ranges, first/last day, count,
the rows written) against a plain one-fact-at-a-time reference, with range facts, several
stores and lines whose store could not be resolved."""
import random
from datetime import date, timedelta
from decimal import Decimal

from kpiapp.imports.fact_rows import FACT_COLUMNS, FactRows
from kpiapp.parsers.base import Fact

STORE_OF = {"": 7, "US": 7, "DE": 8, "XX": None}  # "XX": unknown store, its lines are dropped


def facts(seed, count=400):
    rnd = random.Random(seed)
    made = []
    for n in range(count):
        day = date(2026, 10, 1) + timedelta(days=rnd.randrange(40))
        end = day + timedelta(days=rnd.choice([0, 0, 0, 6]))
        made.append(Fact(line=2 + n // 3, business_date=day, measure=rnd.choice(["sessions", "ordered_sales"]),
                         value=Decimal(rnd.randrange(1000)) / 100, currency="USD", sku=rnd.choice(["", "A1"]),
                         period_end=end if end != day or rnd.random() < 0.5 else None,
                         store_code=rnd.choice(list(STORE_OF))))
    return made


def reference(made):
    bad = {f.line for f in made if STORE_OF[f.store_code] is None}
    kept = [f for f in made if f.line not in bad]
    ranges = {}
    for f in kept:
        ranges.setdefault((STORE_OF[f.store_code], f.measure), set()).add(
            (f.business_date, f.period_end or f.business_date))
    return bad, kept, ranges


def test_summaries_equal_a_plain_reference():
    for seed in range(20):
        made = facts(seed)
        rows = FactRows(made, STORE_OF, "amazon_orders", 3)
        bad, kept, ranges = reference(made)
        assert rows.bad_lines == bad and len(rows) == len(kept)
        assert rows.ranges == ranges and rows.stores == {store for store, _ in ranges}
        assert rows.first_day == min(f.business_date for f in kept)
        assert rows.last_day == max(f.business_date for f in kept)
        assert rows.last_end == max(f.period_end or f.business_date for f in kept)
        assert rows.all_daily == all(a == b for spans in ranges.values() for a, b in spans)
        assert [row["source_line"] for row in rows] == [f.line for f in kept]
        assert all(len(row) == len(FACT_COLUMNS) for row in rows.tuples())


def test_no_unknown_store_keeps_every_fact():
    made = [f._replace(store_code="US") for f in facts(1)]
    rows = FactRows(made, STORE_OF, "amazon_orders", 3)
    assert rows.bad_lines == set() and len(rows) == len(made) and rows.stores == {7}


def test_no_facts():
    rows = FactRows([], {}, "amazon_orders", 3)
    assert len(rows) == 0 and rows.stores == set() and rows.first_day is None and list(rows) == []
