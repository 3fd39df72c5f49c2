"""KPI templates (versioned, copied, stock) and starting a cycle."""

from datetime import date

import pytest

from kpiapp import jobs
from kpiapp.appraisal import services
from kpiapp.appraisal.templates_stock import STOCK_TEMPLATES, seed_stock_templates
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from kpiapp.models import JobRun, KpiTemplate, Scorecard
from tests.appraisal.factories import ITEMS, HRFactory, make_team, make_template, walk_to
from tests.factories import ClientUserFactory, DepartmentFactory, PositionFactory, StoreOwnerFactory, UserFactory

pytestmark = pytest.mark.rollback  # one transaction per test, rolled back (tests/conftest.py)


def error_code(call):
    with pytest.raises(services.AppraisalError) as caught:
        call()
    db.session.rollback()
    return caught.value.code


def test_template_validation():
    hr = HRFactory()
    bad_weights = [dict(ITEMS[0], weight="50"), ITEMS[1]]
    assert (
        error_code(lambda: services.create_template(hr, code="a", name="A", items=bad_weights))
        == "weights_not_100"
    )
    unknown = [dict(ITEMS[0], metric_key="likes"), ITEMS[1]]
    assert (
        error_code(lambda: services.create_template(hr, code="a", name="A", items=unknown)) == "invalid_value"
    )
    disordered = [dict(ITEMS[0], threshold="130000"), ITEMS[1]]
    assert (
        error_code(lambda: services.create_template(hr, code="a", name="A", items=disordered))
        == "linear_order"
    )
    manual_as_linear = [ITEMS[0], dict(ITEMS[1], rule={"kind": "linear"})]
    assert (
        error_code(lambda: services.create_template(hr, code="a", name="A", items=manual_as_linear))
        == "invalid_rule"
    )
    assert (
        error_code(lambda: services.create_template(UserFactory(), code="a", name="A", items=ITEMS))
        == "forbidden"
    )


def test_metric_direction_comes_from_the_catalog():
    template = make_template(
        HRFactory(),
        items=[
            {
                "kind": "metric",
                "metric_key": "acos",
                "name": "ACoS",
                "weight": "100",
                "rule": {"kind": "linear"},
            }
        ],
    )
    item = template.items[0]
    assert item.rule["direction"] == "lower_better" and item.target is None  # target left for each person


def test_editing_a_template_in_use_creates_a_version_the_cycle_ignores():
    team = make_team(size=1)
    template, hr = team.template, team.hr
    new = services.edit_template(
        template, hr, items=[dict(ITEMS[0], target="150000", stretch="160000"), ITEMS[1]]
    )
    db.session.commit()
    assert (new.version, new.code, new.is_current, new.position_id) == (
        2,
        template.code,
        True,
        team.position.id,
    )
    assert not template.is_current and template.items[0].target == 100000
    late = UserFactory(position=team.position, manager=team.manager)
    services.start_cycle(team.cycle.id, hr.id)
    db.session.commit()
    assert team.card(late).template_id == template.id  # the cycle keeps the version it started with
    assert error_code(lambda: services.edit_template(template, hr, name="old")) == "not_current"
    unused = make_template(hr)
    assert services.edit_template(unused, hr, name="Renamed").id == unused.id


def test_copy_template():
    hr = HRFactory()
    original = make_template(hr, PositionFactory())
    copy = services.copy_template(original, hr, code="copy", name="Copy")
    db.session.commit()
    assert copy.id != original.id and copy.position_id is None and copy.version == 1
    assert [(i.name, i.weight, i.target, i.rule) for i in copy.items] == [
        (i.name, i.weight, i.target, i.rule) for i in original.items
    ]


def test_stock_templates_are_valid_and_assigned():
    hr = HRFactory()
    positions = {
        t: PositionFactory(title=t) for t in ("Amazon operations specialist", "Advertising specialist")
    }
    created = seed_stock_templates(hr, positions)
    db.session.commit()
    assert set(created) == {spec["code"] for spec in STOCK_TEMPLATES}
    assert created["amazon-ops"].position_id == positions["Amazon operations specialist"].id
    assert created["purchasing"].position_id is None  # position does not exist here
    growth = created["new-hire-growth"]
    assert all(i.kind == "manual" for i in growth.items) and "Day 7" in growth.items[0].name
    assert sum(i.weight for i in growth.items) == 100


