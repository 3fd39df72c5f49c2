"""The terms services (kpiapp/contracts/terms.py): contract, team, stores, clauses, fee terms
and the amendment flow, with field-level refusals."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from kpiapp.contracts import terms
from kpiapp.contracts.amendment_flow import TermsState, TermsStep
from kpiapp.contracts.report_flow import ReportState
from kpiapp.contracts.terms import TermsError
from kpiapp.extensions import db
from kpiapp.models import AuditEvent, ContractReport, ContractStatus, Role
from tests.contracts.factories import make_contract
from tests.factories import ClientCompanyFactory, ClientUserFactory, StoreFactory, UserFactory

GMV = {"name": "GMV", "kind": "metric", "metric_key": "gmv", "weight": "60", "threshold": "80000",
       "target": "100000", "stretch": "120000", "cap": "120"}
ACOS = {"name": "ACoS", "kind": "metric", "metric_key": "acos", "weight": "40", "threshold": "0.35",
        "target": "0.25", "stretch": "0.20", "cap": "120"}


def contract_values(company, **changes):
    return {"code": "NH-2027", "title": "Nordic KPI contract", "client_company_id": str(company.id),
            "period": "monthly", "start_date": "2027-01-01", "end_date": "2027-12-31", **changes}


def refused(code, field, call, *args):
    with pytest.raises(TermsError) as caught:
        call(*args)
    assert (caught.value.code, caught.value.field) == (code, field)
    return caught.value


def actions(prefix):
    return [e.action for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action.like(prefix + "%")).order_by(AuditEvent.seq))]


@pytest.fixture
def hr():
    return UserFactory(role=Role.hr)


@pytest.fixture
def company():
    return ClientCompanyFactory()


def new_contract(hr, company, **changes):
    contract = terms.create_contract(contract_values(company, **changes), hr)
    db.session.commit()
    return contract


# ---- the contract -----------------------------------------------------------------------

def test_create_makes_a_draft_with_an_empty_draft_version_1(hr, company):
    contract = new_contract(hr, company)
    assert contract.status == ContractStatus.draft
    [version] = contract.versions
    assert (version.number, version.status, version.effective_from) == (1, TermsState.DRAFT, date(2027, 1, 1))
    assert version.fee_currency == "USD" and version.clauses == [] and version.stores == []
    assert actions("contract.create") == ["contract.create"]


@pytest.mark.parametrize("changes, code, field", [
    ({"code": " "}, "required", "code"),
    ({"title": ""}, "required", "title"),
    ({"client_company_id": ""}, "required", "client_company_id"),
    ({"client_company_id": "999999"}, "required", "client_company_id"),
    ({"period": "weekly"}, "invalid_choice", "period"),
    ({"start_date": "2027-13-01"}, "invalid_date", "start_date"),
    ({"end_date": "2026-12-31"}, "end_before_start", "end_date"),
])
def test_create_refuses_bad_input_naming_the_field(hr, company, changes, code, field):
    refused(code, field, terms.create_contract, contract_values(company, **changes), hr)


def test_codes_are_unique_ignoring_case(hr, company):
    new_contract(hr, company)
    refused("code_taken", "code", terms.create_contract, contract_values(company, code="nh-2027"), hr)


def test_only_hr_creates_contracts(company):
    refused("forbidden", None, terms.create_contract, contract_values(company), UserFactory())


def test_in_force_contract_keeps_client_period_and_start(company):
    setup = make_contract(company=company)
    values = {"code": setup.contract.code, "title": "Renamed", "client_company_id": company.id,
              "period": "monthly", "start_date": "2026-07-01", "end_date": "2027-12-31"}
    terms.update_contract(setup.contract, values, setup.lead)
    assert (setup.contract.title, setup.contract.end_date) == ("Renamed", date(2027, 12, 31))
    refused("fixed_in_force", "start_date", terms.update_contract, setup.contract,
            {**values, "start_date": "2026-08-01"}, setup.lead)
    refused("forbidden", None, terms.update_contract, setup.contract, values, UserFactory())


def test_team_takes_active_staff_only(company):
    setup = make_contract(company=company)
    other = UserFactory()
    terms.set_team(setup.contract, str(other.id), [setup.lead.id, setup.member.id], setup.hr)
    assert setup.contract.lead_id == other.id
    assert {m.person_id for m in setup.contract.members} == {setup.lead.id, setup.member.id}
    refused("not_staff", "member_ids", terms.set_team, setup.contract, other.id, [setup.client_user.id], setup.hr)
    refused("not_staff", "lead_id", terms.set_team, setup.contract, setup.client_user.id, [], setup.hr)
    assert actions("contract.team") == ["contract.team"]


# ---- version 1: stores, clauses, fee terms, activation -----------------------------------

def test_stores_must_belong_to_the_client(hr, company):
    contract = new_contract(hr, company)
    version = contract.versions[0]
    own, foreign = StoreFactory(client_company_id=company.id), StoreFactory()
    refused("foreign_store", "store_ids", terms.set_stores, version, [own.id, foreign.id], hr)
    refused("foreign_store", "store_ids", terms.set_stores, version, [StoreFactory(client_company_id=None).id], hr)
    terms.set_stores(version, [str(own.id)], hr)
    assert version.store_ids == [own.id]


def test_a_clause_is_validated_like_a_kpi_item(hr, company):
    contract = new_contract(hr, company)
    version = contract.versions[0]
    store = StoreFactory(client_company_id=company.id)
    terms.set_stores(version, [store.id], hr)
    clause = terms.add_clause(version, {**GMV, "store_ids": [str(store.id)]}, hr)
    assert (clause.metric_key, clause.weight, clause.target, clause.store_ids) == ("gmv", 60, 100000, [store.id])
    assert clause.rule["kind"] == "linear" and "target" not in clause.rule
    acos = terms.add_clause(version, ACOS, hr)
    assert acos.rule["direction"] == "lower_better" and acos.seq == 1
    refused("linear_order", "threshold", terms.add_clause, version, {**GMV, "threshold": "110000"}, hr)
    refused("linear_order", "threshold", terms.add_clause, version, {**ACOS, "threshold": "0.10"}, hr)
    refused("linear_incomplete", "stretch", terms.add_clause, version, {**GMV, "stretch": ""}, hr)
    refused("unknown_metric", "metric_key", terms.add_clause, version, {**GMV, "metric_key": "nope"}, hr)
    refused("not_a_number", "weight", terms.add_clause, version, {**GMV, "weight": "sixty"}, hr)
    refused("required", "name", terms.add_clause, version, {**GMV, "name": " "}, hr)
    refused("cap_below_100", "cap", terms.add_clause, version, {**GMV, "cap": "90"}, hr)
    refused("store_not_covered", "store_ids", terms.add_clause, version,
            {**GMV, "store_ids": [StoreFactory(client_company_id=company.id).id]}, hr)
    refused("store_in_clause", "store_ids", terms.set_stores, version, [], hr)
    assert terms.weight_total(version) == Decimal(100)


def test_manual_clause_needs_a_scale(hr, company):
    version = new_contract(hr, company).versions[0]
    refused("scale_max_not_positive", "scale_max", terms.add_clause, version,
            {"name": "Service", "kind": "manual", "weight": "10"}, hr)
    clause = terms.add_clause(version, {"name": "Service", "kind": "manual", "weight": "10", "scale_max": "5"}, hr)
    assert (clause.kind, clause.metric_key, clause.rule["kind"]) == ("manual", None, "manual")


def test_update_and_delete_clause(hr, company):
    version = new_contract(hr, company).versions[0]
    clause = terms.add_clause(version, GMV, hr)
    terms.update_clause(clause, {**GMV, "weight": "100", "target": "90000"}, hr)
    assert (clause.weight, clause.target) == (100, 90000)
    refused("linear_order", "stretch", terms.update_clause, clause, {**GMV, "stretch": "50000", "threshold": "1"}, hr)
    assert clause.weight == 100  # a refused edit changes nothing
    terms.delete_clause(clause, hr)
    assert version.clauses == [] and terms.weight_total(version) == 0
    assert actions("contract_clause") == ["contract_clause.create", "contract_clause.update",
                                             "contract_clause.delete"]


def test_fee_terms(hr, company):
    version = new_contract(hr, company).versions[0]
    bands = [{"lower": "110", "upper": "", "adjust_pct": "10"}, {"lower": "", "upper": "", "adjust_pct": ""},
             {"lower": "", "upper": "60", "adjust_pct": "-20"}]
    terms.set_fee_terms(version, {"base_fee": "20000", "commission_pct": "3", "commission_metric": "gmv",
                                  "fee_bands": bands, "bonus_threshold": "105", "bonus_amount": "5000"}, hr)
    assert (version.base_fee, version.commission_pct, version.bonus_amount) == (20000, 3, 5000)
    assert version.fee_bands == [{"lower": "110", "upper": None, "adjust_pct": "10"},
                                 {"lower": None, "upper": "60", "adjust_pct": "-20"}]
    refused("required", "base_fee", terms.set_fee_terms, version, {"base_fee": ""}, hr)
    refused("too_small", "base_fee", terms.set_fee_terms, version, {"base_fee": "-1"}, hr)
    refused("required", "commission_metric", terms.set_fee_terms, version, {"base_fee": "1", "commission_pct": "3"}, hr)
    refused("bonus_incomplete", "bonus_amount", terms.set_fee_terms, version,
            {"base_fee": "1", "bonus_threshold": "100"}, hr)
    refused("bands_overlap", "fee_bands", terms.set_fee_terms, version,
            {"base_fee": "1", "fee_bands": [{"lower": "50", "upper": "90", "adjust_pct": "5"},
                                            {"lower": "80", "upper": None, "adjust_pct": "5"}]}, hr)


def test_activate_needs_stores_clauses_and_weights_of_100(hr, company):
    contract = new_contract(hr, company)
    version = contract.versions[0]
    refused("no_clauses", None, terms.activate, version, hr)
    terms.add_clause(version, {**GMV, "weight": "60"}, hr)
    refused("no_stores", None, terms.activate, version, hr)
    terms.set_stores(version, [StoreFactory(client_company_id=company.id).id], hr)
    refused("weights_off", None, terms.activate, version, hr)
    assert terms.permitted_terms_steps(hr, version) == ()
    terms.add_clause(version, ACOS, hr)
    terms.add_clause(version, {**ACOS, "name": "ACoS 2", "weight": "20"}, hr)
    refused("weights_off", None, terms.activate, version, hr)
    terms.delete_clause(version.clauses[-1], hr)
    assert terms.permitted_terms_steps(hr, version) == (TermsStep.ACTIVATE,)
    terms.activate(version, hr)
    assert (version.status, contract.status, version.decided_by_id) == (TermsState.IN_FORCE, "active", hr.id)
    assert actions("contract_version.activate") == ["contract_version.activate"]


def test_terms_in_force_never_change(company):
    setup = make_contract(company=company)
    version, clause = setup.version, setup.clauses[0]
    refused("not_draft", None, terms.update_clause, clause, GMV, setup.lead)
    refused("not_draft", None, terms.add_clause, version, GMV, setup.lead)
    refused("not_draft", None, terms.delete_clause, clause, setup.lead)
    refused("not_draft", None, terms.set_stores, version, [], setup.lead)
    refused("not_draft", None, terms.set_fee_terms, version, {"base_fee": "1"}, setup.lead)
    refused("not_allowed_in_state", None, terms.activate, version, setup.lead)


# ---- amendments -------------------------------------------------------------------------

def sent_report(setup, start, end, state=ReportState.SENT):
    report = ContractReport(contract_id=setup.contract.id, version_id=setup.version.id, period_start=start,
                            period_end=end, state=state)
    db.session.add(report)
    db.session.flush()
    return report


def test_draft_amendment_copies_the_terms_in_force_from_the_next_unreported_period(company):
    setup = make_contract(company=company)
    sent_report(setup, date(2026, 7, 1), date(2026, 7, 31), ReportState.ACCEPTED)
    sent_report(setup, date(2026, 8, 1), date(2026, 8, 31), ReportState.DISPUTED)
    sent_report(setup, date(2026, 9, 1), date(2026, 9, 30), ReportState.DRAFT)
    amendment = terms.draft_amendment(setup.contract, setup.lead)
    assert (amendment.number, amendment.status, amendment.effective_from) == (2, TermsState.DRAFT, date(2026, 9, 1))
    assert [c.name for c in amendment.clauses] == ["GMV", "ACoS"]
    assert amendment.clauses[0].id != setup.clauses[0].id and amendment.store_ids == setup.version.store_ids
    assert (amendment.base_fee, amendment.fee_bands) == (setup.version.base_fee, setup.version.fee_bands)
    refused("amendment_open", None, terms.draft_amendment, setup.contract, setup.lead)
    refused("period_reported", "effective_from", terms.set_amendment_details, amendment,
            {"summary": "x", "effective_from": "2026-08-01"}, setup.lead)
    refused("not_period_start", "effective_from", terms.set_amendment_details, amendment,
            {"summary": "x", "effective_from": "2026-10-02"}, setup.lead)
    terms.set_amendment_details(amendment, {"summary": "GMV target up", "effective_from": "2026-10-01"}, setup.lead)
    assert (amendment.summary, amendment.effective_from) == ("GMV target up", date(2026, 10, 1))


def test_period_starts_monthly_and_quarterly(company):
    setup = make_contract(company=company, start=date(2026, 7, 15), end=date(2027, 1, 10))
    assert terms.period_starts(setup.contract)[:3] == [date(2026, 7, 15), date(2026, 8, 1), date(2026, 9, 1)]
    assert terms.period_starts(setup.contract)[-1] == date(2027, 1, 1)
    setup.contract.period = "quarterly"
    assert terms.period_starts(setup.contract) == [date(2026, 7, 15), date(2026, 10, 1), date(2027, 1, 1)]


def test_propose_then_the_client_accepts(company):
    setup = make_contract(company=company)
    amendment = terms.draft_amendment(setup.contract, setup.lead)
    terms.update_clause(amendment.clauses[0], {**GMV, "target": "110000", "stretch": "130000"}, setup.lead)
    terms.update_clause(amendment.clauses[1], {**ACOS, "weight": "30"}, setup.lead)
    refused("weights_off", None, terms.propose, amendment, setup.lead)
    terms.update_clause(amendment.clauses[1], ACOS, setup.lead)
    refused("amend_instead", None, terms.activate, amendment, setup.lead)
    assert terms.permitted_terms_steps(setup.lead, amendment) == (TermsStep.PROPOSE,)
    terms.propose(amendment, setup.lead)
    assert (amendment.status, amendment.proposed_by_id) == (TermsState.PROPOSED, setup.lead.id)
    assert terms.permitted_terms_steps(setup.client_user, amendment) == (TermsStep.ACCEPT, TermsStep.REJECT)
    assert terms.permitted_terms_steps(setup.lead, amendment) == (TermsStep.WITHDRAW,)
    refused("forbidden", None, terms.accept_amendment, amendment, setup.lead)
    terms.accept_amendment(amendment, setup.client_user)
    assert (amendment.status, amendment.decided_by_id) == (TermsState.IN_FORCE, setup.client_user.id)
    assert terms.latest_in_force(setup.contract) is amendment
    steps = [a for a in actions("contract_version.") if a.split(".")[1] in ("draft", "propose", "accept")]
    assert steps == ["contract_version.draft", "contract_version.propose", "contract_version.accept"]


def test_client_of_another_company_cannot_accept(company):
    setup = make_contract(company=company)
    amendment = terms.draft_amendment(setup.contract, setup.lead)
    terms.propose(amendment, setup.lead)
    stranger = ClientUserFactory()
    refused("forbidden", None, terms.accept_amendment, amendment, stranger)
    assert terms.permitted_terms_steps(stranger, amendment) == ()


def test_reject_needs_a_reason_and_withdraw(company):
    setup = make_contract(company=company)
    amendment = terms.draft_amendment(setup.contract, setup.lead)
    terms.propose(amendment, setup.lead)
    refused("text_required", "reason", terms.reject_amendment, amendment, "  ", setup.client_user)
    terms.reject_amendment(amendment, "Targets too high", setup.client_user)
    assert (amendment.status, amendment.decision_note) == (TermsState.REJECTED, "Targets too high")
    second = terms.draft_amendment(setup.contract, setup.member)
    assert second.number == 3
    terms.propose(second, setup.member)
    terms.withdraw(second, setup.member)
    assert second.status == TermsState.WITHDRAWN
    refused("not_allowed_in_state", None, terms.accept_amendment, second, setup.client_user)


def test_accept_refused_once_a_report_of_its_period_was_sent(company):
    setup = make_contract(company=company)
    amendment = terms.draft_amendment(setup.contract, setup.lead)
    terms.propose(amendment, setup.lead)
    sent_report(setup, date(2026, 7, 1), date(2026, 7, 31))
    refused("period_reported", "effective_from", terms.accept_amendment, amendment, setup.client_user)
    assert amendment.status == TermsState.PROPOSED


def test_amendment_needs_a_contract_in_force(hr, company):
    contract = new_contract(hr, company)
    refused("not_in_force", None, terms.draft_amendment, contract, hr)
