"""The portal as a client user sees it, in English and Chinese: the contracts of their company,
terms and a proposed amendment (accept / reject with a reason), a report with its lines, fee
steps and history, a dispute, a corrected revision, acceptance and the signed PDF, the trends.
Driven through the real report and terms services (kpiapp/contracts)."""
from datetime import date

import pytest
from sqlalchemy import select

from kpiapp.contracts import reports, terms
from kpiapp.contracts.amendment_flow import TermsState
from kpiapp.contracts.report_flow import ReportState
from kpiapp.extensions import db
from kpiapp.models import ContractDocument
from tests.contracts.factories import make_contract, month_of_facts

AUG, SEP = date(2026, 8, 1), date(2026, 9, 1)


@pytest.fixture
def setup(app):
    setup = make_contract(client_mfa=False)
    for month in (8, 9):
        for store in setup.stores:
            month_of_facts(store, 2026, month, sales=60000, ad_spend=7000, ad_sales=30000)
    return setup


def sent_report(setup, period=AUG, note="agency-only remark"):
    report = reports.generate_report(setup.contract, period, setup.lead)
    reports.set_internal_note(report, note, setup.lead)
    reports.send_report(report, setup.lead)
    db.session.commit()
    return report


def client_of(browser, setup, lang):
    setup.client_user.locale = lang
    db.session.commit()
    return browser(setup.client_user)


@pytest.mark.parametrize("lang, words", [("en", ("Your KPI contracts", "Accept the report", "Fee for the period")),
                                         ("zh_CN", ("您的KPI合同", "确认月报", "本期服务费"))])
