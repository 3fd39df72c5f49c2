"""The agency's contract pages (/contracts): list, new/edit, detail, team, the terms editor with
its live weight total, amendments, and each period's report with the agency's steps. Who gets
the pages (HR, the lead, an unrelated employee, a client), forms that keep what was typed,
CSRF, and both languages."""
import re
from datetime import date
from decimal import Decimal

import pytest

from kpiapp.contracts import reports, terms
from kpiapp.contracts.amendment_flow import TermsState
from kpiapp.contracts.report_flow import ReportState
from kpiapp.extensions import db
from kpiapp.models import AuditEvent, Contract, ContractClause, ContractReport, ContractVersion, Role, Store
from tests.contracts.factories import make_contract, month_of_facts
from tests.factories import ClientCompanyFactory, StoreFactory, UserFactory

pytestmark = pytest.mark.rollback


@pytest.fixture
def setup(app):
    return make_contract()


def with_report(setup, state=ReportState.DRAFT):
    for store in setup.stores:
        month_of_facts(store, 2026, 7, sales=60000, ad_spend=7000, ad_sales=30000)
    report = reports.generate_report(setup.contract, date(2026, 7, 1), setup.lead)
    if state != ReportState.DRAFT:
        reports.send_report(report, setup.lead)
    db.session.commit()
    return report


def urls(setup, report=None):
    c, v = setup.contract, setup.version
    found = [f"/contracts/", f"/contracts/{c.id}", f"/contracts/{c.id}/edit", f"/contracts/{c.id}/team",
             f"/contracts/{c.id}/versions/{v.id}"]
    if report is not None:
        found.append(f"/contracts/{c.id}/reports/{report.id}")
    return found


# ---- who sees what ------------------------------------------------------------------------

def test_hr_and_the_account_team_open_every_page(setup, browser):
    report = with_report(setup)
    for user in (setup.hr, setup.lead, setup.member):
        me = browser(user)
        for url in urls(setup, report):
            assert me.get(url).status_code == 200, (user.name, url)
    page = browser(setup.lead).page("/contracts/")
    assert setup.contract.code in page and setup.company.name in page and "Draft (agency only)" in page
    detail = browser(setup.lead).page(f"/contracts/{setup.contract.id}")
    for band in ("Score 110 and above: +10%", "Score from 60 to below 80: -10%", "Score below 60: -20%",
                 "Bonus of 5,000.00 from a score of 105", "3% of GMV"):
        assert band in detail, band


def test_an_unrelated_employee_and_a_client_are_refused(setup, browser, login):
    report = with_report(setup)
    outsider, client = browser(UserFactory()), login(setup.client_user)  # (the isolation suite signs in fully)
    for url in urls(setup, report):
        assert outsider.get(url).status_code == 403, url  # the route rule: no contract of theirs
        assert client.get(url).status_code in (302, 403), url
    # on some other contract's team, this contract stays hidden (404)
    other = make_contract()
    member = browser(other.member)
    assert member.get("/contracts/").status_code == 200
    for url in urls(setup, report)[1:]:
        assert member.get(url).status_code == 404, url
    assert setup.contract.code not in member.page("/contracts/")
    assert member.post(f"/contracts/{setup.contract.id}/amendments").status_code == 404
    assert member.post(f"/contracts/{setup.contract.id}/reports/{report.id}/send").status_code == 404


def test_menu_entry_for_those_who_work_on_contracts(setup, browser):
    assert 'href="/contracts/"' in browser(setup.lead).page("/inbox/")
    assert 'href="/contracts/"' in browser(setup.hr).page("/inbox/")
    assert 'href="/contracts/"' not in browser(UserFactory()).page("/inbox/")


# ---- contract form ---------------------------------------------------------------------

def contract_data(company, **changes):
    return {"code": "NEW-1", "title": "New KPI contract", "client_company_id": str(company.id), "new_client": "",
            "period": "monthly", "start_date": "2027-01-01", "end_date": "2027-12-31", "lead_id": "0", **changes}


