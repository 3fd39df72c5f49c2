"""The bonus table: bases, amounts, scaling to a budget, the freeze (docs/bonus.md)."""
from decimal import Decimal as D

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from kpiapp.appraisal import services as appraisal
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.bonus import services
from kpiapp.extensions import db
from kpiapp.models import AuditEvent, BonusLine
from tests.appraisal.factories import walk_to
from tests.bonus.factories import BASES, graded_team
from tests.conftest import PG_URL


@pytest.fixture
def team():
    return graded_team()


def with_bases(team):
    services.set_bases(team.cycle, team.hr, dict(zip([p.id for p in team.people], BASES)))
    db.session.commit()
    return team


def figures(table):
    rows = sorted(table.rows, key=lambda r: r.person_id)
    return [(r.grade, r.coefficient, r.base, r.amount, r.paid) for r in rows]


def test_amount_is_base_times_the_locked_coefficient(team):
    with_bases(team)
    table = services.table(team.cycle)
    assert figures(table) == [
        ("S", D("1.5"), D("8000.00"), D("12000.00"), D("12000.00")),
        ("A", D("1.2"), D("5000.00"), D("6000.00"), D("6000.00")),
        ("B", D("1.0"), D("3333.33"), D("3333.33"), D("3333.33")),
    ]
    assert (table.total_amount, table.total_paid, table.waiting, table.without_base) == (
        D("21333.33"), D("21333.33"), 0, 0)


def test_a_budget_scales_the_amounts_to_sum_exactly(team):
    with_bases(team)
    services.set_budget(team.cycle, team.hr, D("20000.00"))
    table = services.table(team.cycle)
    # exact shares in cents: 1125000.18, 562500.09, 312499.74; floors leave 1 cent for the largest
    # remainder (.74): 11250.00, 5625.00, 3125.00
    assert [r[4] for r in figures(table)] == [D("11250.00"), D("5625.00"), D("3125.00")]
    assert [r[3] for r in figures(table)] == [D("12000.00"), D("6000.00"), D("3333.33")]  # before
    assert (table.total_amount, table.total_paid) == (D("21333.33"), D("20000.00"))


def test_no_amount_before_the_scorecard_is_locked():
    team = graded_team(lock=False)
    walk_to(team, team.people[0], S.LOCKED, manager_score="4")
    with_bases(team)
    table = services.table(team.cycle)
    assert figures(table) == [
        ("S", D("1.5"), D("8000.00"), D("12000.00"), D("12000.00")),
        (None, None, D("5000.00"), None, None),
        (None, None, D("3333.33"), None, None),
    ]
    assert table.waiting == 2
    with pytest.raises(appraisal.ValidationError) as refused:
        services.freeze(team.cycle, team.hr)
    assert refused.value.code == "cycle_not_complete"


def test_bases_are_checked(team):
    assert services.parse_base("1,234.5") == (D("1234.50"), None)
    assert services.parse_base("") == (None, None)
    assert services.parse_base("-1")[1] == "Enter an amount of 0 or more."
    assert services.parse_base("1.234")[1] == "At most two decimals (cents)."
    assert services.parse_base("abc")[1] == "Not a number."
    assert services.parse_base("NaN")[1] == "Enter an amount of 0 or more."
    with pytest.raises(appraisal.ValidationError) as refused:
        services.set_bases(team.cycle, team.hr, {team.manager.id: D("100")})
    assert refused.value.code == "not_participant"
    with pytest.raises(appraisal.ForbiddenError):
        services.set_bases(team.cycle, team.manager, {team.people[0].id: D("100")})


def test_a_blank_base_removes_the_line(team):
    with_bases(team)
    p0, p1, p2 = team.people
    assert services.set_bases(team.cycle, team.hr, {p0.id: None, p1.id: D("5000")}) == 1  # p1 unchanged
    db.session.commit()
    assert {line.person_id for line in db.session.scalars(select(BonusLine))} == {p1.id, p2.id}


def test_import_checks_every_line_and_writes_nothing_on_a_problem(team):
    p0, p1, p2 = team.people
    data = (f"email,base\n{p0.email},8000\n{p1.email},-5\nnobody@example.com,10\n"
            f"{team.manager.email},10\n{p0.email},1\n{p2.email},\n").encode()
    plan = services.plan_import(team.cycle, data, "bases.csv")
    assert [(p.line, p.column, p.message) for p in plan.problems] == [
        (3, "base", "Enter an amount of 0 or more."),
        (4, "email", "No person with this e-mail."),
        (5, "email", "This person is not in the cycle."),
        (6, "email", "This e-mail appears twice in the file."),
        (7, "base", "A base amount is required."),
    ]
    assert db.session.scalar(select(BonusLine.id)) is None


