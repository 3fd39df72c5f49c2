"""The scorecard state machine: one transition table and the guards around it.

Pure: the caller passes the actor's relations to the scorecard (computed from the
reporting line and roles), sets the new state and writes the audit event. This
module never touches a model, Flask or the database.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kpiapp.i18n import N_, LabelledEnum


class ScorecardState(LabelledEnum):
    DRAFT = "draft", N_("Draft")
    RETURNED = "returned", N_("Returned")
    SUBMITTED = "submitted", N_("Submitted")
    HR_APPROVAL = "hr_approval", N_("Waiting for HR approval")
    APPROVED = "approved", N_("Approved")
    SELF_REVIEW = "self_review", N_("Self-review")
    MANAGER_REVIEW = "manager_review", N_("Manager review")
    CALIBRATION = "calibration", N_("Calibration")
    LOCKED = "locked", N_("Locked")


class Action(LabelledEnum):
    """A workflow step; `label` is its button, `event_label` its line in the approval trail."""

    SUBMIT = "submit", N_("Submit targets")
    RETURN_ = "return", N_("Return with a reason")
    APPROVE = "approve", N_("Approve targets")
    HR_APPROVE = "hr_approve", N_("Approve as HR")
    OPEN_REVIEW = "open_review", N_("Open the review")
    SUBMIT_SELF_REVIEW = "submit_self_review", N_("Submit self-review")
    RETURN_SELF_REVIEW = "return_self_review", N_("Return the self-review")
    SUBMIT_MANAGER_REVIEW = "submit_manager_review", N_("Submit manager review")
    LOCK = "lock", N_("Lock the result")
    REOPEN = "reopen", N_("Reopen as a new version")

    @property
    def event_label(self) -> str:
        return _EVENT_LABELS[self]


_EVENT_LABELS = {
    Action.SUBMIT: N_("Targets submitted"),
    Action.RETURN_: N_("Targets returned"),
    Action.APPROVE: N_("Targets approved"),
    Action.HR_APPROVE: N_("Targets approved by HR"),
    Action.OPEN_REVIEW: N_("Review opened"),
    Action.SUBMIT_SELF_REVIEW: N_("Self-review submitted"),
    Action.RETURN_SELF_REVIEW: N_("Self-review returned"),
    Action.SUBMIT_MANAGER_REVIEW: N_("Manager review submitted"),
    Action.LOCK: N_("Locked"),
    Action.REOPEN: N_("Reopened"),
}


class Relation(StrEnum):
    """How the actor relates to this scorecard; manager = anyone up the reporting line."""

    OWNER = "owner"
    MANAGER = "manager"
    HR = "hr"
    ADMIN = "admin"


@dataclass(frozen=True)
class Transition:
    next_state: ScorecardState
    relations: frozenset[Relation]
    reason_required: bool = False
    # approve goes through HR first when the cycle asks for a second level
    next_state_if_hr_approval: ScorecardState | None = None


class TransitionError(Exception):
    """A refused transition; `code` is one of the module's error codes."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


S, A, R = ScorecardState, Action, Relation


def _t(next_state, *relations, reason=False, if_hr=None) -> Transition:
    return Transition(next_state, frozenset(relations), reason, if_hr)


TRANSITIONS: dict[tuple[ScorecardState, Action], Transition] = {
    (S.DRAFT, A.SUBMIT): _t(S.SUBMITTED, R.OWNER, R.MANAGER),
    (S.RETURNED, A.SUBMIT): _t(S.SUBMITTED, R.OWNER, R.MANAGER),
    (S.SUBMITTED, A.APPROVE): _t(S.APPROVED, R.MANAGER, if_hr=S.HR_APPROVAL),
    (S.SUBMITTED, A.RETURN_): _t(S.RETURNED, R.MANAGER, reason=True),
    (S.HR_APPROVAL, A.HR_APPROVE): _t(S.APPROVED, R.HR),
    (S.HR_APPROVAL, A.RETURN_): _t(S.RETURNED, R.HR, reason=True),
    (S.APPROVED, A.OPEN_REVIEW): _t(S.SELF_REVIEW, R.HR, R.MANAGER),
    (S.SELF_REVIEW, A.SUBMIT_SELF_REVIEW): _t(S.MANAGER_REVIEW, R.OWNER),
    (S.MANAGER_REVIEW, A.RETURN_SELF_REVIEW): _t(S.SELF_REVIEW, R.MANAGER, reason=True),
    (S.MANAGER_REVIEW, A.SUBMIT_MANAGER_REVIEW): _t(S.CALIBRATION, R.MANAGER),
    (S.CALIBRATION, A.LOCK): _t(S.LOCKED, R.HR),
    # the caller creates a new scorecard version when reopening
    (S.LOCKED, A.REOPEN): _t(S.MANAGER_REVIEW, R.ADMIN, reason=True),
}

# The only actions a person may take on their own scorecard; everything else
# (approve, return, open or do a review, lock, reopen) needs someone else, even
# when the owner is HR, an admin or somebody's manager.
OWNER_ACTIONS = frozenset({A.SUBMIT, A.SUBMIT_SELF_REVIEW})

EDITABLE_STATES = frozenset({S.DRAFT, S.RETURNED})


def is_frozen(state: ScorecardState) -> bool:
    """True once the scorecard is locked: nothing changes it except an audited reopen."""
    return state == S.LOCKED


def allowed_actions(
    state: ScorecardState,
    relations: set[Relation],
    *,
    is_owner: bool,
    hr_approval_required: bool,
) -> list[Action]:
    """Actions this actor may take now, in Action order (for buttons in templates).

    Actions that need a reason are listed; the reason is checked by `check`.
    """
    return [a for a in Action if _refusal(state, a, relations, is_owner) is None]


def check(
    state: ScorecardState,
    action: Action,
    relations: set[Relation],
    *,
    is_owner: bool,
    hr_approval_required: bool,
    reason: str | None = None,
) -> ScorecardState:
    """Return the state after `action`, or raise TransitionError.

    Error codes: 'not_allowed_in_state', 'forbidden', 'own_scorecard', 'reason_required'.
    """
    refusal = _refusal(state, action, relations, is_owner)
    if refusal is not None:
        raise TransitionError(*refusal)
    transition = TRANSITIONS[(state, action)]
    if transition.reason_required and not (reason and reason.strip()):
        raise TransitionError("reason_required", f"'{action}' needs a reason.")
    if hr_approval_required and transition.next_state_if_hr_approval is not None:
        return transition.next_state_if_hr_approval
    return transition.next_state


def _refusal(
    state: ScorecardState, action: Action, relations: set[Relation], is_owner: bool
) -> tuple[str, str] | None:
    transition = TRANSITIONS.get((state, action))
    if transition is None:
        return "not_allowed_in_state", f"'{action}' is not possible on a {state} scorecard."
    if not transition.relations & set(relations):
        return "forbidden", f"You may not '{action}' this scorecard."
    # fail closed: the owner relation counts as ownership even if is_owner says otherwise
    owner = is_owner or Relation.OWNER in relations
    if owner and action not in OWNER_ACTIONS:
        return "own_scorecard", f"You cannot '{action}' your own scorecard."
    return None
