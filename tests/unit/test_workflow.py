"""The scorecard state machine, checked over the whole grid.

The expected behaviour is written here from the design (PRODUCT.md core loop),
independently of workflow.TRANSITIONS, so a typo in either shows up as a failure.
"""

import itertools
import sys
from pathlib import Path

import pytest

# The project is not installed in the venv; make the checkout importable under --noconftest.
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kpiapp.appraisal.workflow import (  # noqa: E402
    EDITABLE_STATES,
    EDITS,
    TRANSITIONS,
    Action,
    Edit,
    Facts,
    Relation,
    ScorecardState,
    TransitionError,
    allowed_actions,
    check,
    check_edit,
    is_frozen,
    permitted,
)

# (state, action): (next state, who may do it, reason needed)
DESIGN = {
    ("draft", "submit"): ("submitted", {"owner", "manager"}, False),
    ("returned", "submit"): ("submitted", {"owner", "manager"}, False),
    ("submitted", "approve"): ("approved", {"manager"}, False),
    ("submitted", "return"): ("returned", {"manager"}, True),
    ("hr_approval", "hr_approve"): ("approved", {"hr"}, False),
    ("hr_approval", "return"): ("returned", {"hr"}, True),
    ("approved", "open_review"): ("self_review", {"hr", "manager"}, False),
    ("self_review", "submit_self_review"): ("manager_review", {"owner"}, False),
    ("manager_review", "return_self_review"): ("self_review", {"manager"}, True),
    ("manager_review", "submit_manager_review"): ("calibration", {"manager"}, False),
    ("calibration", "lock"): ("locked", {"hr"}, False),
    ("locked", "reopen"): ("manager_review", {"admin"}, True),
}
# with a second approval level, the manager's approval hands over to HR
APPROVE_WITH_HR = "hr_approval"
# the only things anyone may do to their own scorecard
OWN_SCORECARD_OK = {"submit", "submit_self_review"}

STATES = [
    "draft", "returned", "submitted", "hr_approval", "approved",
    "self_review", "manager_review", "calibration", "locked",
]
ACTIONS = [
    "submit", "return", "approve", "hr_approve", "open_review", "submit_self_review",
    "return_self_review", "submit_manager_review", "lock", "reopen",
]
RELATION_SETS = [
    set(),
    {"owner"},
    {"manager"},
    {"hr"},
    {"admin"},
    {"owner", "manager"},
    {"owner", "hr"},
    {"owner", "admin"},
    {"manager", "hr"},
    {"hr", "admin"},
]


def expected(state, action, relations, is_owner, hr_required, reason="because"):
    """The designed outcome: ('ok', next_state) or ('error', code)."""
    if (state, action) not in DESIGN:
        return "error", "not_allowed_in_state"
    next_state, who, needs_reason = DESIGN[(state, action)]
    if not relations & who:
        return "error", "forbidden"
    if (is_owner or "owner" in relations) and action not in OWN_SCORECARD_OK:
        return "error", "own_scorecard"
    if needs_reason and not (reason or "").strip():
        return "error", "reason_required"
    if action == "approve" and hr_required:
        return "ok", APPROVE_WITH_HR
    return "ok", next_state


def outcome(state, action, relations, is_owner, hr_required, reason="because"):
    try:
        result = check(
            ScorecardState(state),
            Action(action),
            {Relation(r) for r in relations},
            is_owner=is_owner,
            hr_approval_required=hr_required,
            reason=reason,
        )
    except TransitionError as err:
        return "error", err.code
    return "ok", str(result)


GRID = list(
    itertools.product(STATES, ACTIONS, range(len(RELATION_SETS)), [False, True], [False, True])
)


@pytest.mark.parametrize("state, action, rel_index, is_owner, hr_required", GRID)
def test_whole_grid(state, action, rel_index, is_owner, hr_required):
    relations = RELATION_SETS[rel_index]
    want = expected(state, action, relations, is_owner, hr_required)
    assert outcome(state, action, relations, is_owner, hr_required) == want
    listed = Action(action) in allowed_actions(
        ScorecardState(state),
        {Relation(r) for r in relations},
        is_owner=is_owner,
        hr_approval_required=hr_required,
    )
    assert listed == (want[0] == "ok")


REASONED = [key for key, (_, _, needs) in DESIGN.items() if needs]


@pytest.mark.parametrize("state, action", REASONED)
@pytest.mark.parametrize("reason", [None, "", "   ", "\n\t"])
def test_blank_reason_is_refused(state, action, reason):
    _, who, _ = DESIGN[(state, action)]
    relations = {next(iter(who))}
    assert outcome(state, action, relations, False, False, reason) == ("error", "reason_required")


