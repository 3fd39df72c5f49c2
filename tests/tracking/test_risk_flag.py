"""Issue 10: the stored at-risk flag (tracking/risk.py store_flags, docs/pace.md "The stored
flag") gives, wherever the dashboards read it, exactly what the live rule and the Python pace
give, after every kind of write that moves an input of the rule: the recompute, set_actual,
a raw UPDATE, review and final points, a target edit, a metric definition edit, a cycle date
edit, a lock, and days passing (forward and back)."""
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select, text, update

from kpiapp.appraisal import services
from kpiapp.appraisal.queries import latest_only
from kpiapp.appraisal.workflow import ScorecardState
from kpiapp.extensions import db
from kpiapp.metrics.services import DEFINITION_FIELDS, get_definition, revise_definition
from kpiapp.models import MetricFact, Scorecard, ScorecardItem
from kpiapp.tracking import services as tracking
from kpiapp.tracking.paces import paced_items
from kpiapp.tracking.risk import (bases, current_definitions, item_risks, risky_items, store_flags,
                                  stored_holds)
from tests.helpers import signed_in_client
from tests.web.test_pace_dashboards import END, START, TODAY, build

pytestmark = pytest.mark.rollback

C = ScorecardItem.__table__.c
TODAY_AT = datetime.combine(TODAY, datetime.min.time(), timezone.utc)


def cards_of(org):
    return latest_only(select(Scorecard.id).where(Scorecard.cycle_id == org.cycle.id))


def metric_ids(org):
    return db.session.execute(select(ScorecardItem.id).join(Scorecard).where(
        Scorecard.cycle_id == org.cycle.id, ScorecardItem.kind == "metric")).scalars().all()


def held(org, today):
    """The metric items whose stored flag the dashboards read on `today`."""
    basis, _others = bases(current_definitions(), org.cycle)
    return set(db.session.execute(select(ScorecardItem.id).where(
        ScorecardItem.id.in_(metric_ids(org)), stored_holds(basis, today))).scalars())


def assert_as_live(org, today):
    """The dashboards' at-risk items (stored where it holds, else the rule), every item's flag
    and those the team dashboard reads through the partial indexes, = the Python pace."""
    db.session.flush()
    risks = db.session.execute(item_risks(cards_of(org), org.cycle, today))
    sql = {row.item_id for row in risks if row.at_risk}
    found = db.session.execute(risky_items(cards_of(org).subquery("cards"), org.cycle, today)).all()
    python = {item.id for item, pace in paced_items(metric_ids(org), today) if pace.at_risk}
    assert sql == python, today
    assert sorted(row.item_id for row in found) == sorted(python), today  # each once
    return sql


def mixed(org):
    """An org whose items are at risk or not, by actual, with data days of every kind (none,
    before the period, days in, today, after today); flags stored on TODAY, all read."""
    items = [i for card in org.cards.values() for i in card.items if i.metric_key]
    midnight = datetime.combine(START, datetime.min.time(), timezone.utc)
    times = [None, midnight - timedelta(days=1), midnight + timedelta(days=4, hours=3),
             midnight + timedelta(days=(TODAY - START).days, hours=23), midnight + timedelta(days=12)]
    for n, item in enumerate(items):
        item.data_as_of = times[n % len(times)]
        item.actual = {"gmv": D(600) + n * 97, "acos": D("0.26") + D(n % 5) / 100}[item.metric_key]
    db.session.flush()
    assert store_flags(org.cycle, TODAY) == len(items)
    assert held(org, TODAY) == {i.id for i in items}
    risky = assert_as_live(org, TODAY)
    assert risky and risky != {i.id for i in items}
    return items


@pytest.fixture
def org(app):
    org = build(["Ann", "Bob", "Cid", "Dee", "Eve", "Fay"])
    org.items = mixed(org)
    return org


def turn_around(org, write):
    """Change each item's actual (and data time: today) through `write(item, actual)` so its
    flag flips on TODAY, then compare: without the trigger the old flags would be read."""
    risky = assert_as_live(org, TODAY)
    for item in org.items:
        at_risk = item.id in risky
        flipped = {"gmv": D(100000), "acos": D("0.01")} if at_risk else {"gmv": D(1), "acos": D("0.9")}
        write(item, flipped[item.metric_key])
    after = assert_as_live(org, TODAY)
    assert after == {i.id for i in org.items} - risky
    assert held(org, TODAY) == set()  # every flag emptied: the rule runs live
    store_flags(org.cycle, TODAY)
    assert held(org, TODAY) == {i.id for i in org.items} and assert_as_live(org, TODAY) == after


