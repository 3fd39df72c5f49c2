"""The company and team dashboards' SQL aggregates against the Python computation they
replaced (docs/dashboards.md, "Sums in SQL"; docs/pace.md, "At risk in SQL"), on a generated
org: stores shared between departments with shares, money in three currencies with days
missing a rate, two report families on the same days, ratios, stores and measures without
data, items with and without actuals and thresholds, a store with a year of history (a
season profile), and a monthly report beside daily files (the Python path of FactSums)."""
import random
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask import current_app
from sqlalchemy import literal, select, text

from kpiapp.appraisal import services as appraisal
from kpiapp.appraisal.queries import latest_only
from kpiapp.dashboards import company
from kpiapp.dashboards.fact_sums import FactSums
from kpiapp.dashboards.filters import Filters
from kpiapp.extensions import db
from kpiapp.metrics.batch import PeriodFacts, load_formulas, scope_of
from kpiapp.metrics.services import MetricValue, convert_and_weigh, evaluate
from kpiapp.models import FxRate, ImportRecord, MetricFact, Scorecard, ScorecardItem, Store, StoreOwner
from kpiapp.tracking.paces import paced_items
from kpiapp.tracking.risk import item_risks, profiled_stores
from kpiapp.tracking.services import item_shares
from tests.appraisal.factories import make_team
from tests.conftest import PG_URL
from tests.factories import DepartmentFactory, StoreFactory

pytestmark = pytest.mark.rollback

D = Decimal
TODAY = date(2026, 11, 30)
START, LAST_DATA = date(2026, 10, 1), date(2026, 11, 24)
ITEMS = [
    {"kind": "metric", "metric_key": "gmv", "name": "GMV", "weight": "50", "threshold": "8000",
     "target": "10000", "stretch": "12000", "rule": {"kind": "linear", "cap": "120"}},
    {"kind": "metric", "metric_key": "acos", "name": "ACoS", "weight": "30", "threshold": "0.30",
     "target": "0.25", "stretch": "0.20", "rule": {"kind": "linear", "cap": "120", "direction": "lower_better"}},
    {"kind": "metric", "metric_key": "units", "name": "Units", "weight": "20", "target": "300",
     "stretch": "360", "rule": {"kind": "linear", "cap": "120"}},
]
STORES = (("GEN-US1", "USD", "amazon"), ("GEN-US2", "USD", "amazon"), ("GEN-DE", "EUR", "amazon"),
          ("GEN-UK", "GBP", "amazon"), ("GEN-SG", "SGD", "shopee"), ("GEN-JP", "JPY", "shopee"))


def days(first, last):
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


class Org:
    pass


def add_fact(store, record, measure, value, day, family, currency=None, end=None):
    db.session.add(MetricFact(store_id=store.id, family=family, business_date=day, period_end=end or day, sku="",
                              ref="", measure=measure, value=value, currency=currency, import_id=record.id))


def seed_facts(o, rng):
    """Daily sales and ads; GEN-US1 also has order files (a lower family) on some days, alone on
    others; GEN-SG has nothing; GEN-JP has ads only (GMV and ACoS: a missing measure)."""
    for store in o.stores:
        record = ImportRecord(filename=f"{store.code}.csv", sha256=f"{store.id:064d}", size=1,
                              dedupe_key=f"gen-{store.id}", store_id=store.id, status="committed")
        db.session.add(record)
        db.session.flush()
        money = store.currency
        for day in days(START, LAST_DATA):
            cents = lambda low, high: D(rng.randint(low * 100, high * 100)) / 100  # noqa: E731
            if store.code == "GEN-SG":
                continue
            if store.code != "GEN-JP" and rng.random() < 0.9:
                add_fact(store, record, "ordered_sales", cents(50, 900) + D("0.005"), day, "amazon_sales_traffic",
                         money)
                add_fact(store, record, "units_ordered", D(rng.randint(1, 40)), day, "amazon_sales_traffic")
            if store.code == "GEN-US1" and rng.random() < 0.5:  # dropped where the Business Report has the day
                add_fact(store, record, "ordered_sales", cents(10, 99), day, "amazon_orders", money)
            if rng.random() < 0.8:
                add_fact(store, record, "ad_spend", cents(5, 60), day, "amazon_ads", money)
                add_fact(store, record, "ad_sales", cents(20, 300), day, "amazon_ads", money)
    for currency, rate in (("EUR", "1.0812345"), ("GBP", "1.2654321"), ("JPY", "0.0066667")):
        for n, day in enumerate(days(START, LAST_DATA)):
            if currency == "EUR" and n % 17 == 5:
                continue  # no EUR rate that day: the periods holding it have no EUR figure
            db.session.add(FxRate(date=day, currency=currency, rate=D(rate) + D(n) / 10000))
    db.session.flush()


