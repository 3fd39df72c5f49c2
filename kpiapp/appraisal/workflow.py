"""The scorecard state machine: who may do what on a scorecard, in two tables.

`TRANSITIONS` moves a scorecard between states; `EDITS` says who may change it
without moving it (targets, reviews, change requests, calibration, acknowledgement).
`permitted()` answers both for one actor now; services guard with `check()` and
`check_edit()`, screens and the API list what `permitted()` returns.

Pure: the caller passes the actor's relations to the scorecard (computed from the
reporting line and roles) and the facts about it, sets the new state and writes the
audit event. This module never touches a model, Flask or the database.
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


class Edit(StrEnum):
    """Changes that keep the state; each is one service and one form on the scorecard page."""

    EDIT_TARGETS = "edit_targets"
    REQUEST_CHANGE = "request_change"
    DECIDE_CHANGE = "decide_change"
    SELF_REVIEW = "self_review"
    MANAGER_REVIEW = "manager_review"
    CALIBRATE = "calibrate"
    ACKNOWLEDGE = "acknowledge"


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


@dataclass(frozen=True)
class EditRule:
    states: frozenset[ScorecardState]
    relations: frozenset[Relation]
    own_allowed: bool = False
    # the refusal code when the state is wrong (targets keep their historical code)
    state_code: str = "not_allowed_in_state"


@dataclass(frozen=True)
class Facts:
    """What the rules need to know about the scorecard besides its state."""

    superseded: bool = False  # a reopen made a newer version
    change_pending: bool = False  # a target change request waits for a decision
    change_requested_by_actor: bool = False  # ... and the actor asked for it
    acknowledged: bool = False
    dispute_open: bool = False  # a data dispute is open and HR has not overridden it (dispute_flow.py)


NO_FACTS = Facts()


@dataclass(frozen=True)
class Permitted:
    """What one actor may do on one scorecard now, in enum order."""

    actions: tuple[Action, ...]
    edits: tuple[Edit, ...]


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
CHANGE_STATES = frozenset({S.APPROVED, S.SELF_REVIEW, S.MANAGER_REVIEW})
OPEN_STATES = frozenset(S) - {S.LOCKED}
E = Edit


def _e(states, *relations, own=False, state_code="not_allowed_in_state") -> EditRule:
    return EditRule(frozenset(states), frozenset(relations), own, state_code)


EDITS: dict[Edit, EditRule] = {
    E.EDIT_TARGETS: _e(EDITABLE_STATES, R.OWNER, R.MANAGER, own=True, state_code="not_editable"),
    # approved targets change only through a request that someone else decides
    E.REQUEST_CHANGE: _e(CHANGE_STATES, R.OWNER, R.MANAGER, own=True),
    # a request may outlive the manager review; lock waits for the decision
    E.DECIDE_CHANGE: _e(OPEN_STATES, R.MANAGER),
    E.SELF_REVIEW: _e({S.SELF_REVIEW}, R.OWNER, own=True),
    E.MANAGER_REVIEW: _e({S.MANAGER_REVIEW}, R.MANAGER),
    E.CALIBRATE: _e({S.CALIBRATION}, R.HR),
    E.ACKNOWLEDGE: _e({S.LOCKED}, R.OWNER, own=True),
}

# Facts that refuse a step the tables allow: (step it concerns, None for every step; test; code)
BLOCKERS = (
    (None, lambda f: f.superseded, "superseded"),
    (E.REQUEST_CHANGE, lambda f: f.change_pending, "change_request_pending"),
    (E.DECIDE_CHANGE, lambda f: not f.change_pending, "already_decided"),
    (E.DECIDE_CHANGE, lambda f: f.change_requested_by_actor, "own_request"),
    (E.ACKNOWLEDGE, lambda f: f.acknowledged, "already_acknowledged"),
    (A.LOCK, lambda f: f.dispute_open, "dispute_open"),
)
BLOCKER_MESSAGES = {
    "superseded": "A newer version of this scorecard exists.",
    "change_request_pending": "A change request is already pending.",
    "already_decided": "This change request was already decided.",
    "own_request": "Someone other than the requester decides a change request.",
    "already_acknowledged": "This result was already acknowledged.",
    "dispute_open": "A data dispute on this scorecard is open; close it or have HR override it.",
}


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
    facts: Facts = NO_FACTS,
) -> ScorecardState:
    """Return the state after `action`, or raise TransitionError.

    Error codes: 'not_allowed_in_state', 'forbidden', 'own_scorecard', 'reason_required',
    'superseded'.
    """
    refusal = _refusal(state, action, relations, is_owner)
    if refusal is not None:
        raise TransitionError(*refusal)
    transition = TRANSITIONS[(state, action)]
    if transition.reason_required and not (reason and reason.strip()):
        raise TransitionError("reason_required", f"'{action}' needs a reason.")
    blocked = _blocker(action, facts)
    if blocked is not None:
        raise TransitionError(*blocked)
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


def check_edit(
    state: ScorecardState,
    edit: Edit,
    relations: set[Relation],
    *,
    is_owner: bool,
    facts: Facts = NO_FACTS,
) -> None:
    """Raise TransitionError unless this actor may make `edit` now (same codes as `check`,
    plus the state code of the edit and the BLOCKERS' codes)."""
    refusal = _edit_refusal(state, edit, relations, is_owner) or _blocker(edit, facts)
    if refusal is not None:
        raise TransitionError(*refusal)


def permitted(
    state: ScorecardState,
    relations: set[Relation],
    *,
    is_owner: bool,
    hr_approval_required: bool,
    facts: Facts = NO_FACTS,
) -> Permitted:
    """Every action and edit this actor may take now: the one answer for buttons,
    forms and the API. Reasons are not asked for here; `check` asks for them."""
    actions = [a for a in Action if not (_refusal(state, a, relations, is_owner) or _blocker(a, facts))]
    edits = [e for e in Edit if not (_edit_refusal(state, e, relations, is_owner) or _blocker(e, facts))]
    return Permitted(tuple(actions), tuple(edits))


def _edit_refusal(
    state: ScorecardState, edit: Edit, relations: set[Relation], is_owner: bool
) -> tuple[str, str] | None:
    rule = EDITS[edit]
    if state not in rule.states:
        return rule.state_code, f"'{edit}' is not possible on a {state} scorecard."
    if not rule.relations & set(relations):
        return "forbidden", f"You may not '{edit}' on this scorecard."
    if (is_owner or Relation.OWNER in relations) and not rule.own_allowed:
        return "own_scorecard", f"You cannot '{edit}' on your own scorecard."
    return None


def _blocker(step: Action | Edit, facts: Facts) -> tuple[str, str] | None:
    return first_blocker(BLOCKERS, BLOCKER_MESSAGES, step, facts)


def first_blocker(blockers, messages, step, facts) -> tuple[str, str] | None:
    """(code, message) of the first of `blockers` ((step or None, test, code) rows) that refuses
    `step` given `facts`, or None; shared by the state machines built like this one."""
    for concerns, blocks, code in blockers:
        if (concerns is None or concerns == step) and blocks(facts):
            return code, messages[code]
    return None


# ---- where a scorecard stands: seven stages, whose move, which deadline -------------------

class Stage(LabelledEnum):
    """The seven stages a scorecard passes through, as the stepper shows them."""

    TARGETS = "targets", N_("Targets")
    APPROVAL = "approval", N_("Approval")
    TRACKING = "tracking", N_("Tracking")
    SELF_REVIEW = "self_review", N_("Self-review")
    MANAGER_REVIEW = "manager_review", N_("Manager review")
    CALIBRATION = "calibration", N_("Calibration")
    LOCKED = "locked", N_("Locked")


STAGE_OF = {
    S.DRAFT: Stage.TARGETS, S.RETURNED: Stage.TARGETS, S.SUBMITTED: Stage.APPROVAL,
    S.HR_APPROVAL: Stage.APPROVAL, S.APPROVED: Stage.TRACKING, S.SELF_REVIEW: Stage.SELF_REVIEW,
    S.MANAGER_REVIEW: Stage.MANAGER_REVIEW, S.CALIBRATION: Stage.CALIBRATION, S.LOCKED: Stage.LOCKED,
}

# whose move it is in each state: the person, their manager, or HR
NEXT_ACTOR = {
    S.DRAFT: R.OWNER, S.RETURNED: R.OWNER, S.SUBMITTED: R.MANAGER, S.HR_APPROVAL: R.HR,
    S.APPROVED: R.OWNER, S.SELF_REVIEW: R.OWNER, S.MANAGER_REVIEW: R.MANAGER,
    S.CALIBRATION: R.HR, S.LOCKED: R.OWNER,
}

# the cycle deadline (a Cycle column) of the stage each state is in; a locked card has none
DEADLINE_FIELD = {
    S.DRAFT: "targets_due", S.RETURNED: "targets_due", S.SUBMITTED: "approval_due",
    S.HR_APPROVAL: "approval_due", S.APPROVED: "self_review_due", S.SELF_REVIEW: "self_review_due",
    S.MANAGER_REVIEW: "manager_review_due", S.CALIBRATION: "calibration_due",
}


class Todo(LabelledEnum):
    """What the next actor is asked to do, one per state (the inbox's verb)."""

    DRAFT = "draft", N_("Draft and submit your targets")
    RETURNED = "returned", N_("Revise and resubmit your targets")
    SUBMITTED = "submitted", N_("Approve or return the targets")
    HR_APPROVAL = "hr_approval", N_("Approve the targets as HR")
    APPROVED = "approved", N_("Work on your targets")
    SELF_REVIEW = "self_review", N_("Complete your self-review")
    MANAGER_REVIEW = "manager_review", N_("Review and score")
    CALIBRATION = "calibration", N_("Calibrate and lock the result")
    LOCKED = "locked", N_("Confirm your result")


RETURNS = frozenset({A.RETURN_, A.RETURN_SELF_REVIEW})

# a step that sends on what a form edits: its button sits next to that form on the scorecard page
FORM_OF_ACTION = {
    A.SUBMIT: E.EDIT_TARGETS,
    A.SUBMIT_SELF_REVIEW: E.SELF_REVIEW,
    A.SUBMIT_MANAGER_REVIEW: E.MANAGER_REVIEW,
    A.RETURN_SELF_REVIEW: E.MANAGER_REVIEW,
}
