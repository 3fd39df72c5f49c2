"""The data dispute state machine over the whole grid.

The expected behaviour is written here from docs/disputes.md, independently of
dispute_flow.TRANSITIONS, so a typo in either shows up as a failure.
"""

import itertools
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kpiapp.appraisal.dispute_flow import (  # noqa: E402
    DisputeFacts,
    DisputeParty,
    DisputeState,
    DisputeStep,
    check,
    is_active,
    permitted,
)
from kpiapp.appraisal.workflow import TransitionError  # noqa: E402

# (state, step): (next state, who, text needed, allowed on one's own scorecard / dispute)
DESIGN = {
    (None, "raise"): ("open", {"viewer"}, True, True),
    ("open", "correct"): ("corrected", {"handler"}, True, False),
    ("open", "reject"): ("rejected", {"handler"}, True, False),
    ("corrected", "close"): ("closed", {"handler", "raiser"}, False, True),
    ("open", "override_lock"): ("open", {"hr"}, True, False),
    ("corrected", "override_lock"): ("corrected", {"hr"}, True, False),
}
STATES = [None, "open", "corrected", "closed", "rejected"]
STEPS = ["raise", "correct", "reject", "close", "override_lock"]
PARTY_SETS = [set(c) for n in range(0, 3) for c in itertools.combinations(
    ["viewer", "raiser", "handler", "hr"], n)]
FACT_CASES = {
    "none": {},
    "manual_item": {"data_backed": False},
    "disputed": {"item_disputed": True},
    "locked": {"locked": True},
    "overridden": {"overridden": True},
}


def fact_refusal(step, facts):
    if step == "raise" and facts.get("data_backed") is False:
        return "not_data_backed"
    if step == "raise" and facts.get("item_disputed"):
        return "already_disputed"
    if step in ("raise", "correct", "override_lock") and facts.get("locked"):
        return "scorecard_locked"
    if step == "override_lock" and facts.get("overridden"):
        return "already_overridden"
    return None


def expected(state, step, parties, own, facts, text="because"):
    if (state, step) not in DESIGN:
        return "error", "not_allowed_in_state"
    next_state, who, needs_text, own_ok = DESIGN[(state, step)]
    if not parties & who:
        return "error", "forbidden"
    if (own or "raiser" in parties) and not own_ok:
        return "error", "own_dispute"
    refused = fact_refusal(step, facts)
    if refused:
        return "error", refused
    if needs_text and not (text or "").strip():
        return "error", "reason_required"
    return "ok", next_state


def outcome(state, step, parties, own, facts, text="because"):
    try:
        result = check(DisputeState(state) if state else None, DisputeStep(step),
                       {DisputeParty(p) for p in parties}, own=own, text=text, facts=DisputeFacts(**facts))
    except TransitionError as error:
        return "error", error.code
    return "ok", str(result)


GRID = list(itertools.product(STATES, STEPS, range(len(PARTY_SETS)), [False, True], FACT_CASES))


@pytest.mark.parametrize("state, step, party_index, own, fact_case", GRID)
def test_whole_grid(state, step, party_index, own, fact_case):
    parties, facts = PARTY_SETS[party_index], FACT_CASES[fact_case]
    want = expected(state, step, parties, own, facts)
    assert outcome(state, step, parties, own, facts) == want
    listed = DisputeStep(step) in permitted(DisputeState(state) if state else None,
                                            {DisputeParty(p) for p in parties}, own=own,
                                            facts=DisputeFacts(**facts))
    assert listed == (want[0] == "ok")


TEXTED = [key for key, (_, _, needs, _) in DESIGN.items() if needs]


@pytest.mark.parametrize("state, step", TEXTED)
@pytest.mark.parametrize("text", [None, "", "   ", "\n\t"])
def test_blank_text_is_refused(state, step, text):
    _, who, _, _ = DESIGN[(state, step)]
    assert outcome(state, step, set(who), False, {}, text) == ("error", "reason_required")


def test_close_needs_no_text_and_final_states_allow_nothing():
    assert outcome("corrected", "close", {"raiser"}, True, {}, None) == ("ok", "closed")
    everyone = set(DisputeParty)
    for state in (DisputeState.CLOSED, DisputeState.REJECTED):
        assert permitted(state, everyone, own=False) == ()
        assert not is_active(state)
    assert is_active(DisputeState.OPEN) and is_active(DisputeState.CORRECTED) and not is_active(None)


def test_every_step_and_state_has_a_label():
    for member in [*DisputeState, *DisputeStep]:
        assert member.label and member.label != str(member)
    assert all(step.event_label for step in DisputeStep)
