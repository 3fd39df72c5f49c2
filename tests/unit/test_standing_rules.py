"""Issue 11: the seven stages, whose move and which deadline per state, and the projected total."""
from decimal import Decimal

import pytest

from kpiapp.appraisal import scoring
from kpiapp.appraisal.workflow import (
    DEADLINE_FIELD,
    NEXT_ACTOR,
    OPEN_STATES,
    STAGE_OF,
    Relation,
    ScorecardState,
    Stage,
    Todo,
)

D = Decimal


def test_every_state_has_a_stage_an_actor_and_a_todo():
    assert set(STAGE_OF) == set(ScorecardState) == set(NEXT_ACTOR)
    assert {Todo(state.value) for state in ScorecardState} == set(Todo)


def test_there_are_seven_stages_and_the_states_reach_them_in_order():
    assert len(Stage) == 7
    walk = [ScorecardState.DRAFT, ScorecardState.SUBMITTED, ScorecardState.APPROVED, ScorecardState.SELF_REVIEW,
            ScorecardState.MANAGER_REVIEW, ScorecardState.CALIBRATION, ScorecardState.LOCKED]
    assert [STAGE_OF[state] for state in walk] == list(Stage)


def test_returned_and_hr_approval_stay_in_their_stage():
    assert STAGE_OF[ScorecardState.RETURNED] == Stage.TARGETS
    assert STAGE_OF[ScorecardState.HR_APPROVAL] == Stage.APPROVAL
    assert NEXT_ACTOR[ScorecardState.HR_APPROVAL] == Relation.HR


def test_every_open_state_has_a_cycle_deadline_and_a_locked_card_none():
    from kpiapp.models.appraisal import Cycle

    assert set(DEADLINE_FIELD) == set(OPEN_STATES)
    assert all(hasattr(Cycle, name) for name in DEADLINE_FIELD.values())


@pytest.mark.parametrize("items, expected", [
    ([(D(110), D(60)), (None, D(40))], (D("110.00"), D(60))),
    ([(D(100), D(50)), (D(50), D(30)), (None, D(20))], (D("81.25"), D(80))),
    ([(None, D(60)), (None, D(40))], (None, D(0))),
])
def test_projected_score_counts_the_items_that_have_points(items, expected):
    assert scoring.projected_score(items) == expected


def test_projected_score_equals_the_total_once_every_item_has_points():
    items = [(D("92.5"), D(70)), (D(80), D(30))]
    assert scoring.projected_score(items) == (scoring.total_score(items), D(100))


def test_projected_score_refuses_weights_that_do_not_add_up():
    with pytest.raises(scoring.ScoringError):
        scoring.projected_score([(D(100), D(60)), (None, D(30))])