def test_a_client_reads_and_accepts_a_report(app, browser, setup, lang, words):
    report = sent_report(setup)
    me = client_of(browser, setup, lang)
    home = me.page("/portal/")
    assert setup.contract.code in home and words[0] in home
    page = me.page(f"/portal/reports/{report.id}")
    assert words[1] in page and words[2] in page
    assert "agency-only remark" not in page
    assert "GMV" in page and "ACoS" in page
    response = me.post(f"/portal/reports/{report.id}/accept")
    assert response.status_code == 302
    db.session.refresh(report)
    assert report.state == ReportState.ACCEPTED
    document = db.session.scalar(select(ContractDocument).where(ContractDocument.report_id == report.id))
    assert document.lang == lang and document.accepted_by_id == setup.client_user.id
    pdf = me.get(f"/portal/reports/{report.id}/document.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and pdf.mimetype == "application/pdf"
    assert "attachment" in pdf.headers["Content-Disposition"]
    assert document.document_id in me.page(f"/portal/reports/{report.id}")


def test_a_dispute_then_a_corrected_revision_keeps_the_first_readable(app, browser, setup):
    report = sent_report(setup)
    me = client_of(browser, setup, "en")
    gmv = setup.version.clauses[0]
    refused = me.post(f"/portal/reports/{report.id}/dispute", data={"clause_id": gmv.id, "comment": ""})
    assert refused.status_code == 422
    response = me.post(f"/portal/reports/{report.id}/dispute",
                       data={"clause_id": gmv.id, "comment": "Our ERP shows more orders"})
    assert response.status_code == 302
    page = me.page(f"/portal/reports/{report.id}")
    assert "Our ERP shows more orders" in page and "Clause disputed" in page
    assert "Accept the report" not in page  # disputed: the agency answers or revises first
    reports.answer_dispute(report, gmv.id, "We add the late orders", setup.lead)
    reports.revise_report(report, setup.lead)
    db.session.commit()
    reports.set_override(report, gmv.id, 130000, "Late orders from the ERP export", setup.lead)
    db.session.commit()
    # the corrected revision is the agency's draft: the client still reads what was sent, and cannot accept it
    page = me.page(f"/portal/reports/{report.id}")
    assert "Our ERP shows more orders" in page and "Revision 1" in page
    assert "Late orders from the ERP export" not in page and "Accept the report" not in page
    assert f"/portal/reports/{report.id}" in me.page(f"/portal/contracts/{setup.contract.id}")  # still listed
    reports.send_report(report, setup.lead)
    db.session.commit()
    page = me.page(f"/portal/reports/{report.id}")
    assert "Late orders from the ERP export" in page and "We add the late orders" in page
    first = me.page(f"/portal/reports/{report.id}?revision=1")
    assert "Late orders from the ERP export" not in first and "Revision 1" in first


def test_a_dispute_keeps_what_was_typed_when_refused(app, browser, setup):
    report = sent_report(setup)
    me = client_of(browser, setup, "en")
    response = me.post(f"/portal/reports/{report.id}/dispute", data={"clause_id": 999_999, "comment": "typed text"})
    assert response.status_code == 422 and "typed text" in response.get_data(as_text=True)


def proposed_amendment(setup):
    version = terms.draft_amendment(setup.contract, setup.hr)
    version.summary = "GMV target up from October"
    version.effective_from = date(2026, 10, 1)
    terms.propose(version, setup.hr)
    db.session.commit()
    return version


@pytest.mark.parametrize("decision", ["accept", "reject"])
def test_a_client_decides_on_an_amendment(app, browser, setup, decision):
    version = proposed_amendment(setup)
    me = client_of(browser, setup, "en")
    contract_page = me.page(f"/portal/contracts/{setup.contract.id}")
    assert "GMV target up from October" in contract_page
    path = f"/portal/contracts/{setup.contract.id}/versions/{version.id}"
    assert "Accept the amendment" in me.page(path)
    if decision == "reject":
        assert me.post(f"{path}/reject", data={"reason": ""}).status_code == 422
        assert me.post(f"{path}/reject", data={"reason": "Too steep"}).status_code == 302
        db.session.refresh(version)
        assert version.status == TermsState.REJECTED and version.decision_note == "Too steep"
    else:
        assert me.post(f"{path}/accept").status_code == 302
        db.session.refresh(version)
        assert version.status == TermsState.IN_FORCE
    assert "Accept the amendment" not in me.page(path)


@pytest.mark.parametrize("lang, waiting, agency_words", [("en", "Waiting for your review", "Sent to the client"),
                                                          ("zh_CN", "待您审阅确认", "已发送给客户")])
def test_a_client_is_told_what_waits_for_them(app, browser, setup, lang, waiting, agency_words):
    """The portal said "Sent to the client" to the client, and its home page did not mention the
    amendment waiting for their decision."""
    report = sent_report(setup)
    version = proposed_amendment(setup)
    me = client_of(browser, setup, lang)
    home = me.page("/portal/")
    for page in (home, me.page(f"/portal/contracts/{setup.contract.id}")):
        assert f"<td>{waiting}</td>" in page and agency_words not in page
    assert f"<strong>{waiting}</strong>" in me.page(f"/portal/reports/{report.id}")  # its history says who sent it
    assert f'href="/portal/contracts/{setup.contract.id}/versions/{version.id}"' in home


def test_a_draft_version_is_not_shown(app, browser, setup):
    version = terms.draft_amendment(setup.contract, setup.hr)
    db.session.commit()
    me = client_of(browser, setup, "en")
    assert me.get(f"/portal/contracts/{setup.contract.id}/versions/{version.id}").status_code == 404


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_trends_show_a_chart_and_its_table_per_clause(app, browser, setup, lang):
    sent_report(setup, AUG)
    sent_report(setup, SEP)
    reports.generate_report(setup.contract, date(2026, 10, 1), setup.lead)  # a draft: not the client's
    db.session.commit()
    me = client_of(browser, setup, lang)
    page = me.page(f"/portal/contracts/{setup.contract.id}/trends")
    assert page.count("data-chart-spec") == 3  # the score and the two clauses
    assert "2026-08" in page and "2026-09" in page and "2026-10" not in page
    assert "vega-embed" in page


def test_a_client_menu_shows_only_the_portal(app, browser, setup):
    me = client_of(browser, setup, "en")
    page = me.page("/portal/")
    menu = page.split("</header>")[0]
    assert "/portal/" in menu and "/reports/verify" in menu
    for staff_link in ("/inbox", "/scorecards", "/org/", "/metrics", "/contracts"):
        assert f'href="{staff_link}' not in menu, staff_link
    assert me.client.get("/").headers["Location"].endswith("/portal/")


def test_a_refused_step_is_told_and_audited(app, browser, setup):
    from kpiapp.models import AuditEvent

    report = sent_report(setup)
    me = client_of(browser, setup, "en")
    assert me.post(f"/portal/reports/{report.id}/accept").status_code == 302
    again = me.post(f"/portal/reports/{report.id}/accept")
    assert again.status_code == 302
    refusals = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "workflow.refused")).all()
    assert [e.entity for e in refusals] == ["contract_report"]
    assert db.session.query(ContractDocument).filter_by(report_id=report.id).count() == 1