def generated_org(seed=7):
    rng = random.Random(seed)
    o = Org()
    o.team = make_team(size=12, items=ITEMS)
    o.depts = [o.team.people[0].department, DepartmentFactory(name="Ads team"), DepartmentFactory(name="Ops team")]
    o.stores = [StoreFactory(code=code, currency=currency, platform=platform) for code, currency, platform in STORES]
    for n, person in enumerate(o.team.people):
        person.department = o.depts[n % 3]
    for n, store in enumerate(o.stores):  # each store shared by two or three people of different teams
        owners = [o.team.people[(n + k * 5) % 12] for k in range(2 + n % 2)]
        for owner, share in zip(owners, ("50", "30", "20") if len(owners) == 3 else ("60", "40")):
            db.session.add(StoreOwner(store=store, person=owner, share_pct=D(share)))
    seed_facts(o, rng)
    for n, person in enumerate(o.team.people):
        card = o.team.card(person)
        stores = [o.stores[n % 6]] + ([o.stores[(n + 1) % 6]] if n % 3 == 0 else [])
        for item in card.items:
            item.scope = [{"store_id": s.id, "share_pct": "50.00" if len(stores) > 1 else "100.00"} for s in stores]
            if n % 4 == 3:
                continue  # no data yet
            value = {"gmv": rng.randint(1000, 20000), "acos": D(rng.randint(15, 40)) / 100,
                     "units": rng.randint(50, 400)}[item.metric_key]
            appraisal.set_actual(item, str(value), date(2026, 11, 20 - n % 5), {"source": "test"})
    db.session.commit()
    return o


# ---- the Python computation the SQL replaced (kpiapp/dashboards/company.py before) ----------

class Reference:
    def __init__(self, data):
        self.data = data
        self.formulas = load_formulas({m for _k, _l, m in company.FAMILIES} | {m for _k, _l, m in company.PER_HEAD})
        scopes = [scope_of(key, [(store.id, D(1))], data.first, data.last)
                  for key in self.formulas for store in data.stores]
        self.facts = PeriodFacts(data.first, data.last, scopes, self.formulas)

    def value(self, metric, shares, first, last):
        if metric not in self.formulas or not shares or first > last:
            return None
        definition, formula, measures = self.formulas[metric]
        result = MetricValue(None, formula=str(formula), version=definition.version)
        wanted = frozenset(measures)
        groups = [g for store in sorted(shares) for g in self.facts.store_groups(store, wanted)[1]
                  if first <= g.business_date <= last]
        totals = convert_and_weigh(groups, shares, result, self.facts.rates)
        return evaluate(formula, measures, totals, result, (last - first).days + 1).value

    def newest_gmv_day(self):
        measures = frozenset(self.formulas["gmv"][2])
        return max((g.business_date for s in self.data.stores for g in self.facts.store_groups(s.id, measures)[1]),
                   default=None)

    def last_day(self, store_id):
        return max((g.period_end for g in self.facts.rows.get(store_id, ())), default=None)

    def metric_items(self):
        cards = latest_only(select(Scorecard.id).where(Scorecard.cycle_id == self.data.cycle.id))
        return db.session.execute(select(ScorecardItem).where(ScorecardItem.scorecard_id.in_(cards),
                                                              ScorecardItem.kind == "metric")).scalars().all()

    def store_attainment(self):
        sums = defaultdict(lambda: [0, D(0), D(0)])
        for item in self.metric_items():
            points = item.final_points if item.final_points is not None else item.computed_points
            for store_id in {int(entry["store_id"]) for entry in item.scope or ()}:
                entry = sums[store_id]
                entry[0] += 1
                if points is not None:
                    entry[1] += D(str(points)) * D(str(item.weight))
                    entry[2] += D(str(item.weight))
        return {s: (n, company.average(w, ws)) for s, (n, w, ws) in sums.items()}

    def at_risk(self):
        counts = defaultdict(int)
        for item, pace in paced_items([i.id for i in self.metric_items()], self.data.today):
            for store_id in {store for store, _share in item_shares(item.scope)} if pace.at_risk else ():
                counts[store_id] += 1
        return counts


