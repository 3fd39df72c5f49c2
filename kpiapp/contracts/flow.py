"""The parties of the contract state machines (report_flow, amendment_flow); their tables are
kpiapp.flow_table.FlowTable."""
from enum import StrEnum

from kpiapp.flow_table import FlowTable, Transition, transition

__all__ = ["ContractParty", "FlowTable", "Transition", "transition"]


class ContractParty(StrEnum):
    """How the actor relates to a contract (policy.contract_parties decides)."""

    AGENCY = "agency"  # HR, admin, the contract's lead and account team
    CLIENT = "client"  # an active client user of the contract's company
