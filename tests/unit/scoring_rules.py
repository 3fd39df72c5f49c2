"""Scoring rules shared by the scoring and presentation tests."""
from decimal import Decimal as D

from kpiapp.appraisal.scoring import Band, Direction, RuleKind, ScoringRule

HIGHER, LOWER = Direction.HIGHER_BETTER, Direction.LOWER_BETTER

SALES = ScoringRule(RuleKind.LINEAR, HIGHER, threshold=D(80), target=D(100), stretch=D(120))
ACOS = ScoringRule(
    RuleKind.LINEAR, LOWER, threshold=D("0.35"), target=D("0.25"), stretch=D("0.18")
)
LISTING_BANDS = ScoringRule(
    RuleKind.BANDS,
    bands=(
        Band(None, D(5), D(0)),
        Band(D(5), D(10), D(60)),
        Band(D(10), D(20), D(100)),
        # gap from 20 to 30 on purpose
        Band(D(30), None, D(110)),
    ),
)
ODR = ScoringRule(RuleKind.PASS_FAIL, LOWER, target=D("0.01"))
IN_STOCK = ScoringRule(RuleKind.PASS_FAIL, HIGHER, target=D("0.95"), pass_points=D(100))
TEAMWORK = ScoringRule(RuleKind.MANUAL, scale_max=D(5))
