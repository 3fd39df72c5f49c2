"""Read models for the HR cycle screens: board, health, calibration."""

from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import format_date
from flask_babel import gettext as _

from kpiapp import charts
from kpiapp.appraisal import progress, scoring, services
from kpiapp.appraisal.workflow import Action, Edit
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.appraisal import queries
from kpiapp.chart_labels import chart_labels

TEAM_PAGE_SIZE = 50  # rows of a per-team table (calibration, cycle board) per page

# cycle-health stages: the states in which a person still owes the step
STAGES = [
    ("draft", (S.DRAFT,)),
    ("submit", (S.DRAFT, S.RETURNED)),
    ("approve", (S.SUBMITTED, S.HR_APPROVAL)),
    ("self_review", (S.SELF_REVIEW,)),
    ("manager_review", (S.MANAGER_REVIEW,)),
    ("calibrate", (S.CALIBRATION,)),
]


@dataclass
class StageRow:
    """One line of cycle health: how many owe the step, how many are late, the first few."""

    stage: str
    owing: int
    overdue: int
    shown: list


def state_counts(cycle_id):
    """{department name: {state: latest scorecards}} from one grouped query."""
    table = {}
    for name, state, count in queries.cycle_state_counts(cycle_id):
        row = table.setdefault(name or "—", {})
        row[S(state)] = row.get(S(state), 0) + count
    return dict(sorted(table.items()))


def board(cycle_id, after=None, teams_from=None):
    """One page of {department: {state: count}} (team_page) with the position its next page
    starts at, the states present in the whole cycle, and one page of the cards (with the id
    the next page starts after), for the cycle board."""
    table = state_counts(cycle_id)
    states = [s for s in S if any(s in row for row in table.values())]
    shown, next_teams = team_page(list(table.items()), teams_from)
    return queries.cycle_page(cycle_id, after), (dict(shown), next_teams), states


def health(cycle, today=None, shown=None):
    """[StageRow] for the cycle-health view: counts over the whole cycle, the first
    `shown` people of each stage by name."""
    today, shown = today or date.today(), shown or queries.PAGE_SIZE
    totals = Counter(queries.cycle_state_totals(cycle.id))
    late = {s for s in S if (progress.state_deadline(cycle, s) or today) < today}
    firsts = queries.cycle_first_per_state(cycle.id, {s for _stage, states in STAGES for s in states}, shown)
    return [StageRow(stage, sum(totals[s] for s in states), sum(totals[s] for s in states if s in late),
                     [c for c in firsts if c.state in states][:shown])
            for stage, states in STAGES]


def grade_now(card):
    if card.is_locked:
        return card.grade
    try:
        return services.current_result(card)[1]
    except (scoring.ScoringError, services.AppraisalError):
        return None


def calibration(cycle, after=None, teams_from=None):
    """Per team: grade counts and quota violations, and the whole cycle's, graded in SQL
    (queries.cycle_grade_counts: one row per team and grade, no scorecard loaded), the teams
    one page at a time (team_page: where the next page of teams starts); plus one page of the
    cards HR may adjust and the id after which the next page starts."""
    bands = services.grade_bands(cycle.grade_table)
    teams, everyone = {}, Counter()
    for department_id, name, grade, count in queries.cycle_grade_counts(cycle.id, bands):
        teams.setdefault((name or "—", department_id), Counter())[grade] += count
        everyone[grade] += count
    shown, next_teams = team_page(sorted(teams.items(), key=team_order), teams_from)
    rows = [team_row(team, department_id, counts, bands) for (team, department_id), counts in shown]
    open_cards, next_after = queries.cycle_page(cycle.id, after, states=(S.CALIBRATION,))
    queries.load_reporting_lines(card.person for card in open_cards)
    return bands, (rows, next_teams), (open_cards, next_after), distribution(everyone, bands)


@dataclass(frozen=True)
class CalibrationRow:
    """What one card's calibration row shows: the total and grade services.shown_result gives,
    the self-review total services.self_total gives, and whether the user may set the grade
    (services.permitted)."""

    card: object
    total: Decimal | None
    grade: str | None
    self_total: Decimal | None
    can_calibrate: bool


