"""The contract report (合同月报) state machine (docs/contracts.md, "The report flow").

    (none) ─generate─> draft ─send─> sent ─accept─> accepted   (the signed PDF is issued)
                       ^  │refresh    └─dispute─> disputed ─answer─> disputed
                       │  └──┘                         │
                       └───────────revise──────────────┘   (a new revision; old ones stay)

The agency (HR, admin, the account team) generates, refreshes, sends, answers and revises;
a client user of the contract's company accepts or disputes one clause with a comment.
"""
from __future__ import annotations

from dataclasses import dataclass

from kpiapp.contracts.flow import ContractParty, FlowTable, transition
from kpiapp.i18n import N_, LabelledEnum


class ReportState(LabelledEnum):
    DRAFT = "draft", N_("Draft (agency only)")
    SENT = "sent", N_("Sent to the client")
    DISPUTED = "disputed", N_("Disputed by the client")
    ACCEPTED = "accepted", N_("Accepted and signed")


class ReportStep(LabelledEnum):
    """A step on a report; `label` is its button, `event_label` its line in the history."""

    GENERATE = "generate", N_("Generate the report")
    REFRESH = "refresh", N_("Recompute from the data")
    SEND = "send", N_("Send to the client")
    ACCEPT = "accept", N_("Accept the report")
    DISPUTE = "dispute", N_("Dispute a clause")
    ANSWER = "answer", N_("Answer the dispute")
    REVISE = "revise", N_("Start a corrected revision")

    @property
    def event_label(self) -> str:
        return _EVENT_LABELS[self]


_EVENT_LABELS = {
    ReportStep.GENERATE: N_("Report generated"),
    ReportStep.REFRESH: N_("Recomputed from the data"),
    ReportStep.SEND: N_("Sent to the client"),
    ReportStep.ACCEPT: N_("Accepted by the client"),
    ReportStep.DISPUTE: N_("Clause disputed"),
    ReportStep.ANSWER: N_("Dispute answered"),
    ReportStep.REVISE: N_("Corrected revision started"),
}


@dataclass(frozen=True)
class ReportFacts:
    missing_actuals: bool = False  # a metric clause has no value and no manual override
    weights_off: bool = False  # the clauses' weights do not sum to 100
    clause_named: bool = True  # a dispute names one clause of the report


St, Step, P = ReportState, ReportStep, ContractParty

TRANSITIONS = {
    (None, Step.GENERATE): transition(St.DRAFT, P.AGENCY),
    (St.DRAFT, Step.REFRESH): transition(St.DRAFT, P.AGENCY),
    (St.DRAFT, Step.SEND): transition(St.SENT, P.AGENCY),
    (St.SENT, Step.ACCEPT): transition(St.ACCEPTED, P.CLIENT),
    (St.SENT, Step.DISPUTE): transition(St.DISPUTED, P.CLIENT, text=True),
    (St.DISPUTED, Step.DISPUTE): transition(St.DISPUTED, P.CLIENT, text=True),
    (St.DISPUTED, Step.ANSWER): transition(St.DISPUTED, P.AGENCY, text=True),
    (St.DISPUTED, Step.REVISE): transition(St.DRAFT, P.AGENCY),
}

BLOCKERS = (
    (Step.SEND, lambda f: f.missing_actuals, "missing_actuals"),
    (Step.SEND, lambda f: f.weights_off, "weights_off"),
    (Step.DISPUTE, lambda f: not f.clause_named, "clause_required"),
)
MESSAGES = {
    "missing_actuals": N_("A clause has no value from the data: import the data or enter a value with a reason."),
    "weights_off": N_("The clauses' weights must add up to 100."),
    "clause_required": N_("Choose the clause you dispute."),
}

REPORT_FLOW = FlowTable(ReportStep, TRANSITIONS, BLOCKERS, MESSAGES)
# states in which the client sees the report (a draft is the agency's alone)
CLIENT_VISIBLE = frozenset({St.SENT, St.DISPUTED, St.ACCEPTED})
