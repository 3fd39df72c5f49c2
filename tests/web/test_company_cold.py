"""The company dashboard's first build after a write, made cheaper (issue 10, h-cold3): the per-head
ranking reads GMV's sum without evaluating the formula, the heads and the owning departments in one
statement, the trend targets by an index on the metric key. Each is compared with the path it
replaced on the generated org of test_dashboard_sums (shares between departments, money in four
currencies with days missing a rate, stores without data or without a measure), also with an
archived month and with a GMV formula that is not one measure."""
from datetime import date
from decimal import Decimal
from functools import partial
from types import SimpleNamespace

import pytest
from flask import current_app
from sqlalchemy import event, func, inspect, select, text

from kpiapp.dashboards import company
from kpiapp.dashboards.filters import Filters
from kpiapp.extensions import db
from kpiapp.metrics import fact_day
from kpiapp.models import Department, Role, StoreOwner, User
from tests.conftest import PG_URL
from tests.factories import DepartmentFactory, UserFactory
from tests.web.test_dashboard_sums import TODAY, generated_org

pytestmark = pytest.mark.rollback


def old_heads(data):
    """The two statements `company.department_heads` replaced."""
    heads = dict(db.session.execute(select(User.department_id, func.count(User.id)).where(company.staff())
                                    .group_by(User.department_id)).all())
    shares = (select(StoreOwner.store_id.label("store_id"), User.department_id.label("group_id"))
              .join(User, User.id == StoreOwner.person_id)
              .where(StoreOwner.store_id.in_(data.store_ids()),
                     User.department_id.in_([dept_id for dept_id, _name in data.departments]))
              .group_by(StoreOwner.store_id, User.department_id))
    owning = set(db.session.execute(select(shares.subquery().c.group_id).distinct()).scalars())
    return heads, owning


def panel(o, monkeypatch, old, **filters):
    """The per-head department panel as built now, or (old) with the ranking evaluating GMV's
    formula and the heads read by the two statements; [the months GMV was evaluated for]."""
    evaluated = []
    figure = company.CompanyData.figure

    def counted(self, metric, sums, first, last):
        evaluated.append(metric)
        return figure(self, metric, sums, first, last)

    with monkeypatch.context() as patch:
        patch.setattr(company.CompanyData, "figure", counted)
        if old:
            patch.setattr(company, "gmv_reader", lambda data: partial(data.figure, "gmv"))
            patch.setattr(company, "department_heads", old_heads)
        with current_app.test_request_context():
            data = company.CompanyData(Filters(cycle=o.team.cycle.id, **filters), o.team.cycle, TODAY)
            built = company.per_head_department_panel(data)
    return built, evaluated


def more_departments(o):
    """Eight more departments (eleven in all), each with one owner of a share of a store; one of
    them without active staff, and a department of people who own no store."""
    for n in range(8):
        person = UserFactory(role=Role.employee, department=DepartmentFactory(name=f"Dept {n:02d}"))
        person.active = n != 3
        db.session.add(StoreOwner(store=o.stores[n % len(o.stores)], person=person, share_pct=Decimal("10")))
    UserFactory(role=Role.employee, department=DepartmentFactory(name="No stores"))
    db.session.commit()


@pytest.mark.parametrize("ranked", [company.RANKED, 2])
def test_the_per_head_ranking_gives_the_old_rows_without_evaluating_gmv_for_every_department(
        app, monkeypatch, ranked):
    """RANKED 2 of eleven departments: the ranking cuts (its note says so); default: every one
    shown. GMV is evaluated only for the rows shown, not for every department and month."""
    o = generated_org(seed=19)
    more_departments(o)
    monkeypatch.setattr(company, "RANKED", ranked)
    for filters in ({}, {"platform": "amazon"}, {"department": o.depts[1].id}):
        new, evaluated = panel(o, monkeypatch, old=False, **filters)
        old, evaluated_before = panel(o, monkeypatch, old=True, **filters)
        assert (new.rows, new.note) == (old.rows, old.note), filters
        assert evaluated.count("gmv") == len(new.rows)  # the shown rows' GMV, nothing else
        assert evaluated_before.count("gmv") > len(old.rows) > 0  # the old ranking evaluated every month
        if not filters:
            shown = {row["department"] for row in new.rows}
            assert ranked != 2 or (len(shown) == 2 * ranked and "of" in new.note)
            assert any(row["gmv"] is not None for row in new.rows)