def calibration_rows(cards, user):
    """[CalibrationRow] of `cards` for `user`: their items read as plain rows in one query
    (queries.item_points; no ORM item is loaded), the workflow facts in four (facts_for)."""
    items = queries.item_points([card.id for card in cards])
    facts = services.facts_for(cards, user)
    return [calibration_row(card, items[card.id], services.permitted(card, user, facts[card.id]))
            for card in cards]


def calibration_row(card, items, permitted):
    total, grade, _coefficient = services.shown_result(card, items)
    return CalibrationRow(card, total, grade, services.self_total(card, items),
                          can_calibrate=Edit.CALIBRATE in permitted.edits)


def team_page(teams, start=None):
    """The teams of a per-team table from position `start` of the sorted `teams`, at most
    TEAM_PAGE_SIZE, and the position the next page starts at (None on the last page): an org
    of 600 teams renders 50 rows per request, not 600 (the counts come from one grouped query)."""
    start = max(start or 0, 0)
    end = start + TEAM_PAGE_SIZE
    return teams[start:end], (end if end < len(teams) else None)


def team_order(team):
    (name, department_id), _counts = team
    return name, department_id is None, department_id or 0


def team_row(team, department_id, counts, bands):
    """(team, department id, cards graded, [(grade, cards)] in table order, grades over quota)."""
    violations = {v.grade for v in scoring.distribution_check(list(counts.elements()), bands)}
    return (team, department_id, counts.total(), [(b.grade, counts.get(b.grade, 0)) for b in bands],
            violations)


def distribution(counts, bands):
    """The shape of services.cycle_distribution, from a Counter of the cycle's grades."""
    return {"counts": {b.grade: counts.get(b.grade, 0) for b in bands}, "graded": counts.total(),
            "violations": scoring.distribution_check(list(counts.elements()), bands)}


def grade_chart(bands, overall):
    """The whole cycle's grade shares against the quotas: the Vega-Lite spec (the same
    charts.grade_bars as the signed cycle summary) and its table fallback."""
    graded = overall["graded"] or 0
    over = {v.grade for v in overall["violations"]}
    grades = [{"grade": b.grade, "count": overall["counts"].get(b.grade, 0), "max_share": b.max_share,
               "over": b.grade in over} for b in bands]
    rows = [(g["grade"], g["count"], share_text(g["count"] * 100 / graded if graded else None),
             share_text(g["max_share"] * 100 if g["max_share"] is not None else None)) for g in grades]
    return {"spec": charts.grade_bars(grades, chart_labels()), "rows": rows}


def share_text(value):
    return "—" if value is None else charts.num(value, 1) + "%"


# ---- lock (one scorecard or a whole department), after one confirmation -----------------

def lock_candidates(cycle, user, department_id=None, scorecard_id=None):
    """(cards `user` may lock now, cards of the same scope not ready to lock) for the
    confirmation page; permission from services.permitted, never decided here."""
    cards = queries.cycle_scorecards(cycle.id, with_items=True)
    if scorecard_id is not None:
        cards = [c for c in cards if c.id == scorecard_id]
    elif department_id is not None:
        cards = [c for c in cards if c.person.department_id == department_id]
    queries.load_reporting_lines(card.person for card in cards)
    facts = services.facts_for(cards, user)
    ready = [c for c in cards if Action.LOCK in services.permitted(c, user, facts[c.id]).actions]
    return ready, [c for c in cards if c not in ready and not c.is_locked]


def lock_warnings(cycle, cards, today=None):
    """What HR should know before locking: the period has not ended, or the data of some
    data-backed item is older than the period end ("data as of 11-26 for a quarter ending 12-31")."""
    today = today or date.today()
    end = format_date(cycle.period_end, "short")
    warnings = []
    if today <= cycle.period_end:
        warnings.append(_("The period has not ended yet: it ends %(end)s.", end=end))
    data_items = [i for c in cards for i in c.items if not i.is_manual]
    dates = [i.data_as_of.date() for i in data_items if i.data_as_of is not None]
    oldest = min(dates, default=None)
    if oldest is not None and oldest < cycle.period_end:
        warnings.append(_("Data as of %(as_of)s for a period ending %(end)s.",
                          as_of=format_date(oldest, "short"), end=end))
    missing = sum(1 for i in data_items if i.data_as_of is None)
    if missing:
        warnings.append(_("%(n)s data-backed items have no data.", n=missing))
    return warnings