def panels_of(o, today=TODAY):
    with current_app.test_request_context():
        data = company.CompanyData(Filters(cycle=o.team.cycle.id), o.team.cycle, today)
        found = {p.key: p for p in company.company_panels(Filters(cycle=o.team.cycle.id), o.team.cycle,
                                                          company.PANELS, today=today)}
        return data, found


def round_to(value, unit):
    return company.rounded(value, unit)


def expected_store_rows(ref, data):
    attainment, risky = ref.store_attainment(), ref.at_risk()
    rows = []
    for store in data.stores:
        count, points = attainment.get(store.id, (0, None))
        one = {store.id: D(1)}
        rows.append({"store": store.code, "items": count, "at_risk": risky.get(store.id, 0), "attainment": points,
                     "gmv": round_to(ref.value("gmv", one, data.first, data.last), "money"),
                     "acos": round_to(ref.value("acos", one, data.first, data.last), "fraction")})
    return rows


def expected_ranked(rows):
    """The store panel's rows: the RANKED highest and lowest by attainment, best first."""
    scored = sorted((row for row in rows if row["attainment"] is not None),
                    key=lambda row: (-row["attainment"], row["store"]))
    if len(scored) <= 2 * company.RANKED:
        return scored
    return scored[:company.RANKED] + scored[-company.RANKED:]


def expected_trend(ref, data, metric):
    unit = ref.formulas[metric][0].unit
    everyone = {store.id: D(1) for store in data.stores}
    return [(first.isoformat(), round_to(ref.value(metric, everyone, first, last), unit))
            for first, last in company.weeks(data.first, data.last)]


def expected_movers(ref, data):
    end = ref.newest_gmv_day()
    rows = []
    for store in data.stores:
        now = ref.value("gmv", {store.id: D(1)}, end - timedelta(days=6), end)
        before = ref.value("gmv", {store.id: D(1)}, end - timedelta(days=13), end - timedelta(days=7))
        if now is not None and before:
            rows.append((store.code, now.quantize(company.CENT), before.quantize(company.CENT),
                         ((now - before) / before).quantize(D("0.0001"))))
    return sorted(rows, key=lambda row: (-row[3], row[0]))


def expected_per_head(ref, data, by_department):
    shares = defaultdict(dict)
    store_ids = {store.id for store in data.stores}
    if by_department:
        for owner in db.session.execute(select(StoreOwner)).scalars():
            if owner.store_id in store_ids:
                dept = owner.person.department_id
                shares[dept][owner.store_id] = shares[dept].get(owner.store_id, D(0)) + owner.share_pct / 100
    else:
        for store in data.stores:
            shares[store.platform][store.id] = D(1)
    out = {}
    for group, owned in shares.items():
        for first, last in company.months(data.first, data.last):
            for key, _label, metric in company.PER_HEAD:
                total = ref.value(metric, owned, first, last)
                out[(group, f"{first:%Y-%m}", key)] = None if total is None else total.quantize(company.CENT)
    return out


def found_per_head(panel, label_key, ids):
    return {(ids[row[label_key]], row["month"], key): row[key]
            for row in panel.rows for key, _label, _metric in company.PER_HEAD}


