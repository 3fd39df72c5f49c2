"""Set-based recompute gives exactly what the per-item computation (compute_metric) gives."""
import random
from datetime import timedelta
from decimal import Decimal

import pytest

from kpiapp.appraisal import services
from kpiapp.extensions import db
from kpiapp.metrics import batch
from kpiapp.metrics.services import fact_groups
from kpiapp.models import FxRate, ImportRecord, MetricFact, Scorecard, StoreOwner
from kpiapp.models.appraisal import ItemKind
from kpiapp.tracking import services as tracking
from tests.appraisal.factories import HRFactory
from tests.factories import DepartmentFactory, PositionFactory, UserFactory
from tests.imports.files import store

pytestmark = pytest.mark.rollback

TODAY = tracking.utc_today()
START = TODAY - timedelta(days=30)
KEYS = ["acos", "cvr", "gmv", "tacos", "refund_rate", "ctr", "roas", "units"]
ADS = ("ad_spend", "ad_sales", "ad_clicks", "ad_impressions")


def metric_items():
    weights = [13, 13, 13, 13, 12, 12, 12, 12]
    lower_better = {"acos", "tacos", "refund_rate"}
    return [{"kind": "metric", "metric_key": key, "name": key, "weight": str(weight),
             **dict(zip(("threshold", "target", "stretch"), "321" if key in lower_better else "123")),
             "rule": {"kind": "linear", "cap": "120"}} for key, weight in zip(KEYS, weights)]


def import_record(shop, n):
    record = ImportRecord(filename=f"gen-{n}.csv", sha256=f"{n:064d}", size=1, dedupe_key=f"gen-{n}",
                          store_id=shop.id, status="committed")
    db.session.add(record)
    db.session.flush()
    return record


def fact(shop, record, measure, value, first, last=None, family="amazon_ads", sku="", currency=None, ref=""):
    return MetricFact(store_id=shop.id, family=family, business_date=first, period_end=last or first, sku=sku,
                      ref=ref, measure=measure, value=Decimal(value), currency=currency, import_id=record.id)


def sessions(rng, shop, record, day, sku="", ref=""):
    return fact(shop, record, "sessions", str(rng.randint(1, 900)), day, family="amazon_sales_traffic",
                sku=sku, ref=ref)


def daily_facts(rng, shop, records, day, currency):
    record, other = records
    rows = [fact(shop, record, m, f"{rng.randint(1, 90000) / 100:.2f}", day,
                 currency=currency if m in ("ad_spend", "ad_sales") else None) for m in ADS]
    rows.append(fact(shop, record, "ordered_sales", f"{rng.randint(100, 500000) / 100:.2f}", day,
                     family="amazon_orders", currency=currency))
    rows.append(fact(shop, record, "units_ordered", str(rng.randint(0, 40)), day, family="amazon_orders"))
    return rows + sessions_facts(rng, shop, records, day)


def sessions_facts(rng, shop, records, day):
    """Totals and SKU breakdowns in every combination the total rule distinguishes."""
    record, other = records
    draw = rng.random()
    if draw < 0.3:  # a SKU breakdown without a total row counts, here from two imports
        return [sessions(rng, shop, source, day, sku=f"B0{n}") for n, source in enumerate((record, other))]
    rows = [sessions(rng, shop, record, day)]
    if draw < 0.6:  # a breakdown under the total is dropped, from any import; one under another ref counts
        rows += [sessions(rng, shop, source, day, sku=f"B0{n}") for n, source in enumerate((record, other))]
        rows.append(sessions(rng, shop, other, day, sku="B09", ref="P1"))
    return rows


def range_facts(shop, record, currency):
    """A monthly Business Report over the daily orders, and a report only partly inside the period."""
    first, last = START + timedelta(days=2), START + timedelta(days=12)
    return [fact(shop, record, "ordered_sales", "12345.67", first, last, "amazon_sales_traffic",
                 currency=currency),
            fact(shop, record, "units_ordered", "321", first, last, "amazon_sales_traffic"),
            fact(shop, record, "units_ordered", "99", START - timedelta(days=3), START + timedelta(days=3),
                 "amazon_sales_traffic")]


def generate(rng, shops):
    """Facts for every store but the last (missing data); EUR rates miss two days."""
    rows = []
    for n, (shop, currency) in enumerate(shops[:-1]):
        records = import_record(shop, n), import_record(shop, 100 + n)
        for offset in range(0, 31):
            if rng.random() < 0.85:
                rows += daily_facts(rng, shop, records, START + timedelta(days=offset), currency)
        if n % 2 == 0:
            rows += range_facts(shop, records[1], currency)
    db.session.add_all(rows)
    for offset in range(0, 31):
        day = START + timedelta(days=offset)
        db.session.add(FxRate(date=day, currency="GBP", rate=Decimal("1.27") + Decimal(offset) / 1000))
        if offset not in (4, 17):
            db.session.add(FxRate(date=day, currency="EUR", rate=Decimal("1.0833333333")))
    db.session.flush()


