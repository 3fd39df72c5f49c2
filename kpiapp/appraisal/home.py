"""The home page: what needs me now, per role (my next step, my score so far, my team's
pipeline, HR's cycle funnel). Read-only; a constant number of queries whatever the org size."""
from datetime import date

from kpiapp import policy
from kpiapp.appraisal import notifications, progress, queries
from kpiapp.appraisal.scoring import ScoringError
from kpiapp.appraisal.services import AppraisalError, current_result


def summary(user, today=None):
    waiting = sorted((progress.standing(card, today) for card in notifications.waiting_for(user)),
                     key=lambda s: (s.due is None, s.due or date.max, s.card.id))
    mine = my_current(user)
    return {
        "waiting": waiting,
        "mine": mine,
        "mine_total": total_of(mine),
        "projection": progress.projected(mine) if mine is not None else None,
        "pipeline": queries.stage_counts(policy.team_scorecards_filter(user)) if policy.has_reports(user) else [],
        "funnel": (queries.stage_counts(policy.visible_scorecards_filter(user))
                   if policy.rule_allows(user, "appraisal.manage") else []),
    }


def my_current(user):
    """My scorecard in the newest cycle (its newest version), or None."""
    cards = queries.my_scorecards(user)
    return cards[0] if cards else None


def total_of(card):
    """(total, grade) as the scorecard page shows them; Nones while incomplete."""
    if card is None:
        return None, None
    if card.is_locked:
        return card.total, card.grade
    try:
        total, grade, _coefficient = current_result(card)
    except (ScoringError, AppraisalError):  # the page shows "—"; the scorecard page says why
        return None, None
    return total, grade
