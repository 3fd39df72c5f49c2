"""Read models for the HR cycle screens: board, health, calibration."""

from collections import Counter
from datetime import date

from kpiapp.appraisal import scoring, services
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.appraisal import queries
from kpiapp.appraisal.routes.common import due_date

# cycle-health stages: the states in which a person still owes the step
STAGES = [
    ("draft", (S.DRAFT,)),
    ("submit", (S.DRAFT, S.RETURNED)),
    ("approve", (S.SUBMITTED, S.HR_APPROVAL)),
    ("self_review", (S.SELF_REVIEW,)),
    ("manager_review", (S.MANAGER_REVIEW,)),
    ("calibrate", (S.CALIBRATION,)),
]


def department_of(card):
    return card.person.department.name if card.person.department else "—"


def board(cycle_id):
    """{department: {state: [cards]}} and the states present, for the cycle board."""
    cards = queries.cycle_scorecards(cycle_id)
    table = {}
    for card in cards:
        table.setdefault(department_of(card), {}).setdefault(S(card.state), []).append(card)
    states = [s for s in S if any(s in row for row in table.values())]
    return cards, dict(sorted(table.items())), states


def health(cycle, today=None):
    """[(stage, cards still owing it, cards overdue)] for the cycle-health view."""
    today = today or date.today()
    cards = queries.cycle_scorecards(cycle.id)
    result = []
    for stage, states in STAGES:
        owing = [c for c in cards if c.state in states]
        overdue = [c for c in owing if due_date(c) is not None and due_date(c) < today]
        result.append((stage, owing, overdue))
    return result


def grade_now(card):
    if card.is_locked:
        return card.grade
    try:
        return services.current_result(card)[1]
    except (scoring.ScoringError, services.AppraisalError):
        return None


def calibration(cycle):
    """Per team: grade counts and quota violations; plus the cards HR may adjust."""
    bands = services.grade_bands(cycle.grade_table)
    cards = queries.cycle_scorecards(cycle.id, with_items=True)
    teams = {}
    for card in cards:
        grade = grade_now(card)
        if grade is not None:
            teams.setdefault(department_of(card), []).append(grade)
    rows = []
    for team, grades in sorted(teams.items()):
        counts = Counter(grades)
        violations = {v.grade for v in scoring.distribution_check(grades, bands)}
        rows.append((team, len(grades), [(b.grade, counts.get(b.grade, 0)) for b in bands], violations))
    open_cards = [c for c in cards if c.state == S.CALIBRATION]
    queries.load_reporting_lines(card.person for card in open_cards)
    return bands, rows, open_cards, services.cycle_distribution(cycle.id)
