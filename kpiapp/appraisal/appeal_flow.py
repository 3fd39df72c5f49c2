"""The appeal (申诉) state machine: an employee's formal objection to a locked result.

Same pattern as workflow.py: one transition table, `permitted()` for buttons and the API,
`check()` for the services, and BLOCKERS for facts that refuse a step the table allows.
Who the actor is to the scorecard comes from policy.relations_of (workflow.Relation).

    (none) ──raise──> open ──answer──> answered ──close──> closed
                                              └──reopen──> reopened  (the scorecard gets version N+1)

Pure: no model, Flask or database here.
"""
from __future__ import annotations

from dataclasses import dataclass

from kpiapp.appraisal.workflow import Relation, TransitionError, first_blocker
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
class AppealTransition:
    next_state: AppealState
    relations: frozenset[Relation]
    text_required: bool = False  # the reason (raise), the reply (answer) or why (reopen)
    own_allowed: bool = False


@dataclass(frozen=True)
class AppealFacts:
    locked: bool = True  # the scorecard version is locked (appeals are about locked results)
    superseded: bool = False  # a newer version exists already


St, Step, R = AppealState, AppealStep, Relation


def _t(next_state, *relations, text=False, own=False) -> AppealTransition:
    return AppealTransition(next_state, frozenset(relations), text, own)


# (state before, step): None is "no appeal yet"
TRANSITIONS: dict[tuple[AppealState | None, AppealStep], AppealTransition] = {
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


def permitted(state: AppealState | None, relations: set[Relation], *, is_owner: bool,
              facts: AppealFacts = AppealFacts()) -> tuple[AppealStep, ...]:
    """The appeal steps this actor may take now, in step order."""
    return tuple(s for s in Step if not (_refusal(state, s, relations, is_owner) or _blocker(s, facts)))


def check(state: AppealState | None, step: AppealStep, relations: set[Relation], *, is_owner: bool,
          text: str | None = None, facts: AppealFacts = AppealFacts()) -> AppealState:
    """The appeal's state after `step`, or raise TransitionError (codes as in workflow.check,
    plus 'text_required', 'not_locked')."""
    refusal = _refusal(state, step, relations, is_owner) or _blocker(step, facts)
    if refusal is not None:
        raise TransitionError(*refusal)
    transition = TRANSITIONS[(state, step)]
    if transition.text_required and not (text and text.strip()):
        raise TransitionError("reason_required", f"'{step}' needs a written text.")
    return transition.next_state


def _refusal(state, step, relations, is_owner) -> tuple[str, str] | None:
    transition = TRANSITIONS.get((state, step))
    if transition is None:
        where = state or "not raised"
        return "not_allowed_in_state", f"'{step}' is not possible on an appeal that is {where}."
    if not transition.relations & set(relations):
        return "forbidden", f"You may not '{step}' this appeal."
    if (is_owner or Relation.OWNER in relations) and not transition.own_allowed:
        return "own_scorecard", f"You cannot '{step}' an appeal about your own scorecard."
    return None


def _blocker(step, facts) -> tuple[str, str] | None:
    return first_blocker(BLOCKERS, BLOCKER_MESSAGES, step, facts)
