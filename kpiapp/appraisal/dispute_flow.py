"""The data dispute (数据异议) state machine: a flag on one data-backed number (docs/disputes.md).

One FlowTable (kpiapp/flow_table.py): the transition table, `permitted()` for buttons,
`check()` for the services, and BLOCKERS for facts that refuse a step the table allows. Refusals are
workflow.TransitionError with a code. Who the actor is to the dispute (DisputeParty) comes
from policy.dispute_parties.

    (none) ──raise──> open ──correct──> corrected ──close──> closed
                       └──reject──> rejected
    open / corrected ──override_lock──> (same state; HR locks the scorecard anyway)

Pure: no model, Flask or database here.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kpiapp.flow_table import FlowTable, Transition, transition
from kpiapp.i18n import N_, LabelledEnum


class DisputeState(LabelledEnum):
    OPEN = "open", N_("Open, waiting to be handled")
    CORRECTED = "corrected", N_("Corrected, waiting to be closed")
    CLOSED = "closed", N_("Closed")
    REJECTED = "rejected", N_("Rejected")


class DisputeStep(LabelledEnum):
    """A step on a dispute; `label` is its button, `event_label` its line in the history."""

    RAISE = "raise", N_("Dispute this number")
    CORRECT = "correct", N_("Correct the number")
    REJECT = "reject", N_("Reject the dispute")
    CLOSE = "close", N_("Close the dispute")
    OVERRIDE_LOCK = "override_lock", N_("Allow the lock anyway")

    @property
    def event_label(self) -> str:
        return _EVENT_LABELS[self]


_EVENT_LABELS = {
    DisputeStep.RAISE: N_("Number disputed"),
    DisputeStep.CORRECT: N_("Disputed number corrected"),
    DisputeStep.REJECT: N_("Dispute rejected"),
    DisputeStep.CLOSE: N_("Dispute closed"),
    DisputeStep.OVERRIDE_LOCK: N_("Lock allowed despite the dispute"),
}


class DisputeParty(StrEnum):
    """How the actor relates to a dispute (one person may be several)."""

    VIEWER = "viewer"  # may see the scorecard: owner, managers up the line, HR, admin
    RAISER = "raiser"  # raised this dispute
    HANDLER = "handler"  # HR, admin, or an owner of a store in the item's scope
    HR = "hr"  # HR or admin: may let the lock through


@dataclass(frozen=True)
class DisputeFacts:
    data_backed: bool = True  # the item's actual comes from imported data
    item_disputed: bool = False  # the item already has an active dispute
    locked: bool = False  # the scorecard is locked
    overridden: bool = False  # HR already let the lock through


St, Step, P = DisputeState, DisputeStep, DisputeParty


_t = transition

# (state before, step): None is "no dispute yet"
TRANSITIONS: dict[tuple[DisputeState | None, DisputeStep], Transition] = {
    (None, Step.RAISE): _t(St.OPEN, P.VIEWER, text=True, own=True),
    (St.OPEN, Step.CORRECT): _t(St.CORRECTED, P.HANDLER, text=True),
    (St.OPEN, Step.REJECT): _t(St.REJECTED, P.HANDLER, text=True),
    (St.CORRECTED, Step.CLOSE): _t(St.CLOSED, P.HANDLER, P.RAISER, own=True),
    (St.OPEN, Step.OVERRIDE_LOCK): _t(St.OPEN, P.HR, text=True),
    (St.CORRECTED, Step.OVERRIDE_LOCK): _t(St.CORRECTED, P.HR, text=True),
}

BLOCKERS = (
    (Step.RAISE, lambda f: not f.data_backed, "not_data_backed"),
    (Step.RAISE, lambda f: f.item_disputed, "already_disputed"),
    (Step.RAISE, lambda f: f.locked, "scorecard_locked"),
    (Step.CORRECT, lambda f: f.locked, "scorecard_locked"),
    (Step.OVERRIDE_LOCK, lambda f: f.locked, "scorecard_locked"),
    (Step.OVERRIDE_LOCK, lambda f: f.overridden, "already_overridden"),
)
BLOCKER_MESSAGES = {
    "not_data_backed": "Only a number from imported data can be disputed.",
    "already_disputed": "This number already has an open dispute.",
    "scorecard_locked": "The scorecard is locked; its numbers are frozen (an appeal is the way now).",
    "already_overridden": "HR already allowed the lock despite this dispute.",
}
# a dispute in these states blocks the lock (unless overridden) and shows on the scorecard
ACTIVE_STATES = frozenset({St.OPEN, St.CORRECTED})


FLOW = FlowTable(Step, TRANSITIONS, BLOCKERS, BLOCKER_MESSAGES, text_code="reason_required",
                 own_code="own_dispute", own_party=P.RAISER)


def permitted(state: DisputeState | None, parties: set[DisputeParty], *, own: bool,
              facts: DisputeFacts = DisputeFacts()) -> tuple[DisputeStep, ...]:
    """The dispute steps this actor may take now, in step order (texts are asked by `check`)."""
    return FLOW.permitted(state, parties, facts, own=own)


def check(state: DisputeState | None, step: DisputeStep, parties: set[DisputeParty], *, own: bool,
          text: str | None = None, facts: DisputeFacts = DisputeFacts()) -> DisputeState:
    """The dispute's state after `step`, or raise TransitionError. `own`: the actor owns the
    scorecard or raised the dispute. Codes: 'not_allowed_in_state', 'forbidden', 'own_dispute',
    'reason_required' and the BLOCKERS' codes."""
    return FLOW.check(state, step, parties, text=text, facts=facts, own=own)


def is_active(state: DisputeState | None) -> bool:
    return state in ACTIVE_STATES