def test_import_of_a_good_file(team):
    p0, p1, p2 = team.people
    data = f"\ufeffEmail,Base\n{p0.email},8000\n{p1.email},5000.00\n{p2.email},3333.33\n".encode()
    plan = services.plan_import(team.cycle, data, "bases.csv")
    assert plan.problems == []
    assert services.apply_import(team.cycle, team.hr, plan) == 3
    db.session.commit()
    assert figures(services.table(team.cycle))[2][2:4] == (D("3333.33"), D("3333.33"))
    assert {line.source for line in db.session.scalars(select(BonusLine))} == {"import"}


def test_import_needs_the_columns(team):
    plan = services.plan_import(team.cycle, b"mail,amount\nx,1\n", "bases.csv")
    assert [(p.line, p.column) for p in plan.problems] == [(1, "email,base")]


def test_freeze_writes_the_figures_and_then_nothing_changes(team):
    with_bases(team)
    services.set_budget(team.cycle, team.hr, D("20000.00"))
    services.freeze(team.cycle, team.hr)
    db.session.commit()
    lines = sorted(db.session.scalars(select(BonusLine)), key=lambda line: line.person_id)
    assert [(line.grade, line.coefficient, line.amount, line.paid) for line in lines] == [
        ("S", D("1.500"), D("12000.00"), D("11250.00")),
        ("A", D("1.200"), D("6000.00"), D("5625.00")),
        ("B", D("1.000"), D("3333.33"), D("3125.00")),
    ]
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "bonus.freeze")).one()
    assert '"total_paid":"20000.00"' in event.after_json
    for call in (lambda: services.set_bases(team.cycle, team.hr, {team.people[0].id: D("1")}),
                 lambda: services.set_budget(team.cycle, team.hr, D("1")),
                 lambda: services.freeze(team.cycle, team.hr)):
        with pytest.raises(services.BonusFrozenError) as refused:
            call()
        assert (refused.value.code, refused.value.status) == ("bonus_frozen", 409)


def test_a_frozen_table_reads_the_stored_figures(team):
    with_bases(team)
    services.freeze(team.cycle, team.hr)
    db.session.commit()
    assert [r[4] for r in figures(services.table(team.cycle))] == [D("12000.00"), D("6000.00"), D("3333.33")]
    assert services.payroll_rows(services.table(team.cycle))[0][3:] == ["S", "1.500", "8000.00", "12000.00",
                                                                         "12000.00"]


def test_freeze_with_a_budget_and_nothing_to_scale_is_refused(team):
    services.set_budget(team.cycle, team.hr, D("100"))
    assert services.table(team.cycle).nothing_to_scale
    with pytest.raises(appraisal.ValidationError) as refused:
        services.freeze(team.cycle, team.hr)
    assert refused.value.code == "nothing_to_scale"


def rejected(statement):
    with pytest.raises(IntegrityError) as caught:
        db.session.execute(text(statement))
        db.session.flush()
    assert "frozen" in str(caught.value).lower()
    db.session.rollback()


def test_the_database_refuses_changes_to_a_frozen_table(team):
    with_bases(team)
    services.freeze(team.cycle, team.hr)
    db.session.commit()
    cycle_id, person_id = team.cycle.id, team.people[0].id
    rejected(f"UPDATE bonus_line SET paid = 1 WHERE cycle_id = {cycle_id}")
    rejected(f"DELETE FROM bonus_line WHERE cycle_id = {cycle_id}")
    rejected("INSERT INTO bonus_line (cycle_id, person_id, base, source) "
             f"VALUES ({cycle_id}, {team.manager.id}, 1, 'typed')")
    rejected(f"UPDATE appraisal_cycle SET bonus_budget = 1 WHERE id = {cycle_id}")
    rejected(f"UPDATE appraisal_cycle SET bonus_frozen_at = NULL WHERE id = {cycle_id}")
    # the rest of a frozen cycle may change
    db.session.execute(text(f"UPDATE appraisal_cycle SET name = 'renamed' WHERE id = {cycle_id}"))
    db.session.commit()
    assert db.session.scalar(select(BonusLine.paid).where(BonusLine.person_id == person_id)) == D("12000.00")


def test_before_the_freeze_the_database_lets_hr_change_lines(team):
    with_bases(team)
    db.session.execute(text(f"UPDATE bonus_line SET base = 1 WHERE cycle_id = {team.cycle.id}"))
    db.session.commit()
    assert {line.base for line in db.session.scalars(select(BonusLine))} == {D("1.00")}


@pytest.mark.skipif(not PG_URL, reason="TRUNCATE triggers exist on PostgreSQL only")
def test_postgresql_refuses_to_truncate_a_frozen_bonus_table(team):
    with_bases(team)
    services.freeze(team.cycle, team.hr)
    db.session.commit()
    rejected("TRUNCATE bonus_line")