@pytest.mark.parametrize("state, action", REASONED)
def test_reason_is_enough(state, action):
    next_state, who, _ = DESIGN[(state, action)]
    relations = {next(iter(who))}
    assert outcome(state, action, relations, False, False, "targets too low") == ("ok", next_state)


def test_reason_is_optional_elsewhere():
    assert outcome("draft", "submit", {"owner"}, True, False, None) == ("ok", "submitted")


def test_expected_table_matches_the_module():
    """Same transitions, as a second check beside the grid (which is the real test)."""
    assert {(str(s), str(a)) for s, a in TRANSITIONS} == set(DESIGN)
    assert all(
        str(action) in ACTIONS for action in Action
    ) and len(ACTIONS) == len(Action)
    assert [str(s) for s in ScorecardState] == STATES


@pytest.mark.parametrize(
    "state, relations, is_owner, actions",
    [
        ("draft", {"owner"}, True, ["submit"]),
        ("draft", {"manager"}, False, ["submit"]),
        ("submitted", {"manager"}, False, ["return", "approve"]),
        ("submitted", {"owner", "manager"}, True, []),
        ("hr_approval", {"hr"}, False, ["return", "hr_approve"]),
        ("hr_approval", {"hr"}, True, []),
        ("approved", {"hr", "manager"}, False, ["open_review"]),
        ("manager_review", {"manager"}, False, ["return_self_review", "submit_manager_review"]),
        ("calibration", {"hr", "admin"}, False, ["lock"]),
        ("locked", {"admin"}, False, ["reopen"]),
        ("locked", {"admin"}, True, []),
        ("locked", {"hr", "manager"}, False, []),
    ],
)
def test_allowed_actions_for_buttons(state, relations, is_owner, actions):
    got = allowed_actions(
        ScorecardState(state),
        {Relation(r) for r in relations},
        is_owner=is_owner,
        hr_approval_required=False,
    )
    assert [str(a) for a in got] == actions


def test_full_cycle_with_hr_approval_and_reopen():
    steps = [
        ("submit", {"owner"}, True, None, "submitted"),
        ("return", {"manager"}, False, "raise the GMV target", "returned"),
        ("submit", {"manager"}, False, None, "submitted"),
        ("approve", {"manager"}, False, None, "hr_approval"),
        ("hr_approve", {"hr"}, False, None, "approved"),
        ("open_review", {"hr"}, False, None, "self_review"),
        ("submit_self_review", {"owner"}, True, None, "manager_review"),
        ("return_self_review", {"manager"}, False, "add comments", "self_review"),
        ("submit_self_review", {"owner"}, True, None, "manager_review"),
        ("submit_manager_review", {"manager"}, False, None, "calibration"),
        ("lock", {"hr"}, False, None, "locked"),
        ("reopen", {"admin"}, False, "wrong FX rate in March import", "manager_review"),
    ]
    state = ScorecardState.DRAFT
    for action, relations, is_owner, reason, want in steps:
        state = check(
            state,
            Action(action),
            {Relation(r) for r in relations},
            is_owner=is_owner,
            hr_approval_required=True,
            reason=reason,
        )
        assert state == want


def test_error_carries_code_and_message():
    with pytest.raises(TransitionError) as err:
        check(
            ScorecardState.LOCKED,
            Action.SUBMIT,
            {Relation.OWNER},
            is_owner=True,
            hr_approval_required=False,
        )
    assert err.value.code == "not_allowed_in_state"
    assert "locked" in err.value.message


def test_return_action_value():
    assert Action.RETURN_ == "return"
    assert Action("return") is Action.RETURN_


def test_editable_and_frozen_states():
    assert EDITABLE_STATES == {ScorecardState.DRAFT, ScorecardState.RETURNED}
    assert [s for s in ScorecardState if is_frozen(s)] == [ScorecardState.LOCKED]


def test_every_state_is_reachable_from_draft():
    seen, frontier = {ScorecardState.DRAFT}, [ScorecardState.DRAFT]
    while frontier:
        state = frontier.pop()
        for (source, _), transition in TRANSITIONS.items():
            targets = {transition.next_state, transition.next_state_if_hr_approval} - {None}
            if source == state and not targets <= seen:
                frontier.extend(targets - seen)
                seen |= targets
    assert seen == set(ScorecardState)


# ---- edits: changes that keep the state ----------------------------------------------

