"""HR screens: KPI templates with the live weight total, cycles from creation to calibration."""
from datetime import date

import pytest

from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.appraisal import queries
from kpiapp.appraisal.routes import cycle_helpers
from kpiapp.extensions import db
from kpiapp.models import Cycle, KpiTemplate, Notification
from tests.appraisal.factories import HRFactory, make_team, make_template, walk_to
from tests.factories import PositionFactory, UserFactory

pytestmark = pytest.mark.rollback  # one transaction per test, rolled back (tests/conftest.py)

ROWS = {
    "items-1-name": "GMV",
    "items-1-kind": "metric",
    "items-1-metric_key": "gmv",
    "items-1-weight": "70",
    "items-1-rule_kind": "linear",
    "items-1-threshold": "80000",
    "items-1-target": "100000",
    "items-1-stretch": "120000",
    "items-1-cap": "120",
    "items-2-name": "Teamwork",
    "items-2-kind": "manual",
    "items-2-weight": "20",
    "items-2-cap": "5",
}


def test_template_create_with_live_weights_then_edit_and_copy(app, browser):
    hr = browser(HRFactory())
    position = PositionFactory(title="Amazon operator")
    live = hr.post("/kpi-templates/weights", ROWS, htmx=True).get_data(as_text=True)
    assert "Weights total: 90" in live and "they must total 100" in live and "<html" not in live
    refused = hr.post(
        "/kpi-templates/new", {**ROWS, "code": "ops", "name": "Ops", "position_id": position.id}
    )
    assert refused.status_code == 422 and "The weights must total 100." in refused.get_data(as_text=True)
    assert 'value="Teamwork"' in refused.get_data(as_text=True)  # the form keeps what was typed
    rows = {**ROWS, "items-2-weight": "30"}
    assert "✓" in hr.post("/kpi-templates/weights", rows, htmx=True).get_data(as_text=True)
    r = hr.post("/kpi-templates/new", {**rows, "code": "ops", "name": "Ops", "position_id": position.id})
    template = db.session.query(KpiTemplate).filter_by(code="ops").one()
    assert r.headers["Location"] == f"/kpi-templates/{template.id}"
    page = hr.page(f"/kpi-templates/{template.id}")
    assert "Amazon operator" in page and "Teamwork" in page and "GMV (ordered sales)" in page
    form = hr.page(f"/kpi-templates/{template.id}/edit")
    assert 'value="70"' in form and 'name="items-3-name"' in form  # existing rows plus blank ones
    hr.post(f"/kpi-templates/{template.id}/edit", {**rows, "name": "Ops v1b", "items-1-target": "105000"})
    db.session.refresh(template)
    assert template.name == "Ops v1b" and template.version == 1  # not used by a cycle: edited in place
    hr.post(f"/kpi-templates/{template.id}/copy", {"code": "ops-2", "name": "Ops copy"})
    assert (
        db.session.query(KpiTemplate).filter_by(code="ops-2").one().items[0].target
        == template.items[0].target
    )


def test_cycle_create_start_board_health_and_calibration(app, browser):
    hr_user = HRFactory()
    hr = browser(hr_user)
    position = PositionFactory()
    manager = UserFactory(position=None)
    people = [UserFactory(position=position, manager=manager) for _ in range(2)]
    make_template(hr_user, position)
    data = {
        "name": "2026-12",
        "kind": "monthly",
        "period_start": "2026-12-01",
        "period_end": "2026-12-31",
        "targets_due": "2026-12-05",
        "approval_due": "2020-01-01",
        "position_id": position.id,
        "grade-1-grade": "A",
        "grade-1-min_score": "80",
        "grade-1-max_share": "50",
        "grade-1-coefficient": "1.2",
        "grade-2-grade": "B",
        "grade-2-min_score": "0",
        "grade-2-coefficient": "1",
    }
    bad = hr.post("/cycles/new", {**data, "period_end": "2026-11-01"})
    assert bad.status_code == 422 and "The period ends before it starts." in bad.get_data(as_text=True)
    r = hr.post("/cycles/new", data)
    cycle = db.session.query(Cycle).filter_by(name="2026-12").one()
    assert cycle.grade_table[0] == {"grade": "A", "min_score": "80", "max_share": "0.5", "coefficient": "1.2"}
    board = hr.page(r.headers["Location"])
    assert "2 people selected by the participant rules" in board and "Start the cycle" in board

    r = hr.post(f"/cycles/{cycle.id}/start")
    assert "/progress" in r.headers["Location"]
    progress = hr.page(r.headers["Location"])
    assert "The cycle is running: 2 of 2 people have a scorecard." in progress and "every 1s" not in progress
    board = hr.page(f"/cycles/{cycle.id}")
    assert all(p.name in board for p in people) and "Draft" in board

    health = hr.page(f"/cycles/{cycle.id}/health")
    assert "Has not drafted targets" in health
    ids = [c.id for c in queries.cycle_scorecards(cycle.id)]
    before = db.session.query(Notification).count()
    r = hr.post(f"/cycles/{cycle.id}/remind", {"scorecard_id": ids, "back": f"/cycles/{cycle.id}/health"})
    assert r.headers["Location"] == f"/cycles/{cycle.id}/health"
    assert db.session.query(Notification).count() == before + 2

    # edit: deadlines change; the grade table is fixed once the cycle runs
    hr.post(
        f"/cycles/{cycle.id}/edit",
        {
            "name": "2026-12 (Dec)",
            "targets_due": "2026-12-08",
            "grade-1-grade": "Z",
            "grade-1-min_score": "0",
            "grade-1-coefficient": "9",
        },
    )
    db.session.refresh(cycle)
    assert (
        cycle.name == "2026-12 (Dec)"
        and str(cycle.targets_due) == "2026-12-08"
        and cycle.grade_table[0]["grade"] == "A"
    )


def test_calibration_view_shows_quota_breaches(app, browser):
    team = make_team(size=2)
    for person in team.people:
        walk_to(team, person, S.CALIBRATION, actual="120000", manager_score="5")
    page = browser(team.hr).page(f"/cycles/{team.cycle.id}/calibration")
    assert "over quota" in page  # two S grades out of two against a 10% quota
    assert all(p.name in page for p in team.people)


@pytest.mark.parametrize("locale, word", [("en", "overdue"), ("zh_CN", "逾期")])
def test_cycle_health_marks_overdue_people_with_a_text_badge(app, browser, locale, word):
    team = make_team(size=2)
    team.cycle.targets_due = date(2020, 1, 1)  # both scorecards are still drafts
    team.hr.locale = locale
    db.session.commit()
    page = browser(team.hr).page(f"/cycles/{team.cycle.id}/health")
    overdue = sum(row.overdue for row in cycle_helpers.health(team.cycle))
    assert overdue >= 2 and "⏰" not in page
    assert page.count(f'<span class="overdue-badge">{word}</span>') == overdue
