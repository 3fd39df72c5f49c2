"""item_paces and pace_series on hand-made facts (docs/pace.md, "Query")."""
from datetime import date, timedelta
from decimal import Decimal as D

import pytest

from kpiapp.appraisal import services
from kpiapp.extensions import db
from kpiapp.models import ImportRecord, MetricFact, Scorecard, StoreOwner
from kpiapp.tracking import services as tracking
from kpiapp.tracking.paces import item_paces, moved_since, pace_series
from tests.appraisal.factories import HRFactory
from tests.factories import DepartmentFactory, PositionFactory, UserFactory
from tests.imports.files import store
from tests.web.test_page_queries import QueryCounter

pytestmark = pytest.mark.rollback

START, END, TODAY = date(2026, 11, 1), date(2026, 11, 30), date(2026, 11, 10)
ITEMS = [
    {"kind": "metric", "metric_key": "gmv", "name": "GMV", "weight": "50", "threshold": "2400",
     "target": "3000", "stretch": "3600", "rule": {"kind": "linear", "cap": "120"}},
    {"kind": "metric", "metric_key": "acos", "name": "ACoS", "weight": "30", "threshold": "0.28",
     "target": "0.25", "stretch": "0.2", "rule": {"kind": "linear", "cap": "120", "direction": "lower_better"}},
    {"kind": "manual", "name": "Teamwork", "weight": "20", "rule": {"kind": "manual", "scale_max": "5"}},
]


def record_for(shop):
    record = ImportRecord(filename="gen.csv", sha256=f"{shop.id:064d}", size=1, dedupe_key=f"pace-{shop.id}",
                          store_id=shop.id, status="committed")
    db.session.add(record)
    db.session.flush()
    return record


def fact(shop, record, measure, value, day, family):
    return MetricFact(store_id=shop.id, family=family, business_date=day, period_end=day, sku="", ref="",
                      measure=measure, value=D(value), currency="USD" if measure != "units_ordered" else None,
                      import_id=record.id)


def days(first, last):
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


@pytest.fixture
def world(app):
    """Two people sharing one USD store 50/50; November so far: sales 200 a day (100 each),
    ad spend 60 and ad sales 200 a day (ACoS 0.3)."""
    shop = store(code="PACE-1")
    dept, pos = DepartmentFactory(), PositionFactory()
    hr = HRFactory(department=dept)
    people = [UserFactory(department=dept, position=pos) for _ in range(2)]
    db.session.add_all([StoreOwner(store=shop, person=p, share_pct=D("50")) for p in people])
    db.session.flush()
    services.create_template(hr, code="pace", name="Pace", items=ITEMS, position_id=pos.id)
    cycle = services.create_cycle(hr, name="Nov", kind="monthly", period_start=START, period_end=END,
                                  participants=[{"position_id": pos.id}])
    services.start_cycle(cycle.id, hr.id)
    record = record_for(shop)
    rows = []
    for day in days(START, TODAY):
        rows += [fact(shop, record, "ordered_sales", "200", day, "amazon_orders"),
                 fact(shop, record, "ad_spend", "60", day, "amazon_ads"),
                 fact(shop, record, "ad_sales", "200", day, "amazon_ads")]
    db.session.add_all(rows)
    db.session.flush()
    tracking.recompute_cycle(cycle.id, today=TODAY)
    cards = db.session.query(Scorecard).filter_by(cycle_id=cycle.id).order_by(Scorecard.id).all()
    return shop, record, cards


def items_by_key(card):
    return {item.metric_key or item.name: item for item in card.items}


def test_item_paces_straight_line(world):
    _, _, cards = world
    items = items_by_key(cards[0])
    paces = item_paces([i.id for i in cards[0].items], today=TODAY)
    assert set(paces) == {items["gmv"].id, items["acos"].id}  # the manual item has none
    gmv = paces[items["gmv"].id]
    # 10 of 30 days, half of 200 a day: actual 1,000, expected 3,000 / 3, forecast 3,000
    assert (gmv.kind, gmv.actual_to_date, gmv.expected_to_date, gmv.forecast, gmv.at_risk) == (
        "additive", D("1000"), D("1000"), D("3000"), False)
    acos = paces[items["acos"].id]
    # ratio: expected is the target, forecast is the ACoS to date 600 / 2,000 = 0.3 > 0.28
    assert (acos.kind, acos.expected_to_date, acos.forecast, acos.at_risk) == ("ratio", D("0.25"), D("0.3"), True)


