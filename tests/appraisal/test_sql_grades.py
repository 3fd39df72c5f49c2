"""Calibration grades cards in SQL (queries.card_grade, issue 10): card by card it gives the grade
services.grade_from_sums gives from the summed row, and the grade the scorecard itself gives
(cycle_helpers.grade_now: the stored grade once locked, else services.current_result), on
boundary totals: x.xx5 (ROUND_HALF_UP, away from zero), four-place sums from fractional weights,
negative totals, tied bands, and the locked / weights != 100 / unscored / calibrated branches.
Run on SQLite (float sums) and PostgreSQL (exact numeric)."""
from collections import Counter
from decimal import Decimal

import pytest
from sqlalchemy import delete, update

from kpiapp.appraisal import queries, services
from kpiapp.appraisal.routes.cycle_helpers import grade_now
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from kpiapp.models import Cycle, Scorecard, ScorecardItem, User
from tests.appraisal.factories import make_team
from tests.factories import DepartmentFactory

pytestmark = pytest.mark.rollback

MANUAL = {"kind": "manual", "rule": {"kind": "manual", "scale_max": "5"}}
ITEMS = [{**MANUAL, "name": name, "weight": weight}
         for name, weight in (("X", "40"), ("Y", "30"), ("Z", "30"))]
# min_score 69.165 is reached from 69.17 (totals are in cents); B and B2 tie (B, listed first, wins)
TABLE = [{"grade": "S", "min_score": "95"}, {"grade": "A", "min_score": "69.165"},
         {"grade": "B", "min_score": "50"}, {"grade": "B2", "min_score": "50"},
         {"grade": "C", "min_score": "0"}, {"grade": "N", "min_score": "-1.00"}]
FINE = ("0.01", "49.99", "50.00")  # total = T + (a - T) / 10000 when the points are (a, T, T)


def boundary_cases():
    """Points (T + d, T, T) on FINE weights: totals T + d/10000, around every band's cents."""
    cases = []
    for edge in ("69.17", "50.00", "0.00", "-1.00"):
        for d in ("50.00", "49.99", "0", "-49.99", "-50.00", "-50.01"):
            points = (str(Decimal(edge) + Decimal(d)), edge, edge)
            cases.append({"weights": FINE, "points": points})
    return cases


CASES = boundary_cases() + [
    {"weights": ("40", "30", "30"), "points": ("50", "50", "50")},  # tie: B
    {"weights": ("40", "30", "30"), "points": ("69.17", "69.16", "69.17")},  # 69.167 → 69.17: A
    {"weights": ("40", "30", "30"), "points": ("-3", "-2", "-1")},  # below every band
    {"weights": ("40", "30", "30"), "points": ("99", "99", "99"), "calibrated": "C"},
    {"weights": ("40", "30", "30"), "points": ("99", "99", "99"), "calibrated": ""},  # '' is no grade
    {"weights": ("40", "30", "30"), "points": ("99", None, "99"), "calibrated": "C"},  # unscored, calibrated
    {"weights": ("40", "30", "30"), "points": ("99", None, "99")},  # unscored
    {"weights": ("40", "30", "29"), "points": ("99", "99", "99"), "calibrated": "A"},  # weights 99
    {"weights": ("40", "30", "31"), "points": ("99", "99", "99")},  # weights 101
    {"weights": ("40", "30", "29"), "points": ("1", None, "1"), "state": S.LOCKED, "grade": "A"},
    {"weights": ("40", "30", "30"), "points": ("99", "99", "99"), "state": S.LOCKED, "grade": None},
    {"weights": ("40", "30", "30"), "points": ("99", "99", "99"), "state": S.LOCKED, "grade": "C",
     "calibrated": "A"},
    {"weights": ("33.33", "33.33", "33.34"), "points": ("60.98", "108.33", "58.90")},
    {"weights": ("33.33", "33.33", "33.34"), "points": ("69.17", "69.17", "69.15")},  # 69.163334
    {"weights": None},  # no items
]


def build(cases):
    """One scorecard per case, in a cycle graded by TABLE; returns the team."""
    team = make_team(size=len(cases), items=ITEMS)
    db.session.execute(update(Cycle).where(Cycle.id == team.cycle.id).values(grade_table=TABLE))
    for person, case in zip(team.people, cases):
        card = team.card(person)
        if case["weights"] is None:
            db.session.execute(delete(ScorecardItem).where(ScorecardItem.scorecard_id == card.id))
        else:
            for item, weight, points in zip(sorted(card.items, key=lambda i: i.name), case["weights"],
                                            case["points"]):
                db.session.execute(update(ScorecardItem).where(ScorecardItem.id == item.id).values(
                    weight=Decimal(weight), final_points=None if points is None else Decimal(points)))
        db.session.execute(update(Scorecard).where(Scorecard.id == card.id).values(
            state=case.get("state", S.MANAGER_REVIEW), grade=case.get("grade"),
            calibrated_grade=case.get("calibrated")))
    db.session.commit()
    db.session.expire_all()
    return team


def test_sql_grades_agree_with_grade_from_sums_and_with_the_scorecard_card_by_card():
    team = build(CASES)
    bands = services.grade_bands(TABLE)
    cards = sorted((team.card(p) for p in team.people), key=lambda c: c.id)
    by_sql = queries.cycle_card_grades(team.cycle.id, bands)
    by_sums = [services.grade_from_sums(row, bands) for row in queries.cycle_point_sums(team.cycle.id)]
    assert [card_id for card_id, _grade in by_sql] == [c.id for c in cards]
    assert [grade for _id, grade in by_sql] == by_sums == [grade_now(c) for c in cards]


def test_the_boundary_cases_give_the_grades_worked_out_by_hand():
    team = build(CASES)
    grades = [grade for _id, grade in queries.cycle_card_grades(team.cycle.id, services.grade_bands(TABLE))]
    # per edge T, the points T + 50.00, + 49.99, + 0, - 49.99, - 50.00, - 50.01:
    # totals T + 0.005, + 0.004999, + 0, - 0.004999, - 0.005, - 0.005001
    assert grades[:24] == ["A", "A", "A", "A", "A", "B",  # 69.165 → 69.17 reaches A, 69.164999 → 69.16
                           "B", "B", "B", "B", "B", "C",
                           "C", "C", "C", "C", "N", "N",  # -0.004999 → 0.00, but -0.005 → -0.01
                           "N", "N", "N", "N", None, None]  # -1.005 → -1.01: below every band
    assert grades[24:] == ["B", "A", None, "C", "S", "C", None, None, None, "A", None, "C", "A", "B", None]


def test_grade_counts_are_per_team_and_grade_and_match_the_cards():
    team = build(CASES)
    other = DepartmentFactory()
    for person in team.people[::3]:
        db.session.execute(update(User).where(User.id == person.id).values(department_id=other.id))
    for person in team.people[1::5]:
        db.session.execute(update(User).where(User.id == person.id).values(department_id=None))
    db.session.commit()
    db.session.expire_all()
    bands = services.grade_bands(TABLE)
    expected = Counter()
    for person in team.people:
        grade = grade_now(team.card(person))
        if grade is not None:
            expected[(person.department_id, grade)] += 1
    rows = queries.cycle_grade_counts(team.cycle.id, bands)
    assert Counter({(dept, grade): n for dept, _name, grade, n in rows}) == expected
    assert len(rows) == len(expected)
    only = queries.cycle_grade_counts(team.cycle.id, bands, department_id=other.id)
    assert {(grade, n) for _dept, _name, grade, n in only} == {(g, n) for (d, g), n in expected.items()
                                                               if d == other.id}
