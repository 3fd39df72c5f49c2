"""A locked team for bonus tests: three people graded S, A and B (numbers in docs/bonus.md)."""
from decimal import Decimal as D

from kpiapp.appraisal.workflow import ScorecardState as S
from tests.appraisal.factories import make_team, walk_to

# GMV 110000 on threshold 80000 / target 100000 / stretch 120000: 110 points x 60%  = 66;
# teamwork manager score n of 5: n x 20 points x 40%. Totals 98 (S, 1.5), 90 (A, 1.2), 82 (B, 1.0).
SCORES = ("4", "3", "2")


def graded_team(lock=True):
    team = make_team(size=3)
    for person, score in zip(team.people, SCORES):
        walk_to(team, person, S.LOCKED if lock else S.CALIBRATION, manager_score=score)
    return team


BASES = (D("8000.00"), D("5000.00"), D("3333.33"))