def assert_same_as_python(o):
    data, found = panels_of(o)
    ref = Reference(data)
    expected_rows = expected_store_rows(ref, data)
    with current_app.test_request_context():
        every, _next = company.all_stores(data.filters, data.cycle, today=data.today)
    assert every.rows == expected_rows
    assert found["stores"].rows == expected_ranked(expected_rows)
    for key, _label, metric in company.FAMILIES:
        expected = expected_trend(ref, data, metric)
        got = [(row["week"], row["actual"]) for row in found[f"trend_{key}"].rows]
        assert got == (expected if any(actual is not None for _w, actual in expected) else [])
    movers = expected_movers(ref, data)
    shown = movers[:company.MOVERS] + [row for row in movers[::-1][:company.MOVERS] if row not in movers[:5]][::-1]
    assert [(r["store"], r["now"], r["before"], r["change"]) for r in found["movers"].rows] == shown
    stalest = sorted(((ref.last_day(store.id), store.code) for store in data.stores),
                     key=lambda pair: (pair[0] is not None, pair[0] or date.min, pair[1]))[:company.STALEST]
    assert [(r["last"], r["store"]) for r in found["freshness"].rows] == stalest
    names = {name: dept_id for dept_id, name in data.departments}
    assert found_per_head(found["per_head_departments"], "department", names) == expected_per_head(ref, data, True)
    platforms = {company.platform_name(store.platform): store.platform for store in data.stores}
    assert found_per_head(found["per_head_platforms"], "platform", platforms) == expected_per_head(ref, data, False)
    return found


def test_company_figures_equal_the_python_computation(app, monkeypatch):
    o = generated_org()
    found = assert_same_as_python(o)
    with current_app.test_request_context():
        every, _next = company.all_stores(Filters(cycle=o.team.cycle.id), o.team.cycle, today=TODAY)
    rows = {row["store"]: row for row in every.rows}
    assert rows["GEN-DE"]["gmv"] is None  # a day without an EUR rate: no EUR figure for the period
    assert rows["GEN-UK"]["gmv"] is not None and rows["GEN-JP"]["gmv"] is None and rows["GEN-SG"]["acos"] is None
    assert sum(row["at_risk"] for row in every.rows) > 0
    assert any(row["attainment"] is not None for row in found["stores"].rows)
    monkeypatch.setattr(company, "RANKED", 2)  # fewer than the stores with points: the cut is exercised
    monkeypatch.setattr(company, "STALEST", 3)
    found = assert_same_as_python(o)
    assert len(found["stores"].rows) == 4 and len(found["freshness"].rows) == 3


def test_a_monthly_report_beside_daily_files_takes_the_python_path_with_the_same_figures(app):
    o = generated_org(seed=11)
    us2 = next(store for store in o.stores if store.code == "GEN-US2")
    record = db.session.execute(select(ImportRecord).where(ImportRecord.store_id == us2.id)).scalar()
    add_fact(us2, record, "ordered_sales", D("12345.67"), date(2026, 10, 1), "amazon_orders", "USD",
             end=date(2026, 10, 31))
    add_fact(us2, record, "ordered_sales", D("999.99"), date(2026, 11, 2), "amazon_orders", "USD",
             end=date(2026, 11, 8))
    db.session.commit()
    data, _found = panels_of(o)
    assert data.facts.ranges_overlap()
    assert_same_as_python(o)


def test_sql_at_risk_equals_the_python_pace_with_and_without_a_season_profile(app):
    o = generated_org(seed=3)
    cards = latest_only(select(Scorecard.id).where(Scorecard.cycle_id == o.team.cycle.id))
    ids = select(ScorecardItem.id).where(ScorecardItem.scorecard_id.in_(cards))

    def both(today):
        sql = {row.item_id for row in db.session.execute(item_risks(cards, o.team.cycle, today)) if row.at_risk}
        return sql, {item.id for item, pace in paced_items(ids, today) if pace.at_risk}

    for today in (date(2026, 9, 30), date(2026, 10, 1), date(2026, 10, 15), TODAY, date(2027, 1, 5)):
        sql, python = both(today)
        assert sql == python, today
    assert both(TODAY)[0]
    peak = set(days(date(2025, 10, 6), date(2025, 10, 19)))
    for store in o.stores[:2]:  # a year of history: GEN-US1 and GEN-US2 follow a season profile
        record = db.session.execute(select(ImportRecord).where(ImportRecord.store_id == store.id)).scalar()
        for day in days(START - timedelta(days=364), START - timedelta(days=1)):
            add_fact(store, record, "ordered_sales", D(9) if day in peak else D(1), day, "amazon_orders", "USD")
    db.session.commit()
    assert len(profiled_stores(o.team.cycle)) == 2
    for today in (date(2026, 10, 15), TODAY):
        sql, python = both(today)
        assert sql == python, today