# edit: (states, who may, allowed on one's own scorecard, code when the state is wrong)
EDIT_DESIGN = {
    "edit_targets": ({"draft", "returned"}, {"owner", "manager"}, True, "not_editable"),
    "request_change": ({"approved", "self_review", "manager_review"}, {"owner", "manager"}, True,
                       "not_allowed_in_state"),
    # a pending request can outlive the manager review (lock waits for it); never on a locked card
    "decide_change": (set(STATES) - {"locked"}, {"manager"}, False, "not_allowed_in_state"),
    "self_review": ({"self_review"}, {"owner"}, True, "not_allowed_in_state"),
    "manager_review": ({"manager_review"}, {"manager"}, False, "not_allowed_in_state"),
    "calibrate": ({"calibration"}, {"hr"}, False, "not_allowed_in_state"),
    "acknowledge": ({"locked"}, {"owner"}, True, "not_allowed_in_state"),
}
EDIT_KINDS = list(EDIT_DESIGN)
FACT_CASES = {
    "none": {},
    "superseded": {"superseded": True},
    "pending": {"change_pending": True},
    "pending_mine": {"change_pending": True, "change_requested_by_actor": True},
    "acknowledged": {"acknowledged": True},
    "dispute_open": {"dispute_open": True},
}


def fact_refusal(step, facts):
    """The designed refusal for a step the tables allow, given the facts (or None)."""
    pending, mine = facts.get("change_pending", False), facts.get("change_requested_by_actor", False)
    if facts.get("superseded"):
        return "superseded"
    if step == "request_change" and pending:
        return "change_request_pending"
    if step == "decide_change" and not pending:
        return "already_decided"
    if step == "decide_change" and mine:
        return "own_request"
    if step == "acknowledge" and facts.get("acknowledged"):
        return "already_acknowledged"
    if step == "lock" and facts.get("dispute_open"):
        return "dispute_open"
    return None


def expected_edit(state, edit, relations, is_owner, facts):
    states, who, own_ok, state_code = EDIT_DESIGN[edit]
    if state not in states:
        return state_code
    if not relations & who:
        return "forbidden"
    if (is_owner or "owner" in relations) and not own_ok:
        return "own_scorecard"
    return fact_refusal(edit, facts)


def edit_outcome(state, edit, relations, is_owner, facts):
    try:
        check_edit(ScorecardState(state), Edit(edit), {Relation(r) for r in relations}, is_owner=is_owner,
                   facts=Facts(**facts))
    except TransitionError as err:
        return err.code
    return None


EDIT_GRID = list(itertools.product(STATES, EDIT_KINDS, range(len(RELATION_SETS)), [False, True]))


@pytest.mark.parametrize("state, edit, rel_index, is_owner", EDIT_GRID)
def test_whole_edit_grid(state, edit, rel_index, is_owner):
    relations = RELATION_SETS[rel_index]
    for name, facts in FACT_CASES.items():
        want = expected_edit(state, edit, relations, is_owner, facts)
        assert edit_outcome(state, edit, relations, is_owner, facts) == want, name


@pytest.mark.parametrize("state, rel_index, is_owner", list(
    itertools.product(STATES, range(len(RELATION_SETS)), [False, True])))
def test_permitted_lists_exactly_what_the_checks_allow(state, rel_index, is_owner):
    relations = RELATION_SETS[rel_index]
    for name, facts in FACT_CASES.items():
        got = permitted(ScorecardState(state), {Relation(r) for r in relations}, is_owner=is_owner,
                        hr_approval_required=False, facts=Facts(**facts))
        edits = [e for e in EDIT_KINDS if expected_edit(state, e, relations, is_owner, facts) is None]
        actions = [a for a in ACTIONS if expected(state, a, relations, is_owner, False)[0] == "ok"
                   and fact_refusal(a, facts) is None]
        assert sorted(str(e) for e in got.edits) == sorted(edits), name
        assert sorted(str(a) for a in got.actions) == sorted(actions), name


@pytest.mark.parametrize("state, action", list(DESIGN))
def test_no_action_on_a_superseded_version(state, action):
    _, who, _ = DESIGN[(state, action)]
    with pytest.raises(TransitionError) as err:
        check(ScorecardState(state), Action(action), {Relation(next(iter(who)))}, is_owner=False,
              hr_approval_required=False, reason="because", facts=Facts(superseded=True))
    assert err.value.code == "superseded"


def test_expected_edit_table_matches_the_module():
    """Same edits, as a second check beside the grid (which is the real test)."""
    assert [str(e) for e in Edit] == EDIT_KINDS
    assert set(EDITS) == set(Edit)
