"""The team dashboard's cold path against the code it replaced (docs/scaling.md, h-teamcold), on
the generated org of test_dashboard_sums (money in four currencies, days without a rate, two
report families, stores without data, items with and without actuals) with a year of history
for four stores: two USD stores blended in one scope, a EUR store whose year misses three
months, a GBP store sharing a scope with a store without history (not seasonal).

* the at-risk list's figures: plain rows, the definitions read once, the profiles kept from
  the seasonal items' pacing (`paces.Seasons`) and read only for stores that may have one,
  against `paces.paced_items` (ORM items, every store's year read) as the list used it;
* every metric item's Pace through `Seasons` against `paced_items`;
* the running sums of `pace.DayWeights` against the sums `pace._share` took before."""
from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from flask import current_app
from sqlalchemy import select

from kpiapp import presentation
from kpiapp.dashboards import team
from kpiapp.dashboards.filters import Filters
from kpiapp.extensions import db
from kpiapp.metrics.batch import load_formulas
from kpiapp.models import ImportRecord, ScorecardItem
from kpiapp.tracking import pace as pacing
from kpiapp.tracking.paces import Seasons, pace_loaded, paced_items, store_profiles
from kpiapp.tracking.risk import paced_rows, profiled_stores, risk_parts
from tests.web.test_dashboard_sums import START, TODAY, add_fact, days, generated_org

pytestmark = pytest.mark.rollback

MISSING = (date(2025, 12, 1), date(2026, 2, 28))  # GEN-DE's year has no sales in these months
DAYS = (date(2026, 10, 1), date(2026, 10, 15), date(2026, 11, 3), TODAY)


@pytest.fixture
def org(app):
    o = generated_org(seed=11)
    peak = set(days(date(2025, 10, 6), date(2025, 10, 26)))
    for store in o.stores[:4]:  # GEN-US1, GEN-US2, GEN-DE, GEN-UK
        record = db.session.execute(select(ImportRecord).where(ImportRecord.store_id == store.id)).scalar()
        for n, day in enumerate(days(START - timedelta(days=364), START - timedelta(days=1))):
            if store.code == "GEN-DE" and MISSING[0] <= day <= MISSING[1]:
                continue
            value = (D(7) if day in peak else D(1)) + D(n % 9) / 3 + D(store.id % 5)
            add_fact(store, record, "ordered_sales", value, day, "amazon_orders", store.currency)
    db.session.commit()
    o.profiled = frozenset(profiled_stores(o.team.cycle))
    assert len(o.profiled) == 4
    o.items = db.session.execute(select(ScorecardItem.id, ScorecardItem.name).join(ScorecardItem.scorecard)
                                 .where(ScorecardItem.kind == "metric").order_by(ScorecardItem.id)).all()
    return o


def old_at_risk_rows(first_risks, today, lang):
    """The at-risk list's rows as team.at_risk_panel made them before (ORM items, every store's year)."""
    currency = current_app.config["BASE_CURRENCY"]
    names = {item_id: name for item_id, name in first_risks}
    paced = {item.id: (item, p) for item, p in paced_items(list(names), today)}
    formulas = load_formulas({item.metric_key for item, _p in paced.values()})
    units = {key: definition.unit for key, (definition, _f, _m) in formulas.items()}
    rows = []
    for item_id in names:
        item, p = paced[item_id]
        unit = units.get(item.metric_key)
        rows.append({"person": names[item_id], "item": item.name,
                     "actual": presentation.in_unit(p.actual_to_date, unit, lang, currency),
                     "expected": presentation.in_unit(p.expected_to_date, unit, lang, currency),
                     "forecast": presentation.in_unit(p.forecast, unit, lang, currency),
                     "threshold": presentation.in_unit(p.limit, unit, lang, currency)})
    return rows


def seasonal_first(o, today):
    """A Seasons as the team dashboard leaves it to its at-risk list: after pacing the seasonal items."""
    seasons = Seasons(o.profiled)
    cards = select(ScorecardItem.scorecard_id).distinct()
    _at_risk, _definitions, _stale, in_season = risk_parts(cards, o.team.cycle, today, seasons)
    assert in_season is not None and seasons.profiles
    return seasons


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_the_at_risk_list_shows_what_the_orm_path_showed(org, app, lang):
    listed = [(item_id, f"Person {n}") for n, (item_id, _name) in enumerate(org.items)]
    with app.test_request_context():
        for today in DAYS:
            seasons = seasonal_first(org, today)
            panel = team.at_risk_panel(listed, len(listed), org.team.cycle, seasons, today, lang)
            assert panel.rows == old_at_risk_rows(listed, today, lang), today
            assert panel.rows and any(row["expected"] for row in panel.rows)


def test_the_team_dashboard_lists_the_same_figures(org, app):
    with app.test_request_context():
        for today in DAYS:
            view = team.team_dashboard(org.team.boss, org.team.cycle, Filters(), None, today, "en")
            people, at_risk = view.panels
            listed = [(row_id, row["person"]) for row_id, row in zip(listed_ids(org, at_risk), at_risk.rows)]
            assert at_risk.rows == old_at_risk_rows(listed, today, "en"), today
            python = [item.id for item, p in paced_items([i for i, _n in org.items], today) if p.at_risk]
            assert view.at_risk_people == len({card_of(i) for i in python}), today


def listed_ids(org, panel):
    """The item ids of the at-risk list's rows, in order (each row names its item and person)."""
    by_name = {}
    items = select(ScorecardItem).where(ScorecardItem.id.in_([i for i, _n in org.items]))
    for item in db.session.execute(items).scalars():
        by_name.setdefault((item.scorecard.person.name, item.name), []).append(item.id)
    return [by_name[(row["person"], row["item"])].pop(0) for row in panel.rows]


def card_of(item_id):
    return db.session.get(ScorecardItem, item_id).scorecard_id


def test_every_pace_through_seasons_equals_the_orm_path(org):
    ids = [item_id for item_id, _name in org.items]
    for today in DAYS:
        seasons = seasonal_first(org, today)
        rows = paced_rows(ScorecardItem.id.in_(ids), org.team.cycle)
        new = [(item.id, p) for item, p in pace_loaded(rows, today, seasons=seasons)]
        assert new == [(item.id, p) for item, p in paced_items(ids, today)], today
        assert any(p.elapsed_share != D(p.days_elapsed) / p.period_days for _i, p in new)  # seasonal ones


def test_profiles_are_read_only_for_stores_that_may_have_one(org):
    rows = paced_rows(ScorecardItem.id.in_([i for i, _n in org.items]), org.team.cycle)
    everyone = store_profiles(rows)
    known = {}
    assert store_profiles(rows, org.profiled, known) == everyone
    assert known == everyone and sum(p is not None for p in everyone.values()) == 4
    again = store_profiles(rows, frozenset(), known)  # all known: nothing read, nothing changed
    assert again == everyone


def test_running_sums_equal_the_sums_of_each_share(org):
    rows = paced_rows(ScorecardItem.id.in_([i for i, _n in org.items]), org.team.cycle)
    cycle = org.team.cycle
    for profile in filter(None, store_profiles(rows).values()):
        weights = pacing.day_weights(profile, cycle.period_start, cycle.period_end)
        assert isinstance(weights, pacing.DayWeights)
        days_in = (cycle.period_end - cycle.period_start).days + 1
        for elapsed in range(days_in + 2):
            before = sum(weights[:elapsed], D(0)) / sum(weights, D(0))
            assert pacing._share(elapsed, days_in, weights) == before
            assert pacing._share(elapsed, days_in, list(weights)) == before