# ---- fact_pick read in place (PostgreSQL, issue 10) -----------------------------------------

def sums_compared(stored, reference, department_shares, platform_shares, week):
    """Every grouping the company panels ask of FactSums, from `stored` and from `reference`."""
    asks = [(("day",), None, None, None), (("month",), None, None, None), (("store",), None, None, None),
            (("store",), week, None, {"ordered_sales"}), (("day",), None, None, {"ordered_sales", "ad_spend"}),
            (("month",), None, department_shares, {"ordered_sales", "units_ordered", "ad_sales"}),
            (("month",), None, platform_shares, {"ordered_sales", "units_ordered", "ad_sales"})]
    for keys, between, shares, measures in asks:
        found = stored.sums(keys, between, shares, measures)
        expected = reference.sums(keys, between, shares, measures)
        assert {k: dict(v) for k, v in found.items()} == {k: dict(v) for k, v in expected.items()}, keys


def test_the_company_panels_read_fact_pick_on_postgresql_and_keep_the_window_on_sqlite(app):
    """Which path the company panels' FactSums takes: fact_pick read in place on PostgreSQL
    (compared with the Python rows below), the window over fact_day on SQLite (its NUMERIC is a
    float: the window adds in the old order; compared with Python by
    test_company_figures_equal_the_python_computation)."""
    o = generated_org(seed=13)
    with current_app.test_request_context():
        facts = company.CompanyData(Filters(cycle=o.team.cycle.id), o.team.cycle, TODAY).facts
        on_postgresql = db.engine.dialect.name == "postgresql"
        assert facts.stored == on_postgresql
        assert (facts.picked is None) == on_postgresql  # the window's CTE, made only off the stored path
        assert facts.rows is None  # neither takes the Python path here


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL only: SQLite keeps the window (test above)")
@pytest.mark.parametrize("platform", [None, "shopee", "amazon"])
def test_the_sums_read_from_fact_pick_equal_the_python_rows_with_monthly_reports_and_a_platform_filter(
        app, platform):
    """The stored path (fact_pick read by each statement, `stored_sums`, `stored_last_days`)
    against the same FactSums made in Python from PeriodFacts (`python_rows`, the reference of
    the window), with monthly reports on a store and measure no other family has (so not the
    Python path: fact_day's multi-day groups join fact_pick's rows, converted at their first
    day's rate), money in four currencies with days missing a rate, shares and a week."""
    o = generated_org(seed=13)
    jp = next(store for store in o.stores if store.code == "GEN-JP")
    record = db.session.execute(select(ImportRecord).where(ImportRecord.store_id == jp.id)).scalar()
    add_fact(jp, record, "ordered_sales", D("123456"), date(2026, 10, 1), "amazon_orders", "JPY",
             end=date(2026, 10, 31))
    add_fact(jp, record, "units_ordered", D("40"), date(2026, 11, 2), "amazon_orders", end=date(2026, 11, 8))
    db.session.commit()
    with current_app.test_request_context():
        data = company.CompanyData(Filters(cycle=o.team.cycle.id, platform=platform), o.team.cycle, TODAY)
        stored = data.facts
        assert stored.stored and stored.rows is None and not stored.ranges_overlap()
        assert (stored.stores is None) == (platform is None)  # no join to store without a filter
        base = current_app.config["BASE_CURRENCY"]
        reference = FactSums(data.first, data.last, data.store_ids(), data.fact_measures, base)
        reference.rows = reference.python_rows()
        window = FactSums(data.first, data.last, data.store_ids(), data.fact_measures, base)  # the CTE
        department_shares = (select(StoreOwner.store_id.label("store_id"), StoreOwner.person_id.label("group_id"),
                                    (StoreOwner.share_pct / 100).label("share")))
        platform_shares = select(Store.id.label("store_id"), Store.platform.label("group_id"),
                                 literal(1).label("share"))
        week = (date(2026, 11, 18), date(2026, 11, 24))
        sums_compared(stored, reference, department_shares, platform_shares, week)
        assert any(key == (jp.id,) for key in reference.sums(("store",))) == (platform != "amazon")
        last = dict(db.session.execute(stored.last_days_query()).all())
        assert {s: d for s, d in last.items() if d is not None} == window.last_days()
        if platform != "amazon":
            assert last[jp.id] == date(2026, 11, 24)  # its ads; the monthly report ends 10-31
        for measures in ({"ordered_sales"}, {"units_ordered", "ad_sales"}):
            assert stored.newest_day(measures) == reference.newest_day(measures)
        ranges = (week, (date(2026, 11, 11), date(2026, 11, 17)))
        assert (sorted(db.session.execute(stored.store_totals(ranges, "ordered_sales")).all())
                == sorted(db.session.execute(window.store_totals(ranges, "ordered_sales")).all()))