def test_the_stored_flags_equal_the_live_rule_and_last_only_when_the_data_day_has_passed(org):
    stored = dict(db.session.execute(select(ScorecardItem.id, C.risk_lasts).where(
        ScorecardItem.id.in_([i.id for i in org.items]))).all())
    for item in org.items:  # data on or before today: paced as of the data day from now on
        lasts = item.data_as_of is not None and item.data_as_of.date() <= TODAY
        assert bool(stored[item.id]) == lasts, item.data_as_of
    assert store_flags(org.cycle, TODAY) == 0  # nothing to write: every flag holds


def test_days_passing_forward_and_back(org):
    lasting = {i.id for i in org.items if i.data_as_of is not None and i.data_as_of.date() <= TODAY}
    for today in (TODAY + timedelta(days=1), TODAY + timedelta(days=3), END, END + timedelta(days=5),
                  TODAY - timedelta(days=1), START, START - timedelta(days=2)):
        assert held(org, today) == (lasting if today > TODAY else set()), today
        assert_as_live(org, today)
    tomorrow = TODAY + timedelta(days=1)
    store_flags(org.cycle, tomorrow)
    assert held(org, tomorrow) == {i.id for i in org.items}
    assert_as_live(org, tomorrow)


def test_set_actual_empties_the_flag(org):
    turn_around(org, lambda item, value: services.set_actual(item, value, TODAY_AT, {"source": "test"}))


def test_a_raw_update_empties_the_flag(org):
    def write(item, value):
        db.session.execute(update(ScorecardItem.__table__).where(C.id == item.id)
                           .values(actual=value, data_as_of=TODAY_AT))
        db.session.expire(item)
    turn_around(org, write)


def test_the_recompute_empties_the_flags_it_changes(org):
    db.session.execute(update(MetricFact).values(value=D(1))
                       .where(MetricFact.store_id == org.shop.id, MetricFact.measure == "ad_spend"))
    tracking.recompute_cycle(org.cycle.id, today=TODAY)
    db.session.expire_all()
    assert held(org, TODAY) != {i.id for i in org.items}
    assert_as_live(org, TODAY)
    store_flags(org.cycle, TODAY)
    assert_as_live(org, TODAY)


def test_review_and_final_points_keep_the_flags(org):
    for item in org.items:
        item.self_score, item.manager_score, item.final_points = D(3), D(4), D(90)
    db.session.flush()
    assert held(org, TODAY) == {i.id for i in org.items}  # no input of the rule moved
    assert_as_live(org, TODAY)


def test_a_target_and_threshold_edit_empties_the_flag(org):
    card = next(iter(org.cards.values()))
    acos = next(i for i in card.items if i.metric_key == "acos")
    gmv = next(i for i in card.items if i.metric_key == "gmv")
    services.update_items(card, card.person,
                          {acos.id: {"threshold": "0.95"}, gmv.id: {"target": "2", "threshold": "1"}})
    db.session.flush()
    assert not held(org, TODAY) & {acos.id, gmv.id}
    assert not assert_as_live(org, TODAY) & {acos.id, gmv.id}


def test_a_metric_definition_edit_silences_every_flag(org):
    before = assert_as_live(org, TODAY)
    old = get_definition("acos")
    values = {name: getattr(old, name) for name in DEFINITION_FIELDS}
    revise_definition("acos", {**values, "direction": "higher_better"}, None)  # the direction turns
    assert held(org, TODAY) == set()
    after = assert_as_live(org, TODAY)
    acos = {i.id for i in org.items if i.metric_key == "acos" and not (i.rule or {}).get("direction")}
    assert after != before or not acos
    store_flags(org.cycle, TODAY)
    assert held(org, TODAY) == {i.id for i in org.items}
    assert assert_as_live(org, TODAY) == after


def test_a_cycle_date_edit_silences_its_flags(org):
    org.cycle.period_end = END + timedelta(days=30)
    db.session.flush()
    assert held(org, TODAY) == set()
    assert_as_live(org, TODAY)


def test_a_locked_card_keeps_its_flags_and_is_left_alone(org):
    card = next(iter(org.cards.values()))
    db.session.execute(update(Scorecard).where(Scorecard.id == card.id).values(state=ScorecardState.LOCKED))
    later = TODAY + timedelta(days=2)
    store_flags(org.cycle, later)  # the lock trigger would refuse a write to the locked card's items
    mine = {i.id for i in card.items if i.metric_key}
    lasting = {i.id for i in card.items
               if i.metric_key and i.data_as_of is not None and i.data_as_of.date() <= TODAY}
    assert held(org, later) & mine == lasting
    assert_as_live(org, later)