def test_hr_creates_a_contract_and_lands_on_its_terms(app, browser):
    hr, company = UserFactory(role=Role.hr), ClientCompanyFactory()
    me = browser(hr)
    assert "New contract" in me.page("/contracts/new")
    r = me.post("/contracts/new", contract_data(company))
    assert r.status_code == 302
    contract = db.session.query(Contract).filter_by(code="NEW-1").one()
    assert r.headers["Location"].endswith(f"/contracts/{contract.id}/versions/{contract.versions[0].id}")
    r = me.post("/contracts/new", contract_data(company, code="NEW-2", client_company_id="0",
                                                new_client="Baltic Brands OÜ"))
    assert r.status_code == 302
    assert db.session.query(Contract).filter_by(code="NEW-2").one().client_company.name == "Baltic Brands OÜ"


def test_a_refused_contract_form_keeps_what_was_typed(app, browser):
    hr, company = UserFactory(role=Role.hr), ClientCompanyFactory()
    me = browser(hr)
    r = me.post("/contracts/new", contract_data(company, title="Typed title", end_date="2026-01-01"))
    page = r.get_data(as_text=True)
    assert r.status_code == 422
    assert 'value="Typed title"' in page and 'value="NEW-1"' in page
    assert "The end date must not be before the start date." in page
    assert re.search(r'id="end_date"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="end_date"', page)
    me.post("/contracts/new", contract_data(company))
    r = me.post("/contracts/new", contract_data(company, title="Second"))
    assert r.status_code == 422 and "Another contract already uses this code." in r.get_data(as_text=True)
    assert 'value="Second"' in r.get_data(as_text=True)


def test_only_hr_creates_contracts(setup, browser):
    assert browser(setup.lead).get("/contracts/new").status_code == 403
    assert browser(setup.lead).post("/contracts/new", contract_data(setup.company)).status_code == 403
    assert db.session.query(Contract).count() == 1
    denied = db.session.query(AuditEvent).filter_by(action="access.denied").all()
    assert len(denied) == 1 and "route:contracts.new" in denied[0].after_json


def test_lead_edits_the_contract_but_not_its_start_once_in_force(setup, browser):
    me = browser(setup.lead)
    data = {"code": setup.contract.code, "title": "Renamed", "client_company_id": str(setup.company.id),
            "period": "monthly", "start_date": "2026-07-01", "end_date": "2027-06-30", "lead_id": "0"}
    assert me.post(f"/contracts/{setup.contract.id}/edit", data).status_code == 302
    assert db.session.get(Contract, setup.contract.id).title == "Renamed"
    r = me.post(f"/contracts/{setup.contract.id}/edit", {**data, "start_date": "2026-08-01", "title": "Again"})
    assert r.status_code == 422 and "This cannot change once the contract is in force." in r.get_data(as_text=True)
    assert 'value="Again"' in r.get_data(as_text=True)


def test_team_form(setup, browser):
    other = UserFactory()
    me = browser(setup.hr)
    r = me.post(f"/contracts/{setup.contract.id}/team", {"lead_id": str(other.id),
                                                         "member_ids": [str(setup.member.id)]})
    assert r.status_code == 302
    assert db.session.get(Contract, setup.contract.id).team_ids == {other.id, setup.member.id}
    r = me.post(f"/contracts/{setup.contract.id}/team", {"lead_id": str(setup.client_user.id)})
    assert r.status_code == 422 and "Choose an active person of our organisation." in r.get_data(as_text=True)


# ---- terms, clauses and amendments ----------------------------------------------------------

CLAUSE = {"clause-name": "Sessions", "clause-kind": "metric", "clause-metric_key": "sessions", "clause-weight": "10",
          "clause-rule_kind": "linear", "clause-threshold": "1000", "clause-target": "2000",
          "clause-stretch": "3000", "clause-cap": "120"}