# ---- the months kept (fact_month, PostgreSQL, issue 10) --------------------------------------

@pytest.mark.skipif(not PG_URL, reason="PostgreSQL only: SQLite keeps the window")
def test_the_sums_by_month_read_from_fact_month_equal_the_python_rows_over_whole_partial_and_marked_months(app):
    """The per-head panels' sums by store and month (`month_store_sums`) over periods that cut
    months in every way: a kept month whole, less the days outside the period (October from
    the 7th, November to the 27th), or read from fact_pick (fewer days inside than out), with a
    monthly report inside a kept month, shares and days missing a rate; then a rate changed by
    raw SQL, which marks October: the same figures, October read from fact_pick."""
    o = generated_org(seed=17)
    jp = next(store for store in o.stores if store.code == "GEN-JP")
    record = db.session.execute(select(ImportRecord).where(ImportRecord.store_id == jp.id)).scalar()
    add_fact(jp, record, "ordered_sales", D("123456"), date(2026, 10, 9), "amazon_orders", "JPY",
             end=date(2026, 10, 20))
    db.session.commit()
    base = current_app.config["BASE_CURRENCY"]
    measures = ["ad_sales", "ordered_sales", "units_ordered"]
    shares = (select(StoreOwner.store_id.label("store_id"), StoreOwner.person_id.label("group_id"),
                     (StoreOwner.share_pct / 100).label("share")))
    periods = {(date(2026, 10, 7), date(2026, 11, 24)): "October less 1-6, November less 25-30",
               (date(2026, 10, 1), date(2026, 11, 30)): "both whole",
               (date(2026, 10, 20), date(2026, 11, 10)): "both from fact_pick",
               (date(2026, 10, 3), date(2026, 11, 27)): "both less their edges"}

    def compare(first, last):
        stored = FactSums(first, last, None, measures, base, shared=True)
        reference = FactSums(first, last, None, measures, base)
        reference.rows = reference.python_rows()
        assert stored.stored and stored.has_ranges == (first <= date(2026, 10, 9)) and not stored.ranges_overlap()
        found = stored.sums(("month",), None, shares, set(measures))
        assert {k: dict(v) for k, v in found.items()} == \
            {k: dict(v) for k, v in reference.sums(("month",), None, shares, set(measures)).items()}
        return stored

    for (first, last), how in periods.items():
        stored = compare(first, last)
        direct, kept = company_month_plan(stored, first, last)
        assert how != "both whole" or (direct, [outside for _m, _d, outside in kept]) == ([], [[], []])
        assert how != "both from fact_pick" or kept == []
        assert how not in ("October less 1-6, November less 25-30", "both less their edges") or \
            (not direct and all(outside for _m, _d, outside in kept))
    db.session.execute(text("UPDATE fx_rate SET rate = rate * 2 WHERE currency = 'EUR' AND date = '2026-10-12'"))
    stored = compare(date(2026, 10, 7), date(2026, 11, 24))
    assert stored.kept_months((date(2026, 10, 7), date(2026, 11, 24))) == [date(2026, 11, 1)]
    db.session.rollback()


def company_month_plan(stored, first, last):
    from kpiapp.dashboards.fact_sums import month_plan
    return month_plan((first, last), stored.kept_months((first, last)))