def test_the_per_head_ranking_gives_the_old_rows_with_an_archived_month(app, monkeypatch):
    """October archived (fact_day.forget_month, as partitions.detach_month calls it): its sums
    left fact_day, fact_pick and fact_month; the ranking and the rows follow the same sums."""
    o = generated_org(seed=23)
    more_departments(o)
    monkeypatch.setattr(company, "RANKED", 2)
    fact_day.forget_month(db.session.connection(), date(2026, 10, 1), date(2026, 10, 31))
    new, _evaluated = panel(o, monkeypatch, old=False)
    old, _before = panel(o, monkeypatch, old=True)
    assert (new.rows, new.note) == (old.rows, old.note)
    assert {row["gmv"] for row in new.rows if row["month"] == "2026-10"} == {None}
    assert any(row["gmv"] is not None for row in new.rows if row["month"] == "2026-11")


def test_the_gmv_reader_equals_figure_on_every_sum_and_falls_back_to_it_for_a_formula(app):
    """Every (department, month) sum of the per-head panel: a missing rate (EUR), no data, shares
    of a store between departments. A GMV formula that is not one measure takes `figure`."""
    o = generated_org(seed=29)
    with current_app.test_request_context():
        data = company.CompanyData(Filters(cycle=o.team.cycle.id), o.team.cycle, TODAY)
        shares = (select(StoreOwner.store_id.label("store_id"), StoreOwner.person_id.label("group_id"),
                         (StoreOwner.share_pct / 100).label("share")))
        sums = company.per_head_sums(data, shares)
        read = company.gmv_reader(data)
        assert not isinstance(read, partial)
        spans = company.months(data.first, data.last)
        found = [(sums.get((person, f"{first:%Y-%m}"), {}), first, last)
                 for person in {key[0] for key in sums} | {-1} for first, last in spans]
        values = [read(*args) for args in found]
        assert values == [data.figure("gmv", *args) for args in found]
        assert None in values and any(value is not None for value in values)
        assert any(sums_.get("ordered_sales", (None, 0, 0))[2] for sums_, _f, _l in found)  # a missing rate
        definition, formula, measures = data.formulas["gmv"]
        data.formulas["gmv"] = (SimpleNamespace(formula="ordered_sales * 1", unit=definition.unit),
                                formula, measures)
        assert isinstance(company.gmv_reader(data), partial)


def test_department_heads_equal_the_two_statements_they_replace(app):
    o = generated_org(seed=31)
    more_departments(o)
    for filters in ({}, {"platform": "shopee"}, {"store": o.stores[2].id}, {"department": o.depts[0].id}):
        with current_app.test_request_context():
            data = company.CompanyData(Filters(cycle=o.team.cycle.id, **filters), o.team.cycle, TODAY)
            heads, owning = company.department_heads(data)
            ids = {dept_id for dept_id, _name in data.departments}
            expected_heads, expected_owning = old_heads(data)
            assert heads == expected_heads
            assert owning & ids == expected_owning, filters
    no_stores = db.session.execute(select(Department.id).where(Department.name == "No stores")).scalar()
    assert heads[no_stores] == 1 and no_stores not in owning


def test_the_items_have_an_index_by_metric_key_for_the_trend_targets(app):
    """The trend targets read the items of four metric keys by it (0040), not every latest card's
    items through the card index."""
    indexes = {index["name"]: index for index in inspect(db.engine).get_indexes("scorecard_item")}
    assert indexes["ix_scorecard_item_metric_key"]["column_names"] == ["metric_key", "scorecard_id"]


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL only: SQLite has no planner settings")
def test_the_shown_stores_attainment_is_planned_for_probes_and_the_settings_put_back(app):
    """The 20 shown stores' attainment runs with the all-stores page's planner settings (no
    parallel workers, an index probe priced near a sequential read: tracking.risk.PROBES), and
    the build's other statements keep theirs; the figures are test_dashboard_sums'."""
    o = generated_org(seed=37)
    seen = []

    def record(_conn, _cursor, statement, parameters, _context, _many):
        seen.append((statement, parameters))

    with current_app.test_request_context():
        data = company.CompanyData(Filters(cycle=o.team.cycle.id), o.team.cycle, TODAY)
        setting = "SELECT current_setting('random_page_cost'), current_setting('max_parallel_workers_per_gather')"
        before = db.session.execute(text(setting)).one()
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            found = company.store_attainment(data, [store.id for store in o.stores])
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        assert db.session.execute(text(setting)).one() == before
    assert found and any(attainment is not None for _n, attainment, _r in found.values())
    statements = [statement for statement, _p in seen]
    attainment = next(n for n, statement in enumerate(statements) if "AS items" in statement and "at_risk" in statement)
    assert "set_config" in statements[attainment - 1] and "set_config" in statements[attainment + 1]
    assert {str(value) for value in seen[attainment - 1][1].values()} >= {"random_page_cost", "1.1",
                                                                            "max_parallel_workers_per_gather", "0"}
