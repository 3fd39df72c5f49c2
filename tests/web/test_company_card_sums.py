"""The company dashboard's attainment by department and the trend lines' targets, read in one
statement (`company.card_sums`: the cycle's latest cards' items read once, grouped by department
and by metric key), against the two statements they replaced (kept here as the reference), on the
generated org of test_dashboard_sums (items with and without points, shared stores, three teams),
with and without a department filter, after points are set and with a newer version of a card."""
from decimal import Decimal

import pytest
from flask import current_app
from sqlalchemy import case, distinct, event, func

from kpiapp.dashboards import company
from kpiapp.dashboards.filters import Filters
from kpiapp.extensions import db
from kpiapp.models import Scorecard, ScorecardItem, User
from tests.web.test_dashboard_sums import TODAY, generated_org

pytestmark = pytest.mark.rollback


def reference_departments(data):
    """department_attainment as it was: one grouped query over the cards and their items."""
    item, points = ScorecardItem, company.points_of(ScorecardItem)
    rows = db.session.execute(
        data.latest_cards(User.department_id, func.count(distinct(Scorecard.id)),
                          func.count(distinct(case((points.is_not(None), Scorecard.id)))),
                          func.sum(points * item.weight), func.sum(case((points.is_not(None), item.weight))))
        .outerjoin(item, item.scorecard_id == Scorecard.id).group_by(User.department_id)).all()
    return {dept: (people, scored, company.average(weighted, weights))
            for dept, people, scored, weighted, weights in rows}


def reference_targets(data):
    """item_targets as it was: one grouped query over the cards' items of the FAMILIES' keys."""
    item = ScorecardItem
    keys = [metric for _k, _l, metric in company.FAMILIES]
    targets = data.latest_cards(item.metric_key, func.sum(item.target), func.count(item.target))
    rows = db.session.execute(targets.join(item, item.scorecard_id == Scorecard.id)
                              .where(item.metric_key.in_(keys)).group_by(item.metric_key)).all()
    return {key: (Decimal(str(total)), count) for key, total, count in rows if count}


def compared(o, department=None):
    with current_app.test_request_context():
        data = company.CompanyData(Filters(cycle=o.team.cycle.id, department=department), o.team.cycle, TODAY)
        statements = []
        seen = lambda *_args: statements.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", seen)
        try:
            departments, targets = company.department_attainment(data), data.targets
        finally:
            event.remove(db.engine, "before_cursor_execute", seen)
        assert len(statements) == 1  # both from one statement
        assert departments == reference_departments(data)
        assert targets == reference_targets(data)
        return departments, targets


def test_attainment_by_department_and_the_targets_equal_the_two_statements_they_replaced(app):
    o = generated_org(seed=17)
    departments, targets = compared(o)
    assert len(departments) == 3 and any(a is not None for _p, _s, a in departments.values())
    assert any(scored < people for people, scored, _a in departments.values())  # some cards without points
    assert set(targets) == {"gmv", "acos"}  # units is not a trend family
    compared(o, department=o.depts[1].id)
    # points set on an item without any, a weight changed, and a newer version of one card
    item = next(i for i in db.session.query(ScorecardItem) if i.computed_points is None and i.final_points is None)
    item.final_points = Decimal("87.50")
    item.weight = Decimal("35.00")
    card = o.team.card(o.team.people[2])
    db.session.add(Scorecard(cycle_id=card.cycle_id, person_id=card.person_id, version=card.version + 1,
                             state=card.state))
    db.session.flush()
    compared(o)
    compared(o, department=o.depts[0].id)


def test_without_a_cycle_there_is_nothing_to_read(app):
    with current_app.test_request_context():
        data = company.CompanyData(Filters(), None, TODAY)
        assert company.card_sums(data) == ({}, {})
        assert company.department_attainment(data) == {} and data.targets == {}