def draft_contract(browser):
    hr, company = UserFactory(role=Role.hr), ClientCompanyFactory()
    store = StoreFactory(client_company_id=company.id)
    me = browser(hr)
    me.post("/contracts/new", contract_data(company))
    contract = db.session.query(Contract).filter_by(code="NEW-1").one()
    return me, contract, contract.versions[0], store


def test_write_version_1_and_put_the_contract_in_force(app, browser):
    me, contract, version, store = draft_contract(browser)
    base = f"/contracts/{contract.id}/versions/{version.id}"
    page = me.page(base)
    assert "Add at least one KPI clause." in page and "Put the contract in force" not in page
    assert me.post(f"{base}/stores", {"stores-store_ids": [str(store.id)]}).status_code == 302
    foreign = StoreFactory()
    r = me.post(f"{base}/stores", {"stores-store_ids": [str(foreign.id)]})
    assert r.status_code == 422 and "Choose only stores of the contract" in r.get_data(as_text=True)
    assert me.post(f"{base}/clauses/new", {**CLAUSE, "clause-weight": "60"}).status_code == 302
    acos = {**CLAUSE, "clause-name": "ACoS", "clause-metric_key": "acos", "clause-weight": "40",
            "clause-threshold": "35", "clause-target": "25", "clause-stretch": "20"}
    assert me.post(f"{base}/clauses/new", acos).status_code == 302
    clause = db.session.query(ContractClause).filter_by(name="ACoS").one()
    assert clause.target == Decimal("0.25")  # typed in percent
    r = me.post(f"{base}/fees", {"fee-base_fee": "20000", "fee-commission_pct": "3", "fee-commission_metric": "gmv",
                                 "fee-fee_bands-0-lower": "110", "fee-fee_bands-0-adjust_pct": "10",
                                 "fee-bonus_threshold": "", "fee-bonus_amount": ""})
    assert r.status_code == 302
    assert db.session.get(ContractVersion, version.id).fee_bands == [{"lower": "110", "upper": None,
                                                                      "adjust_pct": "10"}]
    page = me.page(base)
    assert "Put the contract in force" in page and "Weights total: 100" in page
    assert me.post(f"{base}/activate").status_code == 302
    assert db.session.get(Contract, contract.id).status == "active"
    page = me.page(base)
    assert "In force" in page and f'action="{base}/clauses/new"' not in page and "Add a clause" not in page
    assert me.get(f"{base}/clauses/new").status_code == 302  # in force: sent back to the terms


def test_a_refused_clause_keeps_what_was_typed_and_marks_the_input(app, browser):
    me, contract, version, _store = draft_contract(browser)
    base = f"/contracts/{contract.id}/versions/{version.id}"
    r = me.post(f"{base}/clauses/new", {**CLAUSE, "clause-name": "Typed name", "clause-threshold": "2500"})
    page = r.get_data(as_text=True)
    assert r.status_code == 422
    assert 'value="Typed name"' in page and 'value="2500"' in page
    assert "out of order" in page
    assert re.search(r'id="clause-threshold"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="clause-threshold"',
                     page)
    r = me.post(f"{base}/clauses/new", {**CLAUSE, "clause-weight": "abc"})
    assert r.status_code == 422 and 'value="abc"' in r.get_data(as_text=True)
    assert db.session.query(ContractClause).count() == 0


def test_live_weight_total(setup, browser, app):
    me, contract, version, _store = draft_contract(browser)
    base = f"/contracts/{contract.id}/versions/{version.id}"
    me.post(f"{base}/clauses/new", {**CLAUSE, "clause-weight": "60"})
    clause = db.session.query(ContractClause).filter_by(version_id=version.id).one()
    page = me.page(f"{base}/clauses/new")
    assert f'hx-post="{base}/weights"' in page and 'id="clause-form"' in page
    r = me.post(f"{base}/weights", {"clause-weight": "40"}, htmx=True)
    assert r.status_code == 200 and "Weights total with this clause: 100" in r.get_data(as_text=True)
    assert "<html" not in r.get_data(as_text=True)
    r = me.post(f"{base}/weights", {"clause-weight": "30", "clause_id": str(clause.id)}, htmx=True)
    assert "Weights total with this clause: 30" in r.get_data(as_text=True)
    plain = me.post(f"{base}/weights", {"clause-weight": "25"})  # without JS: a whole page
    assert plain.status_code == 200 and "<html" in plain.get_data(as_text=True)
    assert "Weights total with this clause: 85" in plain.get_data(as_text=True)


