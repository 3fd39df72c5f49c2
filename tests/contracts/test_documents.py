"""The signed contract report PDF (kpiapp/contracts/documents.py) and /verify recognising it."""
import io
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from kpiapp.contracts import documents, reports
from kpiapp.extensions import db
from kpiapp.models import AuditEvent, FxRate
from kpiapp.reports import services as report_services
from tests.contracts.factories import add_facts, make_contract, month_of_facts
from tests.factories import ClientCompanyFactory, UserFactory
from tests.helpers import post_form
from tests.reports.helpers import flip_byte, pdf_text

AUG = date(2026, 8, 1)


def accepted(*, lang="en", client_mfa=True, company=None, note=None):
    setup = make_contract(client_mfa=client_mfa, company=company)
    for store in setup.stores:
        month_of_facts(store, 2026, 8, sales=60000, ad_spend=7000, ad_sales=30000)
    report = reports.generate_report(setup.contract, AUG, setup.lead)
    reports.set_override(report, setup.clauses[1].id, Decimal("0.22"), "Brand campaign spend taken out", setup.lead)
    if note:
        reports.set_internal_note(report, note, setup.lead)
    reports.send_report(report, setup.lead)
    document = reports.accept_report(report, setup.client_user, lang)
    db.session.commit()
    return setup, report, document


def test_the_pdf_states_the_report_in_english(tmp_path):
    setup, report, document = accepted(note="SECRET-INTERNAL-NOTE")
    text = pdf_text(documents.document_bytes(document), tmp_path)
    flat = " ".join(text.split())
    for expected in (setup.contract.code, setup.company.name, "2026-08-01", "2026-08-31", "version 1",
                     "GMV", "ACoS", "Brand campaign spend taken out", "Fee for the period", "30,960.00",
                     "Commission", "3,600.00", document.document_id, setup.client_user.email,
                     "Accepted by", "Formula", "Imports"):
        assert expected in flat, expected
    assert "SECRET-INTERNAL-NOTE" not in flat


def test_the_pdf_is_in_the_clients_language(tmp_path):
    setup, report, document = accepted(lang="zh_CN")
    flat = " ".join(pdf_text(documents.document_bytes(document), tmp_path).split())
    assert document.lang == "zh_CN"
    assert "KPI contract report" not in flat and "Fee for the period" not in flat
    assert setup.client_user.email in flat and setup.contract.code in flat


def test_issue_is_audited_and_stored_append_only():
    setup, report, document = accepted()
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "contract_report.sign")).scalar_one()
    assert event.entity_id == str(report.id) and document.document_id in event.after_json
    assert documents.document_for(report) == document
    assert documents.document_filename(document).endswith(".pdf")


def test_verify_recognises_a_contract_document():
    setup, report, document = accepted()
    result = report_services.verify_document(documents.document_bytes(document))
    assert result.ok and result.matches_stored and result.contract_document == document
    assert result.report is None and not result.superseded
    broken = report_services.verify_document(flip_byte(documents.document_bytes(document)))
    assert not broken.ok


def upload(client, data):
    return post_form(client, "/reports/verify", {"file": (io.BytesIO(data), "report.pdf")}, page="/reports/verify",
                     content_type="multipart/form-data")


def test_verify_page_shows_a_client_only_what_the_file_states(login):
    setup, report, document = accepted(client_mfa=False)
    other_client = make_contract(company=ClientCompanyFactory(), client_mfa=False).client_user
    data = documents.document_bytes(document)
    for user in (setup.client_user, other_client, UserFactory()):
        html = upload(login(user), data).get_data(as_text=True)
        assert "Genuine" in html and document.document_id in html and setup.contract.code in html
        # nothing the PDF does not state: no internal ids, no agency people
        for absent in (setup.lead.name, setup.member.name, f"/contracts/{setup.contract.id}",
                       f"report_id={report.id}", setup.hr.email):
            assert absent not in html
    forged = upload(login(other_client), flip_byte(data)).get_data(as_text=True)
    assert "Not verified" in forged and setup.contract.code not in forged and setup.company.name not in forged


@pytest.mark.rollback  # pure: no database of its own
@pytest.mark.parametrize("lang, expected", [("zh", "zh_CN"), ("zh-CN", "zh_CN"), ("en", "en"), (None, "en")])
def test_report_lang(lang, expected):
    assert documents.report_lang(lang) == expected


def test_the_pdf_states_the_exchange_rates_used(tmp_path):
    setup = make_contract()
    month_of_facts(setup.stores[0], 2026, 8, sales=60000, ad_spend=7000, ad_sales=30000)
    days = (date(2026, 8, 10), date(2026, 8, 20))
    add_facts(setup.stores[1], [(day, family, measure, value) for day in days for family, measure, value in (
        ("amazon_orders", "ordered_sales", 25000), ("amazon_ads", "ad_spend", 3000), ("amazon_ads", "ad_sales", 12500))],
        currency="EUR", name="eu.csv")
    report = reports.generate_report(setup.contract, AUG, setup.lead)
    assert reports.current_revision(report).lines[0]["value"] is None  # no EUR rate yet: no value
    assert reports.current_revision(report).lines[0]["provenance"]["reason"] == "missing_rates"
    db.session.add_all(FxRate(date=day, currency="EUR", rate=Decimal("1.1")) for day in days)
    reports.refresh_report(report, setup.lead)
    gmv = reports.current_revision(report).lines[0]
    assert Decimal(gmv["value"]) == Decimal(60000) + Decimal(50000) * Decimal("1.1")
    assert gmv["provenance"]["fx"] == ["EUR 2026-08-10 @ 1.1", "EUR 2026-08-20 @ 1.1"]
    reports.send_report(report, setup.lead)
    document = reports.accept_report(report, setup.client_user, "en")
    db.session.commit()
    flat = " ".join(pdf_text(documents.document_bytes(document), tmp_path).split())
    assert "Exchange rates: EUR 2026-08-10 @ 1.1; EUR 2026-08-20 @ 1.1" in flat
