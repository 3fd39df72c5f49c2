"""The contract terms (a ContractVersion) state machine (docs/contracts.md, "Amendment flow").

    draft ─activate─> in_force                     version 1, with the contract (agency)
    draft ─propose──> proposed ─accept──> in_force  (client)
                               ├reject──> rejected  (client, with a reason)
                               └withdraw> withdrawn (agency)
"""
from __future__ import annotations

from dataclasses import dataclass

from kpiapp.contracts.flow import ContractParty, FlowTable, transition
from kpiapp.i18n import N_, LabelledEnum


class TermsState(LabelledEnum):
    DRAFT = "draft", N_("Draft")
    PROPOSED = "proposed", N_("Proposed to the client")
    IN_FORCE = "in_force", N_("In force")
    REJECTED = "rejected", N_("Rejected by the client")
    WITHDRAWN = "withdrawn", N_("Withdrawn")


class TermsStep(LabelledEnum):
    ACTIVATE = "activate", N_("Put the contract in force")
    PROPOSE = "propose", N_("Propose the amendment to the client")
    ACCEPT = "accept", N_("Accept the amendment")
    REJECT = "reject", N_("Reject the amendment")
    WITHDRAW = "withdraw", N_("Withdraw the amendment")


@dataclass(frozen=True)
class TermsFacts:
    first_version: bool = True  # version 1 is activated; later versions are proposed
    weights_off: bool = False
    no_clauses: bool = False
    no_stores: bool = False


St, Step, P = TermsState, TermsStep, ContractParty

TRANSITIONS = {
    (St.DRAFT, Step.ACTIVATE): transition(St.IN_FORCE, P.AGENCY),
    (St.DRAFT, Step.PROPOSE): transition(St.PROPOSED, P.AGENCY),
    (St.PROPOSED, Step.ACCEPT): transition(St.IN_FORCE, P.CLIENT),
    (St.PROPOSED, Step.REJECT): transition(St.REJECTED, P.CLIENT, text=True),
    (St.PROPOSED, Step.WITHDRAW): transition(St.WITHDRAWN, P.AGENCY),
}

BLOCKERS = (
    (Step.ACTIVATE, lambda f: not f.first_version, "amend_instead"),
    (Step.PROPOSE, lambda f: f.first_version, "activate_instead"),
    *((step, lambda f: f.no_clauses, "no_clauses") for step in (Step.ACTIVATE, Step.PROPOSE)),
    *((step, lambda f: f.no_stores, "no_stores") for step in (Step.ACTIVATE, Step.PROPOSE)),
    *((step, lambda f: f.weights_off, "weights_off") for step in (Step.ACTIVATE, Step.PROPOSE)),
)
MESSAGES = {
    "amend_instead": N_("The contract is in force: a change is an amendment the client accepts."),
    "activate_instead": N_("The first terms come into force with the contract."),
    "no_clauses": N_("Add at least one KPI clause."),
    "no_stores": N_("Choose the stores the contract covers."),
    "weights_off": N_("The clauses' weights must add up to 100."),
}

TERMS_FLOW = FlowTable(TermsStep, TRANSITIONS, BLOCKERS, MESSAGES)