@pytest.fixture
def org(app):
    rng = random.Random(10)
    currencies = ["USD", "EUR", "GBP", "USD", "EUR", "USD"]
    shops = [(store(code=f"GEN-{n}", currency=c), c) for n, c in enumerate(currencies)]
    dept, pos = DepartmentFactory(), PositionFactory()
    hr = HRFactory(department=dept)
    manager = UserFactory(department=dept, manager=UserFactory(department=dept))
    people = [UserFactory(department=dept, position=pos, manager=manager) for _ in range(14)]
    shares = ["100", "50", "33.33", "40", "60", "25"]
    for n, person in enumerate(people[:-2]):
        for k in range(1 + n % 3):
            shop = shops[(n + k * 2) % len(shops)][0]
            share = Decimal(shares[(n + k) % len(shares)])
            db.session.add(StoreOwner(store=shop, person=person, share_pct=share))
    # the second-last person holds only the store without data; the last one holds no store
    db.session.add(StoreOwner(store=shops[-1][0], person=people[-2], share_pct=Decimal("100")))
    db.session.flush()
    services.create_template(hr, code="gen", name="Generated", items=metric_items(), position_id=pos.id)
    cycle = services.create_cycle(hr, name="Gen", kind="quarterly", period_start=START,
                                  period_end=START + timedelta(days=90),
                                  participants=[{"position_id": pos.id}])
    services.start_cycle(cycle.id, hr.id)
    generate(rng, shops)
    db.session.commit()
    return cycle


def metric_pairs(cycle):
    cards = db.session.query(Scorecard).filter_by(cycle_id=cycle.id).all()
    return [(item, card.cycle) for card in cards for item in card.items if item.kind == ItemKind.metric]


def test_set_based_equals_per_item_computation(org):
    pairs = metric_pairs(org)
    results = batch.compute_scopes(tracking.item_scopes(pairs, TODAY))
    assert len(results) < len(pairs)  # shared stores: some scopes are computed once for several items
    outcomes = []
    for item, cycle in pairs:
        reference = tracking.compute_item(item, cycle, TODAY)  # compute_metric, one item alone
        set_based = tracking.compute_item(item, cycle, TODAY, results)
        assert set_based == reference, item.metric_key
        assert batch.scope_of(item.metric_key, tracking.item_shares(item.scope), START, TODAY) in results \
            or not item.scope
        outcomes.append(reference)
    provenances = [p for _, _, p in outcomes]
    # the generated org covers every path: values, FX, missing rates, no scope, no data, notes
    assert any(value is not None for value, _, _ in outcomes)
    assert any(p["fx"] for p in provenances) and any(p["missing_rates"] for p in provenances)
    assert {"no_scope", "no_data", "missing_rates", None} <= {p["reason"] for p in provenances}
    assert any(p["notes"] for p in provenances) and any(p["missing_measures"] for p in provenances)
    assert any(len(p["scope"]) > 1 for p in provenances)
    assert any(len(p["import_ids"]) > 2 for p in provenances)


def test_recompute_cycle_writes_the_per_item_values(org):
    pairs = metric_pairs(org)
    expected = {item.id: tracking.compute_item(item, cycle, TODAY) for item, cycle in pairs}
    assert tracking.recompute_cycle(org.id, today=TODAY) > 0
    db.session.expire_all()
    for item, _ in metric_pairs(org):
        value, as_of, provenance = expected[item.id]
        assert tracking.unchanged(item, value, as_of, provenance), item.metric_key
    assert tracking.recompute_cycle(org.id, today=TODAY) == 0  # idempotent


def audit_events(action):
    from kpiapp.models.audit import AuditEvent

    return db.session.query(AuditEvent).filter_by(action=action).order_by(AuditEvent.seq).all()


def test_recompute_cycle_writes_each_batch_with_one_audit_event(org, monkeypatch):
    import json

    from kpiapp.audit import verify_chain

    monkeypatch.setattr(tracking, "BATCH_SIZE", 5)  # 14 scorecards: 3 batches
    before = len(audit_events("scorecard_item.update"))
    changed = tracking.recompute_cycle(org.id, today=TODAY)
    events = audit_events("scorecard_item.recompute")
    assert len(events) == 3 and len(audit_events("scorecard_item.update")) == before
    written = {}
    for event in events:
        after = json.loads(event.after_json)
        assert after["items"] == len(after["actual"]) == len(json.loads(event.before_json)["actual"])
        written.update(after["actual"])
    assert len(written) == changed
    db.session.expire_all()
    for item, _ in metric_pairs(org):
        if str(item.id) in written:
            assert written[str(item.id)] == (None if item.actual is None else str(item.actual))
        points = services.metric_points(item, item.actual)
        assert (item.computed_points, item.explanation, item.final_points) == points
    assert verify_chain(db.session).ok


