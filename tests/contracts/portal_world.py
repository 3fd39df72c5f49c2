"""Two client companies, each with a contract in force, a proposed amendment, an invite and
reports in every state (accepted with a signed document, disputed, sent, draft), for the
portal and isolation tests. Every text that belongs to one company carries its tag, so a page
of the other company's client can be searched for it.

The reports are written with the models (rows as the reports services leave them), so the
isolation suite does not depend on how they are computed."""
import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from kpiapp.contracts.amendment_flow import TermsState
from kpiapp.contracts.report_flow import ReportState, ReportStep
from kpiapp.contracts.invites import hash_token
from kpiapp.extensions import db
from kpiapp.models import (ClientInvite, ContractClause, ContractDocument, ContractReport,
                           ContractReportEvent, ContractReportRevision, ContractVersion, ContractVersionStore)
from kpiapp.models.api_tokens import ApiToken
from kpiapp.models.api_tokens import hash_token as hash_api_token
from kpiapp.models.base import utcnow
from tests.contracts.factories import ACOS_CLAUSE, GMV_CLAUSE, make_contract
from tests.factories import ClientCompanyFactory

MONTHS = {ReportState.ACCEPTED: 7, ReportState.DISPUTED: 8, ReportState.SENT: 9, ReportState.DRAFT: 10}


@dataclass
class CompanyWorld:
    tag: str
    setup: object
    reports: dict = field(default_factory=dict)  # ReportState -> ContractReport
    proposed: object = None
    document: object = None
    invite: object = None
    api_secret: str = ""
    api_token: object = None

    @property
    def client(self):
        return self.setup.client_user

    def markers(self):
        """Texts only this company's pages may show (the internal note: no client page at all)."""
        return {self.setup.company.name, self.setup.contract.code, f"{self.tag} GMV", f"{self.tag} ACoS",
                f"{self.tag} dispute comment", f"{self.tag} amendment", self.client.email, self.document.document_id}

    def internal(self):
        return f"{self.tag} internal note"


def company_world(tag):
    company = ClientCompanyFactory(name=f"{tag} Holdings")
    clauses = ({**GMV_CLAUSE, "name": f"{tag} GMV"}, {**ACOS_CLAUSE, "name": f"{tag} ACoS"})
    setup = make_contract(company=company, code=f"K-{tag}", clauses=clauses, client_mfa=False)
    world = CompanyWorld(tag, setup)
    for state, month in MONTHS.items():
        world.reports[state] = add_report(setup, tag, date(2026, month, 1), state)
    world.document = add_document(world.reports[ReportState.ACCEPTED], setup.client_user, tag)
    world.proposed = add_amendment(setup, tag)
    world.invite = ClientInvite(client_company_id=company.id, email=f"next@{tag.lower()}.example", name=tag,
                                locale="en", token_hash=hash_token(f"{tag}-token"),
                                expires_at=utcnow() + timedelta(days=7), invited_by_id=setup.hr.id)
    world.api_secret = f"kpi_{tag}_secret_token_value"
    world.api_token = ApiToken(user_id=setup.client_user.id, name="mine", hint="kpi_",
                               token_hash=hash_api_token(world.api_secret))
    db.session.add_all([world.invite, world.api_token])
    db.session.commit()
    return world


def line(clause, value, points, override=None):
    return {"clause_id": clause.id, "name": clause.name, "metric_key": clause.metric_key, "kind": "metric",
            "unit": "money" if clause.metric_key == "gmv" else "fraction", "weight": str(clause.weight),
            "target": str(clause.target), "threshold": str(clause.threshold), "stretch": str(clause.stretch),
            "data_value": value, "value": value, "override": override, "points": points, "explanation": None,
            "provenance": {"formula": "ordered_sales", "fact_count": 4, "stores": [1, 2], "data_as_of": "2026-08-02",
                           "base_currency": "USD", "fx_count": 0}, "data_as_of": "2026-08-02"}


FEE = {"steps": [{"code": "base", "amount": "20000.00", "params": {}},
                 {"code": "commission", "amount": "3300.00", "params": {"pct": "3", "base": "110000"}},
                 {"code": "subtotal", "amount": "23300.00", "params": {}},
                 {"code": "adjustment", "amount": "0.00", "params": {"pct": "0", "score": "104"}},
                 {"code": "bonus", "amount": "0.00", "params": {"score": "104", "threshold": "105"}},
                 {"code": "total", "amount": "23300.00", "params": {}}],
       "total": "23300.00", "currency": "USD", "missing": None}


def add_report(setup, tag, start, state):
    gmv, acos = setup.version.clauses
    end = date(start.year, start.month + 1, 1) - timedelta(days=1)
    report = ContractReport(contract_id=setup.contract.id, version_id=setup.version.id, period_start=start,
                            period_end=end, state=state, revision=1)
    override = {"value": "0.24", "reason": f"{tag} override reason"}
    sent = None if state == ReportState.DRAFT else utcnow()
    report.revisions.append(ContractReportRevision(
        number=1, lines=[line(gmv, "110000", "110"), line(acos, "0.24", "104", override)], score=Decimal("107.6"),
        fee=FEE, fee_total=Decimal("23300.00"), internal_note=f"{tag} internal note", created_by_id=setup.lead.id,
        sent_at=sent, sent_by_id=setup.lead.id if sent else None))
    report.events.append(ContractReportEvent(revision=1, step=ReportStep.GENERATE, actor_id=setup.lead.id,
                                             actor_account=setup.lead.email))
    if sent:
        report.events.append(ContractReportEvent(revision=1, step=ReportStep.SEND, actor_id=setup.lead.id,
                                                 actor_account=setup.lead.email))
    if state == ReportState.DISPUTED:
        report.events.append(ContractReportEvent(revision=1, step=ReportStep.DISPUTE, clause_id=gmv.id,
                                                 comment=f"{tag} dispute comment", actor_id=setup.client_user.id,
                                                 actor_account=setup.client_user.email))
    db.session.add(report)
    db.session.commit()
    return report


def add_document(report, client, tag):
    pdf = f"%PDF-1.4 {tag} signed report".encode()
    report.events.append(ContractReportEvent(revision=1, step=ReportStep.ACCEPT, actor_id=client.id,
                                             actor_account=client.email))
    document = ContractDocument(document_id=f"CR-{tag}-0001", report_id=report.id, revision=1, lang="en", pdf=pdf,
                                size=len(pdf), sha256=hashlib.sha256(pdf).hexdigest(), signer_subject="CN=test",
                                accepted_by_id=client.id)
    db.session.add(document)
    db.session.commit()
    return document


def add_amendment(setup, tag):
    version = ContractVersion(contract_id=setup.contract.id, number=2, status=TermsState.PROPOSED,
                              effective_from=date(2026, 11, 1), summary=f"{tag} amendment: GMV target up",
                              base_fee=Decimal(21000), fee_currency="USD", commission_pct=Decimal(3),
                              commission_metric="gmv", fee_bands=[], created_by_id=setup.hr.id,
                              proposed_by_id=setup.hr.id, proposed_at=utcnow())
    version.stores = [ContractVersionStore(store_id=s.id) for s in setup.stores]
    version.clauses = [ContractClause(seq=c.seq, kind=c.kind, metric_key=c.metric_key, name=c.name, weight=c.weight,
                                      threshold=c.threshold, target=c.target, stretch=c.stretch, rule=c.rule,
                                      store_ids=[]) for c in setup.version.clauses]
    db.session.add(version)
    db.session.commit()
    return version