def test_an_inserted_flag_is_emptied(org):
    card = next(iter(org.cards.values()))
    item = next(i for i in card.items if i.metric_key)
    db.session.execute(text(
        "INSERT INTO scorecard_item (scorecard_id, revision, seq, name, kind, tag, metric_key, weight, "
        "target, rule, actual, risk_flag, risk_day, risk_lasts, risk_basis) "
        "SELECT scorecard_id, 1, 99, 'copy', kind, tag, metric_key, 0, target, rule, actual, "
        ":flag, :day, :lasts, risk_basis FROM scorecard_item WHERE id = :id"),
        {"id": item.id, "flag": True, "day": TODAY, "lasts": True})
    copied = db.session.execute(select(C.risk_flag, C.risk_day).where(C.name == "copy")).one()
    assert tuple(copied) == (None, None)
    flagged = select(func.count()).where(C.risk_basis.is_not(None), C.name == "copy")
    assert db.session.execute(flagged).scalar() == 0


def test_a_card_moved_to_another_cycle_has_its_flags_emptied(org):
    """No service moves a card; raw SQL could, and its items' flags were computed with the
    first cycle's dates and basis (the dashboards of the second would skip them by index)."""
    card = next(iter(org.cards.values()))
    other = build(["Gil"], department=org.dept)
    db.session.execute(update(Scorecard).where(Scorecard.id == card.id).values(cycle_id=other.cycle.id))
    mine = [i.id for i in card.items if i.metric_key]
    flags = db.session.execute(select(C.risk_basis, C.risk_day).where(C.id.in_(mine))).all()
    assert flags and all(tuple(row) == (None, None) for row in flags)


def tables(html):
    return re.findall(r"<table.*?</table>", html, re.S)


def test_the_team_page_is_the_same_with_and_without_stored_flags(org, app, monkeypatch):
    """The team dashboard through its route, the date frozen as the dashboards' tests freeze it,
    with the flags stored on TODAY and with every flag emptied (all live), on TODAY and later."""
    url = f"/dashboards/team?cycle={org.cycle.id}"
    for day in (TODAY, TODAY + timedelta(days=3)):
        monkeypatch.setattr("kpiapp.dashboards.routes.team.utc_today", lambda day=day: day)
        assert held(org, day)
        stored = tables(signed_in_client(app, org.boss).get(url).get_data(as_text=True))
        db.session.execute(update(ScorecardItem.__table__).values(risk_basis=None)
                           .where(C.id.in_([i.id for i in org.items])))
        assert held(org, day) == set()
        live = tables(signed_in_client(app, org.boss).get(url).get_data(as_text=True))
        assert stored == live and len(stored) == 2, day
        risky = assert_as_live(org, day)
        assert risky and stored[1].count("<tr") == len(risky) + 1  # a row per item at risk, the head
        store_flags(org.cycle, TODAY)


def test_a_seasonal_item_is_paced_by_its_season_whatever_its_stored_flag(org):
    """An item whose store has a year of history follows its season profile (Python), also when
    its stored straight-line flag says "not at risk, lasting" and holds: the team dashboard
    reads such items by key (risky_items' seasonal branch), not through the partial indexes."""
    from kpiapp.models import ImportRecord
    from kpiapp.tracking.risk import profiled_stores

    straight = assert_as_live(org, TODAY)
    record = db.session.execute(select(ImportRecord).where(ImportRecord.store_id == org.shop.id)).scalar()
    day = START - timedelta(days=364)
    while day < START:  # the weeks of early November weigh ten times the rest of the year
        value = D(10) if (START - timedelta(days=371)) <= day <= (START - timedelta(days=350)) else D(1)
        db.session.add(MetricFact(store_id=org.shop.id, family="amazon_orders", business_date=day,
                                  period_end=day, sku="", ref="", measure="ordered_sales", value=value,
                                  currency="USD", import_id=record.id))
        day += timedelta(days=1)
    db.session.flush()
    assert profiled_stores(org.cycle) == [org.shop.id]
    lasting_safe = set(db.session.execute(select(ScorecardItem.id).where(
        ScorecardItem.id.in_([i.id for i in org.items]), C.risk_flag.is_(False),
        C.risk_lasts.is_(True))).scalars())
    seasonal = assert_as_live(org, TODAY)
    assert seasonal != straight
    assert (seasonal - straight) & lasting_safe  # found by key, not by their flag
    assert held(org, TODAY) >= lasting_safe