def test_item_paces_follow_a_year_of_history(world):
    shop, record, cards = world
    # 2025-11-02 .. 2026-10-31: 1 a day, 4 a day in ISO week 47 (2025-11-17 .. 23)
    peak = set(days(date(2025, 11, 17), date(2025, 11, 23)))
    db.session.add_all([fact(shop, record, "ordered_sales", "4" if day in peak else "1", day, "amazon_orders")
                        for day in days(date(2025, 11, 2), date(2026, 10, 31))])
    db.session.flush()
    gmv = items_by_key(cards[0])["gmv"]
    p = item_paces([gmv], today=TODAY)[gmv.id]
    # November's day weights (in 55ths): Nov 1 wk 44: 1, wk 45: 7, wk 46: 7, wk 47: 28, wk 48: 7,
    # Nov 30 wk 49: 1 -> 51; to Nov 10: 1 + 7 + 2 = 10. Expected 3,000 x 10 / 51, forecast 1,000 x 51 / 10
    assert p.expected_to_date == D("588.235294")
    assert p.forecast == D("5100")


def test_item_paces_no_data_is_none(world):
    _, _, cards = world
    gmv = items_by_key(cards[0])["gmv"]
    assert item_paces([gmv], today=date(2026, 10, 20))[gmv.id].status == "not_started"
    gmv.actual = None
    p = item_paces([gmv], today=TODAY)[gmv.id]
    assert (p.actual_to_date, p.forecast, p.at_risk, p.expected_to_date) == (None, None, False, D("1000"))


def test_item_paces_query_count_does_not_grow(world, app):
    _, _, cards = world
    one = [i.id for i in cards[0].items]
    both = one + [i.id for i in cards[1].items]
    db.session.expire_all()
    with QueryCounter(db.engine) as few:
        item_paces(one, today=TODAY)
    db.session.expire_all()
    with QueryCounter(db.engine) as more:
        assert len(item_paces(both, today=TODAY)) == 4
    assert few.count == more.count == 3


def test_pace_series_by_day_ends_at_the_tracked_actual(world):
    _, _, cards = world
    items = items_by_key(cards[0])
    series = pace_series(cards[0].items, today=TODAY)
    assert set(series) == {items["gmv"].id, items["acos"].id}
    rows = series[items["gmv"].id]
    assert [r[0] for r in rows] == days(START, TODAY)
    assert rows[0][1:] == (D("100"), D("100"))
    assert rows[2][1:] == (D("300"), D("300"))
    assert rows[-1][1] == items["gmv"].actual == D("1000")
    acos = series[items["acos"].id]
    assert {r[1] for r in acos} == {D("0.3")} and {r[2] for r in acos} == {D("0.25")}


def test_moved_since_last_week(world):
    _, _, cards = world
    items = items_by_key(cards[0])
    moved = moved_since(cards[0].items, today=TODAY)
    # a week before 10 Nov: 1-3 Nov, 3 days at 100 a day; ACoS the same 0.3 all along
    assert moved == {items["gmv"].id: (D("300"), D("1000")), items["acos"].id: (D("0.3"), D("0.3"))}
    assert moved_since(cards[0].items, today=date(2026, 11, 5))[items["gmv"].id] == (None, D("1000"))


def test_item_paces_take_a_select_of_ids(world):
    from sqlalchemy import select

    from kpiapp.models import ScorecardItem
    _, _, cards = world
    ids = select(ScorecardItem.id).where(ScorecardItem.scorecard_id.in_([c.id for c in cards]))
    assert len(item_paces(ids, today=TODAY)) == 4


def test_item_weights_are_kept_by_scope_and_period():
    """paced_items keeps each scope's day weights for the next items (`item_weights`' memo): an
    item gets its own scope's weights, never another scope's of the same stores or period."""
    from types import SimpleNamespace

    from kpiapp.tracking.paces import item_weights

    start, end = date(2026, 11, 1), date(2026, 11, 30)
    cycle = SimpleNamespace(period_start=start, period_end=end)
    weeks = range(1, 54)
    profiles = {(1, start): {w: D(w) for w in weeks}, (2, start): {w: D(54 - w) for w in weeks}}
    scopes = [[{"store_id": 1, "share_pct": "50"}, {"store_id": 2, "share_pct": "50"}],
              [{"store_id": 1, "share_pct": "80"}, {"store_id": 2, "share_pct": "20"}],
              [{"store_id": 1, "share_pct": "50"}, {"store_id": 2, "share_pct": "50"}],
              [{"store_id": 1}], [{"store_id": 3}]]
    memo = {}
    kept = [item_weights(SimpleNamespace(scope=scope), cycle, profiles, memo) for scope in scopes]
    alone = [item_weights(SimpleNamespace(scope=scope), cycle, profiles) for scope in scopes]
    assert kept == alone and len(memo) == 4
    assert kept[0] != kept[1] and kept[4] is None
