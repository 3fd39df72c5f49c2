"""Contract test data (docs/contracts.md): a client company with two stores we operate, an
account team, and a contract whose version 1 is in force; facts for its stores.

Written with the models directly so every helper's tests can start from the same contract;
the terms services (kpiapp/contracts/terms.py) are tested on their own.
"""
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from kpiapp.contracts.amendment_flow import TermsState
from kpiapp.extensions import db
from kpiapp.models import (ClientCompany, Contract, ContractClause, ContractMember, ContractStatus, ContractVersion,
                           ContractVersionStore, ImportRecord, MetricFact, Role)
from tests.factories import ClientCompanyFactory, ClientUserFactory, StoreFactory, UserFactory

GMV_CLAUSE = {"kind": "metric", "metric_key": "gmv", "name": "GMV", "weight": Decimal(60),
              "threshold": Decimal(80000), "target": Decimal(100000), "stretch": Decimal(120000),
              "rule": {"kind": "linear", "cap": "120"}}
ACOS_CLAUSE = {"kind": "metric", "metric_key": "acos", "name": "ACoS", "weight": Decimal(40),
               "threshold": Decimal("0.35"), "target": Decimal("0.25"), "stretch": Decimal("0.20"),
               "rule": {"kind": "linear", "direction": "lower_better", "cap": "120"}}
FEE_BANDS = [{"lower": "110", "upper": None, "adjust_pct": "10"},
             {"lower": "60", "upper": "80", "adjust_pct": "-10"},
             {"lower": None, "upper": "60", "adjust_pct": "-20"}]


@dataclass
class ContractSetup:
    contract: Contract
    version: ContractVersion
    company: ClientCompany
    stores: list
    hr: object
    lead: object
    member: object
    client_user: object

    @property
    def clauses(self):
        return self.version.clauses


def make_contract(*, company=None, code=None, start=date(2026, 7, 1), end=date(2027, 6, 30),
                  clauses=(GMV_CLAUSE, ACOS_CLAUSE), status=ContractStatus.active, client_mfa=True):
    """An active monthly contract, version 1 in force from `start`: GMV (60) and ACoS (40) over
    two USD Amazon stores of the client; fee 20,000 + 3 % of GMV, bands +10/-10/-20 %,
    bonus 5,000 from 105 points."""
    company = company or ClientCompanyFactory()
    stores = [StoreFactory(client_company_id=company.id, currency="USD") for _ in range(2)]
    hr = UserFactory(role=Role.hr)
    lead, member = UserFactory(), UserFactory()
    client_user = ClientUserFactory(client_company=company)
    if client_mfa:
        client_user.totp_enabled = True
    contract = Contract(code=code or f"C-{company.id}-{len(stores)}", title=f"{company.name} KPI contract",
                        client_company_id=company.id, period="monthly", start_date=start, end_date=end,
                        status=status, lead_id=lead.id, created_by_id=hr.id)
    contract.members.append(ContractMember(person_id=member.id))
    version = ContractVersion(number=1, status=TermsState.IN_FORCE if status != ContractStatus.draft
                              else TermsState.DRAFT, effective_from=start, base_fee=Decimal(20000),
                              fee_currency="USD", commission_pct=Decimal(3), commission_metric="gmv",
                              fee_bands=FEE_BANDS, bonus_threshold=Decimal(105), bonus_amount=Decimal(5000),
                              created_by_id=hr.id)
    version.stores = [ContractVersionStore(store_id=s.id) for s in stores]
    version.clauses = [ContractClause(seq=i, **{**c, "store_ids": []}) for i, c in enumerate(clauses)]
    contract.versions.append(version)
    db.session.add(contract)
    db.session.commit()
    return ContractSetup(contract, version, company, stores, hr, lead, member, client_user)


def add_facts(store, rows, *, currency="USD", name="facts.csv"):
    """Facts for `store` from one committed import: rows = [(date, family, measure, value)]."""
    record = ImportRecord(filename=name, sha256=f"{store.id:064d}"[-64:], size=1,
                          dedupe_key=f"{name}-{store.id}-{len(rows)}-{rows[0][0]}", status="committed")
    db.session.add(record)
    db.session.flush()
    db.session.add_all(MetricFact(store_id=store.id, family=family, business_date=day, period_end=day, sku="",
                                  ref="", measure=measure, value=Decimal(str(value)), currency=currency,
                                  import_id=record.id)
                       for day, family, measure, value in rows)
    db.session.commit()
    return record


def month_of_facts(store, year, month, *, sales, ad_spend, ad_sales):
    """One import of a month's totals for `store`, on the 10th and the 20th (half each)."""
    rows = []
    for day in (10, 20):
        when = date(year, month, day)
        rows += [(when, "amazon_orders", "ordered_sales", Decimal(str(sales)) / 2),
                 (when, "amazon_ads", "ad_spend", Decimal(str(ad_spend)) / 2),
                 (when, "amazon_ads", "ad_sales", Decimal(str(ad_sales)) / 2)]
    return add_facts(store, rows, name=f"{store.code}-{year}-{month:02d}.csv")
