"""Where a scorecard stands: its stage of seven, whose move it is, the stage deadline, what
they are asked to do, and a projected total while the cycle runs. Read-only."""
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from kpiapp.appraisal import scoring
from kpiapp.appraisal.services import grade_bands
from kpiapp.appraisal.workflow import (
    DEADLINE_FIELD,
    NEXT_ACTOR,
    RETURNS,
    STAGE_OF,
    Relation,
    ScorecardState,
    Stage,
    Todo,
)


@dataclass(frozen=True)
class Standing:
    stage: Stage
    card: object
    next_actor: Relation | None  # None once locked and acknowledged
    due: date | None
    overdue: bool
    todo: Todo
    return_reason: str | None

    @property
    def next_person(self):
        """The User whose move it is; None when it is HR's (or nobody's)."""
        if self.next_actor == Relation.OWNER:
            return self.card.person
        if self.next_actor == Relation.MANAGER:
            return self.card.person.manager
        return None

    @property
    def stages(self):
        """(stage, done, current) for each of the seven, for the stepper."""
        at = list(Stage).index(self.stage)
        return [(stage, i < at, i == at) for i, stage in enumerate(Stage)]


@dataclass(frozen=True)
class Projection:
    total: Decimal
    grade: str | None
    covered: Decimal  # the share of the weight (0-100) that already has points
    data_as_of: object


def standing(card, today=None, acknowledged=False):
    state = ScorecardState(card.state)
    actor = None if state == ScorecardState.LOCKED and acknowledged else NEXT_ACTOR[state]
    due = deadline(card)
    return Standing(STAGE_OF[state], card, actor, due,
                    due is not None and due < (today or date.today()), Todo(state.value), return_reason(card))


def deadline(card):
    """The cycle deadline of the stage the scorecard is in (None when none is set)."""
    return state_deadline(card.cycle, card.state)


def state_deadline(cycle, state):
    """The cycle deadline of the stage a scorecard in `state` is in (None when none is set)."""
    name = DEADLINE_FIELD.get(ScorecardState(state))
    return getattr(cycle, name) if name else None


def return_reason(card):
    """The reason given when the card was last sent back, while it is still back with its owner."""
    last = card.events[-1] if card.events else None
    if last is not None and last.action in RETURNS and last.new_state == card.state:
        return last.reason
    return None


def projected(card):
    """A projected total and grade from the items that have points, until the real total exists;
    None once the card has a total or before any item has points."""
    if card.is_locked:
        return None
    items = [(_points(i), Decimal(i.weight)) for i in card.items]
    try:
        if scoring.total_score(items) is not None:
            return None
        total, covered = scoring.projected_score(items)
    except scoring.ScoringError:
        return None
    if total is None:
        return None
    grade = scoring.grade_for(total, grade_bands(card.cycle.grade_table))
    as_of = max((i.data_as_of for i in card.items if i.data_as_of is not None), default=None)
    return Projection(total, grade, covered, as_of)


def _points(item):
    points = item.final_points if item.final_points is not None else item.computed_points
    return None if points is None else Decimal(points)
