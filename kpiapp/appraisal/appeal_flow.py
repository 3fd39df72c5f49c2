"""The appeal (申诉) state machine: an employee's formal objection to a locked result.

One FlowTable (kpiapp/flow_table.py): the transition table, `permitted()` for buttons and
the API, `check()` for the services, and BLOCKERS for facts that refuse a step the table allows.
Who the actor is to the scorecard comes from policy.relations_of (workflow.Relation).

    (none) ──raise──> open ──answer──> answered ──close──> closed
                                              └──reopen──> reopened  (the scorecard gets version N+1)

Pure: no model, Flask or database here.
"""
from __future__ import annotations

from dataclasses import dataclass

from kpiapp.appraisal.workflow import Relation
from kpiapp.flow_table import FlowTable, Transition, transition
from kpiapp.i18n import N_, LabelledEnum


class AppealState(LabelledEnum):
    OPEN = "open", N_("Waiting for a reply")
    ANSWERED = "answered", N_("Answered")
    CLOSED = "closed", N_("Closed: the result stands")
    REOPENED = "reopened", N_("Reopened as a new version")


class AppealStep(LabelledEnum):
    """A step on an appeal; `label` is its button, `event_label` its line in the history."""

    RAISE = "raise", N_("Raise an appeal")
    ANSWER = "answer", N_("Answer the appeal")
    CLOSE = "close", N_("Close the appeal")
    REOPEN = "reopen", N_("Reopen the scorecard as a new version")

    @property
    def event_label(self) -> str:
        return _EVENT_LABELS[self]


_EVENT_LABELS = {
    AppealStep.RAISE: N_("Appeal raised"),
    AppealStep.ANSWER: N_("Appeal answered"),
    AppealStep.CLOSE: N_("Appeal closed"),
    AppealStep.REOPEN: N_("Appeal: scorecard reopened as a new version"),
}


@dataclass(frozen=True)
class AppealFacts:
    locked: bool = True  # the scorecard version is locked (appeals are about locked results)
    superseded: bool = False  # a newer version exists already


St, Step, R = AppealState, AppealStep, Relation


_t = transition

# (state before, step): None is "no appeal yet"
TRANSITIONS: dict[tuple[AppealState | None, AppealStep], Transition] = {
    (None, Step.RAISE): _t(St.OPEN, R.OWNER, text=True, own=True),
    (St.OPEN, Step.ANSWER): _t(St.ANSWERED, R.MANAGER, R.HR, text=True),
    (St.ANSWERED, Step.CLOSE): _t(St.CLOSED, R.HR),
    # the existing admin reopen (workflow Action.REOPEN) makes the new version
    (St.ANSWERED, Step.REOPEN): _t(St.REOPENED, R.ADMIN, text=True),
}

BLOCKERS = (
    (Step.RAISE, lambda f: not f.locked, "not_locked"),
    (None, lambda f: f.superseded, "superseded"),
)
BLOCKER_MESSAGES = {
    "not_locked": "Only a locked result can be appealed.",
    "superseded": "A newer version of this scorecard exists.",
}
OPEN_STATES = frozenset({St.OPEN, St.ANSWERED})


FLOW = FlowTable(Step, TRANSITIONS, BLOCKERS, BLOCKER_MESSAGES, text_code="reason_required",
                 own_code="own_scorecard", own_party=R.OWNER)


def permitted(state: AppealState | None, relations: set[Relation], *, is_owner: bool,
              facts: AppealFacts = AppealFacts()) -> tuple[AppealStep, ...]:
    """The appeal steps this actor may take now, in step order."""
    return FLOW.permitted(state, relations, facts, own=is_owner)


def check(state: AppealState | None, step: AppealStep, relations: set[Relation], *, is_owner: bool,
          text: str | None = None, facts: AppealFacts = AppealFacts()) -> AppealState:
    """The appeal's state after `step`, or raise TransitionError (codes as in workflow.check,
    plus 'reason_required', 'own_scorecard', 'not_locked', 'superseded')."""
    return FLOW.check(state, step, relations, text=text, facts=facts, own=is_owner)