def test_a_batch_that_fails_to_write_is_redone_scorecard_by_scorecard(org, monkeypatch):
    def refused(*_args):
        raise services.FrozenError(db.session.query(Scorecard).first())

    monkeypatch.setattr(tracking, "write_batch", refused)
    pairs = metric_pairs(org)
    expected = {item.id: tracking.compute_item(item, cycle, TODAY) for item, cycle in pairs}
    assert tracking.recompute_cycle(org.id, today=TODAY) > 0
    db.session.expire_all()
    for item, _ in metric_pairs(org):
        assert tracking.unchanged(item, *expected[item.id]), item.metric_key
    assert audit_events("scorecard_item.recompute") == []



def slice_of(row):
    return row.store_id, row.family, row.business_date, row.period_end, row.ref, row.measure


def counted_by_rule(rows):
    """The total rule in Python: a SKU row counts only when its slice (store, family, day,
    period end, ref, measure) has no total row; sums and counts by fact_groups' key."""
    totals = {slice_of(r) for r in rows if r.sku == ""}
    sums = {}
    for r in rows:
        if START <= r.business_date and r.period_end <= TODAY and (r.sku == "" or slice_of(r) not in totals):
            key = (r.store_id, r.family, r.measure, r.business_date, r.period_end, r.currency)
            total, count = sums.get(key, (Decimal(0), 0))
            sums[key] = (total + r.value, count + 1)
    return sums


def test_sku_rows_count_only_where_no_total_row_exists(org):
    rows = db.session.query(MetricFact).all()
    stores, measures = sorted({r.store_id for r in rows}), sorted({r.measure for r in rows})
    groups = fact_groups(stores, measures, START, TODAY, None)
    expected = counted_by_rule(rows)
    assert {tuple(g[:6]): (Decimal(g.total), g.facts) for g in groups} == expected
    # the org has SKU rows under a total (dropped) and beside one under another ref (counted)
    assert sum(count for _, count in expected.values()) < sum(
        1 for r in rows if START <= r.business_date and r.period_end <= TODAY)
    assert any(r.sku and r.ref for r in rows)


ITEM_COLUMNS = ("actual", "data_as_of", "provenance", "computed_points", "explanation", "final_points")


def stored_items(cycle):
    """The written columns of the cycle's items as the database holds them (SQL NULL apart from JSON null)."""
    from sqlalchemy import text

    columns = ", ".join(f"{name} IS NULL, CAST({name} AS TEXT)" for name in ITEM_COLUMNS)
    return db.session.execute(text(
        f"SELECT i.id, {columns} FROM scorecard_item i JOIN scorecard s ON s.id = i.scorecard_id "
        "WHERE s.cycle_id = :cycle ORDER BY i.id"), {"cycle": cycle.id}).all()


def test_the_bulk_write_stores_what_the_orm_update_stores(org, monkeypatch):
    """update_items (UPDATE ... FROM VALUES on PostgreSQL) against the ORM's bulk UPDATE by key."""
    from sqlalchemy import update

    from kpiapp.models import ScorecardItem

    updates = len(audit_events("scorecard_item.update"))
    assert tracking.recompute_cycle(org.id, today=TODAY) > 0
    written = stored_items(org)
    db.session.execute(update(ScorecardItem).values(**{name: None for name in ITEM_COLUMNS}))
    db.session.commit()
    def orm_update(rows):
        db.session.execute(update(ScorecardItem), rows)

    monkeypatch.setattr(tracking, "update_items", orm_update)
    assert tracking.recompute_cycle(org.id, today=TODAY) > 0
    assert stored_items(org) == written
    # both runs wrote in batches (a failed batch is redone item by item, with an update event each)
    assert len(audit_events("scorecard_item.recompute")) == 2
    assert len(audit_events("scorecard_item.update")) == updates



def items_sharing_a_scope(cycle, metric_key):
    shared = {}
    for item, _ in metric_pairs(cycle):
        if item.scope and item.metric_key == metric_key:
            shared.setdefault(repr(item.scope), []).append(item)
    return next(items for items in shared.values() if len(items) >= 2)[:2]


def test_items_sharing_a_scope_keep_their_own_points(org):
    """recompute_cycle computes a (metric, scope, period) once and points once per (rule, limits,
    actual, manager score): items of one scope with other limits or a manager score keep theirs."""
    first, other_limits = items_sharing_a_scope(org, "gmv")
    other_limits.target, other_limits.stretch = Decimal("100000000"), Decimal("200000000")  # same rule, scope
    second, scored = items_sharing_a_scope(org, "units")
    scored.manager_score = Decimal("77.50")
    db.session.flush()
    assert tracking.recompute_cycle(org.id, today=TODAY) > 0
    db.session.expire_all()
    assert first.actual == other_limits.actual is not None and second.actual == scored.actual is not None
    for item in (first, other_limits, second, scored):
        assert (item.computed_points, item.explanation, item.final_points) == \
            services.metric_points(item, item.actual)
    assert first.computed_points != other_limits.computed_points
    assert scored.final_points == Decimal("77.50") != second.final_points