def test_edit_and_delete_a_clause(app, browser):
    me, contract, version, _store = draft_contract(browser)
    base = f"/contracts/{contract.id}/versions/{version.id}"
    me.post(f"{base}/clauses/new", CLAUSE)
    clause = db.session.query(ContractClause).one()
    page = me.page(f"{base}/clauses/{clause.id}/edit")
    assert 'value="Sessions"' in page and 'value="2000"' in page
    assert me.post(f"{base}/clauses/{clause.id}/edit", {**CLAUSE, "clause-weight": "100"}).status_code == 302
    assert db.session.get(ContractClause, clause.id).weight == 100
    assert me.post(f"{base}/clauses/{clause.id}/delete").status_code == 302
    assert db.session.query(ContractClause).count() == 0


def test_amendment_draft_details_propose_and_withdraw(setup, browser):
    with_report(setup, ReportState.SENT)
    me = browser(setup.lead)
    c = setup.contract
    assert "Draft an amendment" in me.page(f"/contracts/{c.id}")
    r = me.post(f"/contracts/{c.id}/amendments")
    amendment = db.session.query(ContractVersion).filter_by(contract_id=c.id, number=2).one()
    base = f"/contracts/{c.id}/versions/{amendment.id}"
    assert r.status_code == 302 and r.headers["Location"].endswith(base)
    assert amendment.effective_from == date(2026, 8, 1)
    page = me.page(base)
    assert "Propose the amendment to the client" in page and '<option value="2026-07-01"' not in page
    r = me.post(f"{base}/details", {"amendment-summary": "GMV target up", "amendment-effective_from": "2026-07-01"})
    assert r.status_code == 422 and "A report was already sent for this period" in r.get_data(as_text=True)
    assert "GMV target up" in r.get_data(as_text=True)
    assert me.post(f"{base}/details", {"amendment-summary": "GMV target up",
                                       "amendment-effective_from": "2026-09-01"}).status_code == 302
    assert me.post(f"{base}/propose").status_code == 302
    assert db.session.get(ContractVersion, amendment.id).status == TermsState.PROPOSED
    assert "Proposed to the client" in me.page(f"/contracts/{c.id}")
    r = me.post(f"/contracts/{c.id}/amendments")  # one open amendment at a time
    assert r.status_code == 302 and db.session.query(ContractVersion).filter_by(contract_id=c.id).count() == 2
    assert me.post(f"{base}/withdraw").status_code == 302
    assert db.session.get(ContractVersion, amendment.id).status == TermsState.WITHDRAWN


# ---- reports --------------------------------------------------------------------------------

