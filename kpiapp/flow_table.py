"""One transition table for the small state machines (disputes, appeals, contract reports and
terms, tasks).

Built like appraisal/workflow.py: a table of (state before, step) -> Transition, `permitted()`
for the buttons, `check()` for the services, and blockers for facts that refuse a step the
table allows. Refusals are workflow.TransitionError with a code. Parties are whatever enum
the caller's policy function answers with. A table with `own_code` also refuses, with that
code, the steps not marked `own` to an actor acting on their own case (their own scorecard,
their own dispute). Pure: no model, Flask or database here.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kpiapp.appraisal.workflow import TransitionError, first_blocker


@dataclass(frozen=True)
class Transition:
    next_state: StrEnum
    parties: frozenset
    text_required: bool = False
    own_allowed: bool = False  # may be taken on one's own case (tables with `own_code` only)


def transition(next_state, *parties, text=False, own=False) -> Transition:
    return Transition(next_state, frozenset(parties), text, own)


@dataclass(frozen=True)
class FlowTable:
    """A state machine: `transitions[(state or None, step)]`, `blockers` ((step, test, code)
    rows over a facts object) and their `messages`."""

    steps: type
    transitions: dict
    blockers: tuple = ()
    messages: dict | None = None
    text_code: str = "text_required"  # the refusal code of a step taken without its text
    own_code: str | None = None  # set: steps not marked `own` are refused on one's own case
    own_party: object = None  # a party that always means "one's own case" (e.g. the raiser)

    def permitted(self, state, parties, facts=None, *, own=False) -> tuple:
        """The steps these parties may take now, in step order (texts are asked by `check`)."""
        return tuple(step for step in self.steps
                     if not (self.refusal(state, step, parties, own) or self.blocked(step, facts)))

    def check(self, state, step, parties, *, text=None, facts=None, own=False):
        """The state after `step`, or raise TransitionError ('not_allowed_in_state',
        'forbidden', `own_code`, `text_code` or a blocker's code)."""
        refusal = self.refusal(state, step, parties, own) or self.blocked(step, facts)
        if refusal is not None:
            raise TransitionError(*refusal)
        rule = self.transitions[(state, step)]
        if rule.text_required and not (text and text.strip()):
            raise TransitionError(self.text_code, f"'{step}' needs a written text.")
        return rule.next_state

    def refusal(self, state, step, parties, own=False) -> tuple[str, str] | None:
        rule = self.transitions.get((state, step))
        if rule is None:
            return "not_allowed_in_state", f"'{step}' is not possible in state {state or 'none'}."
        if not rule.parties & set(parties):
            return "forbidden", f"You may not '{step}' here."
        if self.own_code and (own or self.own_party in parties) and not rule.own_allowed:
            return self.own_code, f"You cannot '{step}' on your own case."
        return None

    def blocked(self, step, facts) -> tuple[str, str] | None:
        if facts is None:
            return None
        return first_blocker(self.blockers, self.messages or {}, step, facts)
