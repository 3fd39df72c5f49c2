"""Pages over a whole cycle grade cards from points summed in SQL (queries.cycle_point_sums);
the sum must be exact on SQLite too, where NUMERIC is a float: these six items add up in SQLite
3.40's floating-point SUM to 6916.4999…, which read as such would give 69.16 instead of
69.165 → 69.17. (It holds because SQLAlchemy reads a NUMERIC result back at the column's two
places, 6916.50; this test keeps it so.)"""
from decimal import Decimal

import pytest
from sqlalchemy import update

from kpiapp.appraisal import queries, scoring, services
from kpiapp.appraisal.scoring import GradeBand
from kpiapp.extensions import db
from kpiapp.models import ScorecardItem
from tests.appraisal.factories import make_team

pytestmark = pytest.mark.rollback

MANUAL = {"kind": "manual", "rule": {"kind": "manual", "scale_max": "5"}}
POINTS = {"A": ("60.98", "20"), "B": ("108.33", "10"), "C": ("93.64", "10"), "D": ("58.14", "25"),
          "E": ("91.34", "5"), "F": ("58.90", "30")}


def test_a_total_on_a_rounding_boundary_gets_the_grade_the_scorecard_gets():
    team = make_team(size=1, items=[{**MANUAL, "name": name, "weight": weight}
                                    for name, (_points, weight) in POINTS.items()])
    card = team.card(team.people[0])
    for item in card.items:
        db.session.execute(update(ScorecardItem).where(ScorecardItem.id == item.id)
                           .values(final_points=Decimal(POINTS[item.name][0])))
    db.session.commit()
    bands = [GradeBand("A", Decimal("69.17")), GradeBand("B", Decimal("0"))]
    total = scoring.total_score([(Decimal(p), Decimal(w)) for p, w in POINTS.values()])
    (row,) = queries.cycle_point_sums(team.cycle.id)
    assert total == Decimal("69.17")
    assert services.grade_from_sums(row, bands) == scoring.grade_for(total, bands) == "A"