def test_generate_override_note_send_and_download(setup, browser):
    for store in setup.stores:
        month_of_facts(store, 2026, 7, sales=60000, ad_spend=7000, ad_sales=30000)
    me = browser(setup.lead)
    c = setup.contract
    assert "Generate the report" in me.page(f"/contracts/{c.id}")
    r = me.post(f"/contracts/{c.id}/reports", {"period_start": "2026-07-01"})
    report = db.session.query(ContractReport).one()
    url = f"/contracts/{c.id}/reports/{report.id}"
    assert r.status_code == 302 and r.headers["Location"].endswith(url)
    page = me.page(url)
    assert "Send to the client" in page and "Internal: the client never sees this." in page
    assert "Base service fee" in page and "Report generated" in page
    gmv = setup.clauses[0]
    r = me.post(f"{url}/override", {"override-clause_id": str(gmv.id), "override-value": "130000",
                                    "override-reason": ""})
    assert r.status_code == 422 and 'value="130000"' in r.get_data(as_text=True)
    r = me.post(f"{url}/override", {"override-clause_id": str(gmv.id), "override-value": "130000",
                                    "override-reason": "B2B orders missing from the import"})
    assert r.status_code == 302
    assert "B2B orders missing from the import" in me.page(url)
    assert me.post(f"{url}/note", {"note-internal_note": "Check the ad data with Li"}).status_code == 302
    assert "Check the ad data with Li" in me.page(url)
    xlsx = me.get(f"{url}/fee.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    assert me.post(f"{url}/send").status_code == 302
    assert db.session.get(ContractReport, report.id).state == ReportState.SENT
    page = me.page(url)
    assert "Send to the client" not in page and "Sent to the client" in page


def test_answer_and_revise_a_disputed_report(setup, browser):
    report = with_report(setup, ReportState.SENT)
    reports.dispute_clause(report, setup.clauses[1].id, "ACoS counts a promo we agreed to exclude", setup.client_user)
    db.session.commit()
    me = browser(setup.member)
    url = f"/contracts/{setup.contract.id}/reports/{report.id}"
    page = me.page(url)
    assert "Answer the dispute" in page and "ACoS counts a promo we agreed to exclude" in page
    r = me.post(f"{url}/answer", {"answer-clause_id": str(setup.clauses[1].id), "answer-comment": ""})
    assert r.status_code == 422
    r = me.post(f"{url}/answer", {"answer-clause_id": str(setup.clauses[1].id),
                                  "answer-comment": "We will take the promo out"})
    assert r.status_code == 302 and "We will take the promo out" in me.page(url)
    assert me.post(f"{url}/revise").status_code == 302
    report = db.session.get(ContractReport, report.id)
    assert (report.state, report.revision) == (ReportState.DRAFT, 2)
    old = me.page(f"{url}?revision=1")
    assert "An earlier revision, as it was sent" in old


def test_refused_send_says_why(setup, browser):
    report = with_report(setup)  # only July has facts; a missing month has no values
    me = browser(setup.lead)
    url = f"/contracts/{setup.contract.id}/reports/{report.id}"
    r = me.post(f"/contracts/{setup.contract.id}/reports", {"period_start": "2026-08-01"})
    august = db.session.query(ContractReport).filter_by(period_start=date(2026, 8, 1)).one()
    page = me.page(f"/contracts/{setup.contract.id}/reports/{august.id}")
    assert "A clause has no value from the data" in page
    r = me.post(f"/contracts/{setup.contract.id}/reports/{august.id}/send")
    assert r.status_code == 302 and db.session.get(ContractReport, august.id).state == ReportState.DRAFT
    assert me.get(url).status_code == 200


# ---- CSRF and languages -------------------------------------------------------------------

def test_posts_without_csrf_are_refused(setup, login):
    client = login(setup.lead)
    c, v = setup.contract, setup.version
    for url in (f"/contracts/{c.id}/amendments", f"/contracts/{c.id}/team", f"/contracts/{c.id}/edit",
                f"/contracts/{c.id}/versions/{v.id}/stores", f"/contracts/{c.id}/reports"):
        assert client.post(url, data={}).status_code == 400, url
    assert db.session.query(ContractVersion).count() == 1


def test_pages_in_chinese(setup, browser):
    report = with_report(setup)
    setup.lead.locale = "zh_CN"
    db.session.commit()
    me = browser(setup.lead)
    assert "合同" in me.page("/contracts/")
    detail = me.page(f"/contracts/{setup.contract.id}")
    assert "生效条款" in detail and "Terms in force" not in detail
    page = me.page(f"/contracts/{setup.contract.id}/reports/{report.id}")
    assert "内部" in page and "Internal: the client never sees this." not in page
    terms_page = me.page(f"/contracts/{setup.contract.id}/versions/{setup.version.id}")
    assert "Version 1" not in terms_page


def test_no_english_on_the_pages_for_a_chinese_user(setup, browser):
    """Every contract page, and a refused form, read with the zh_everywhere check (what people
    typed is theirs: names, codes, store and company names)."""
    from tests.web.test_zh_everywhere import english_in, visible_text

    report = with_report(setup, ReportState.SENT)
    reports.dispute_clause(report, setup.clauses[1].id, "promo", setup.client_user)
    amendment = terms.draft_amendment(setup.contract, setup.hr)
    setup.hr.locale = "zh_CN"
    db.session.commit()
    typed = [setup.contract.title, setup.company.name, setup.hr.name, setup.lead.name, setup.member.name,
             setup.client_user.name, "GMV", "ACoS", "promo", *(s.name for s in setup.stores)]
    allowed = re.compile("|".join(rf"(?<!\w){re.escape(p)}(?!\w)" for p in sorted(typed, key=len, reverse=True)))
    me = browser(setup.hr)
    c, v = setup.contract, amendment
    pages = [*urls(setup, report), "/contracts/new", f"/contracts/{c.id}/versions/{v.id}",
             f"/contracts/{c.id}/versions/{v.id}/clauses/new",
             f"/contracts/{c.id}/versions/{v.id}/clauses/{v.clauses[0].id}/edit"]
    problems = {url: english_in(visible_text(me.page(url)), allowed) for url in pages}
    refused = me.post(f"/contracts/{c.id}/versions/{v.id}/clauses/new", {**CLAUSE, "clause-threshold": "9000"})
    problems["refused clause"] = english_in(visible_text(refused.get_data(as_text=True)), allowed)
    weights = me.post(f"/contracts/{c.id}/versions/{v.id}/weights", {"clause-weight": "5"}, htmx=True)
    problems["weights"] = english_in(visible_text(weights.get_data(as_text=True)), allowed)
    assert {url: found for url, found in problems.items() if found} == {}
    assert english_in(visible_text(browser(setup.lead).page(f"/contracts/{c.id}")), allowed)  # the check sees English


def test_the_store_form_takes_the_client_company(app, browser):
    hr, company = UserFactory(role=Role.hr), ClientCompanyFactory()
    me = browser(hr)
    assert company.name in me.page("/org/stores/new")
    data = {"code": "NH-DE", "name": "Nordic DE", "platform": "amazon", "marketplace": "DE", "currency": "EUR",
            "timezone": "Europe/Berlin", "active": "y", "client_company_id": str(company.id)}
    r = me.post("/org/stores/new", data)
    assert r.status_code == 302
    store = db.session.query(Store).filter_by(code="NH-DE").one()
    assert store.client_company_id == company.id
    assert company.name in me.page(f"/org/stores/{store.id}")
    me.post(f"/org/stores/{store.id}/edit", {**data, "client_company_id": "0"})
    assert db.session.get(Store, store.id).client_company_id is None


def test_a_refused_fee_form_keeps_what_was_typed(app, browser):
    me, contract, version, _store = draft_contract(browser)
    base = f"/contracts/{contract.id}/versions/{version.id}"
    r = me.post(f"{base}/fees", {"fee-base_fee": "18000", "fee-commission_pct": "2.5", "fee-commission_metric": "gmv",
                                 "fee-fee_bands-0-lower": "50", "fee-fee_bands-0-upper": "90",
                                 "fee-fee_bands-0-adjust_pct": "5", "fee-fee_bands-1-lower": "80",
                                 "fee-fee_bands-1-adjust_pct": "7"})
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and "Bands must not overlap." in page
    for typed in ('value="18000"', 'value="2.5"', 'value="90"', 'value="7"'):
        assert typed in page, typed
    r = me.post(f"{base}/fees", {"fee-base_fee": "18000", "fee-bonus_threshold": "100"})
    assert r.status_code == 422 and "A bonus needs both a threshold and an amount." in r.get_data(as_text=True)
    assert db.session.get(ContractVersion, version.id).base_fee == 0