def test_start_cycle_resolves_participants_and_is_idempotent():
    hr = HRFactory()
    parent = DepartmentFactory()
    child = DepartmentFactory(parent=parent)
    sales, service = PositionFactory(), PositionFactory()
    make_template(hr, sales)
    growth = make_template(hr, code="growth")
    in_child = UserFactory(department=child, position=sales)
    no_template = UserFactory(department=parent, position=PositionFactory())
    by_position = UserFactory(department=DepartmentFactory(), position=sales)
    new_hire = UserFactory(department=DepartmentFactory(), position=service)
    owner = StoreOwnerFactory(person=in_child, share_pct=40)
    cycle = services.create_cycle(
        hr,
        name="2026-11",
        kind="monthly",
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
        deadlines={"targets_due": date(2026, 11, 5)},
        participants=[
            {"department_id": parent.id},
            {"position_id": sales.id},
            {"person_id": new_hire.id, "template_id": growth.id},
        ],
    )
    UserFactory(department=child, position=sales, active=False)  # not selected, not counted
    ClientUserFactory(department=parent)
    assert services.count_participants(cycle) == len(services.resolve_participants(cycle)) == 4
    progress = []
    report = services.start_cycle(
        cycle.id, hr.id, progress=lambda done, total: progress.append((done, total))
    )
    db.session.commit()
    assert len(report.created) == 3 and report.skipped == [no_template.id] and progress[-1] == (4, 4)
    cards = {c.person_id: c for c in db.session.query(Scorecard).filter_by(cycle_id=cycle.id)}
    assert set(cards) == {in_child.id, by_position.id, new_hire.id}
    assert cards[new_hire.id].template_id == growth.id
    assert cards[in_child.id].items[0].scope == [{"store_id": owner.store_id, "share_pct": "40.00"}]
    assert cards[in_child.id].items[1].scope is None  # manual item
    assert cycle.status == "running"

    again = services.start_cycle(cycle.id, hr.id)
    run = jobs.launch(jobs.create("cycle_start", "cycle", cycle.id, hr.id))  # in-process: same code path
    assert db.session.get(JobRun, run.id).status == "done"
    assert again.created == [] and again.existing == 3
    assert db.session.query(Scorecard).filter_by(cycle_id=cycle.id).count() == 3


def test_cycle_validation():
    hr = HRFactory()
    args = dict(name="x", kind="monthly", period_start=date(2026, 11, 1), period_end=date(2026, 11, 30))
    assert error_code(lambda: services.create_cycle(hr, **{**args, "kind": "weekly"})) == "invalid_value"
    assert (
        error_code(lambda: services.create_cycle(hr, **{**args, "period_end": date(2026, 10, 1)}))
        == "invalid_period"
    )
    assert (
        error_code(
            lambda: services.create_cycle(
                hr, **args, grade_table=[{"grade": "A", "min_score": "80"}, {"grade": "A", "min_score": "60"}]
            )
        )
        == "duplicate_grade"
    )
    assert error_code(lambda: services.create_cycle(hr, **args, participants=[{}])) == "invalid_value"
    assert db.session.query(KpiTemplate).count() == 0


def test_distribution_check_counts_quota_violations():
    team = make_team(size=3)
    for person in team.people:
        walk_to(team, person, S.CALIBRATION)
    result = services.cycle_distribution(team.cycle.id)
    assert result["counts"]["S"] == 3 and result["graded"] == 3
    assert [v.grade for v in result["violations"]] == ["S"]  # S is capped at 10%


def test_close_cycle_only_when_every_scorecard_is_locked():
    team = make_team(size=1)
    assert error_code(lambda: services.close_cycle(team.cycle, team.hr)) == "cycle_not_complete"
    walk_to(team, team.people[0], S.LOCKED)
    services.close_cycle(team.cycle, team.hr)
    db.session.commit()
    assert team.cycle.status == "closed"
