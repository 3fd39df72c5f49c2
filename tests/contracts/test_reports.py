"""Contract report services (kpiapp/contracts/reports.py): periods, terms, the flow's steps."""
import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from kpiapp.contracts import reports
from kpiapp.contracts.amendment_flow import TermsState
from kpiapp.contracts.report_flow import ReportState, ReportStep
from kpiapp.extensions import db
from kpiapp.models import AuditEvent, ContractPeriod, ContractStatus, ContractVersion, Notification
from tests.contracts.factories import make_contract, month_of_facts

AUG = date(2026, 8, 1)


@pytest.fixture
def setup():
    setup = make_contract()
    for store in setup.stores:
        month_of_facts(store, 2026, 8, sales=60000, ad_spend=7000, ad_sales=30000)
    return setup


def generated(setup, period=AUG):
    report = reports.generate_report(setup.contract, period, setup.lead)
    db.session.commit()
    return report


def sent(setup):
    report = generated(setup)
    reports.send_report(report, setup.lead)
    db.session.commit()
    return report


def actions(entity_id):
    return [e.action for e in db.session.execute(select(AuditEvent).where(
        AuditEvent.entity == "contract_report", AuditEvent.entity_id == str(entity_id))
        .order_by(AuditEvent.seq)).scalars()]


def test_monthly_periods_cover_the_term():
    setup = make_contract(start=date(2026, 7, 15), end=date(2026, 10, 10))
    assert reports.periods(setup.contract) == [
        (date(2026, 7, 15), date(2026, 7, 31)), (date(2026, 8, 1), date(2026, 8, 31)),
        (date(2026, 9, 1), date(2026, 9, 30)), (date(2026, 10, 1), date(2026, 10, 10))]


def test_quarterly_periods_are_calendar_quarters():
    setup = make_contract(start=date(2026, 7, 1), end=date(2027, 6, 30))
    setup.contract.period = ContractPeriod.quarterly
    assert reports.periods(setup.contract)[:2] == [(date(2026, 7, 1), date(2026, 9, 30)),
                                                   (date(2026, 10, 1), date(2026, 12, 31))]
    assert len(reports.periods(setup.contract)) == 4


def test_terms_in_force_takes_the_latest_effective_version():
    setup = make_contract()
    amended = ContractVersion(number=2, status=TermsState.IN_FORCE, effective_from=date(2026, 9, 1),
                              base_fee=Decimal(25000), fee_currency="USD")
    proposed = ContractVersion(number=3, status=TermsState.PROPOSED, effective_from=date(2026, 10, 1),
                               base_fee=Decimal(1), fee_currency="USD")
    setup.contract.versions += [amended, proposed]
    db.session.commit()
    assert reports.terms_in_force(setup.contract, date(2026, 8, 1)) == setup.version
    assert reports.terms_in_force(setup.contract, date(2026, 9, 1)) == amended
    assert reports.terms_in_force(setup.contract, date(2026, 11, 1)) == amended
    assert reports.terms_in_force(setup.contract, date(2026, 6, 1)) is None


def test_generate_computes_lines_score_and_fee_with_provenance(setup):
    report = generated(setup)
    revision = reports.current_revision(report)
    gmv, acos = revision.lines
    assert (report.state, report.revision, report.version_id) == (ReportState.DRAFT, 1, setup.version.id)
    assert Decimal(gmv["value"]) == Decimal(120000) and gmv["points"] == "120.00"
    assert acos["points"] == "106.67"  # 100 + (0.25 - 0.2333) / 0.05 x 20
    assert revision.score == Decimal("114.67")  # 120 x 0.6 + 106.67 x 0.4
    provenance = gmv["provenance"]
    assert provenance["formula"] and provenance["import_ids"] and provenance["data_as_of"] == "2026-08-20"
    assert revision.data_as_of == date(2026, 8, 20)
    # 20,000 + 3 % of 120,000 = 23,600; +10 % (score >= 110) = 2,360; bonus 5,000 (score >= 105)
    assert [(s["code"], s["amount"]) for s in revision.fee["steps"]] == [
        ("base", "20000.00"), ("commission", "3600.00"), ("subtotal", "23600.00"), ("adjustment", "2360.00"),
        ("bonus", "5000.00"), ("total", "30960.00")]
    assert revision.fee_total == Decimal("30960.00")
    assert "contract_report.generate" in actions(report.id)


def test_generate_refuses_a_second_report_a_foreign_period_and_a_client(setup):
    generated(setup)
    with pytest.raises(reports.ReportError) as error:
        reports.generate_report(setup.contract, AUG, setup.lead)
    assert error.value.code == "exists"
    with pytest.raises(reports.ReportError) as error:
        reports.generate_report(setup.contract, date(2026, 9, 15), setup.lead)
    assert error.value.code == "not_a_period"
    with pytest.raises(reports.ReportError) as error:
        reports.generate_report(setup.contract, date(2026, 9, 1), setup.client_user)
    assert error.value.code == "forbidden"


def test_an_ended_contract_reports_its_periods_a_draft_none(setup):
    setup.contract.status = ContractStatus.ended
    assert generated(setup).state == ReportState.DRAFT
    draft = make_contract(status=ContractStatus.draft)
    with pytest.raises(reports.ReportError) as error:
        reports.generate_report(draft.contract, AUG, draft.hr)
    assert error.value.code == "not_active"


def test_send_is_blocked_while_a_clause_has_no_value(setup):
    report = reports.generate_report(setup.contract, date(2026, 9, 1), setup.lead)  # no September facts
    with pytest.raises(reports.ReportError) as error:
        reports.send_report(report, setup.lead)
    assert error.value.code == "missing_actuals"


def test_refresh_picks_up_a_new_import(setup):
    report = reports.generate_report(setup.contract, date(2026, 9, 1), setup.lead)
    assert reports.current_revision(report).lines[0]["value"] is None
    for store in setup.stores:
        month_of_facts(store, 2026, 9, sales=50000, ad_spend=5000, ad_sales=25000)
    reports.refresh_report(report, setup.lead)
    assert Decimal(reports.current_revision(report).lines[0]["value"]) == Decimal(100000)
    assert [e.step for e in report.events] == [ReportStep.GENERATE, ReportStep.REFRESH]


def test_override_replaces_the_value_with_its_reason_and_clears(setup):
    report = generated(setup)
    gmv_id = setup.clauses[0].id
    reports.set_override(report, gmv_id, Decimal(100000), "Refunds booked late", setup.lead)
    line = reports.current_revision(report).lines[0]
    assert (line["value"], line["points"], line["override"]["reason"]) == ("100000", "100.00", "Refunds booked late")
    assert Decimal(line["data_value"]) == Decimal(120000)
    fee = reports.current_revision(report).fee  # the GMV clause covers every store: the commission follows
    assert fee["commission"]["override"]["reason"] == "Refunds booked late"
    assert fee["steps"][1] == {"code": "commission", "amount": "3000.00", "params": {"pct": "3.000", "base": "100000"}}
    with pytest.raises(reports.ReportError) as error:
        reports.set_override(report, gmv_id, Decimal(1), "  ", setup.lead)
    assert error.value.code == "reason_required"
    reports.clear_override(report, gmv_id, setup.lead)
    assert reports.current_revision(report).lines[0]["override"] is None
    assert {"contract_report.override", "contract_report.clear_override"} <= set(actions(report.id))


def test_override_refused_on_a_sent_report_and_to_the_client(setup):
    report = sent(setup)
    with pytest.raises(reports.ReportError) as error:
        reports.set_override(report, setup.clauses[0].id, Decimal(1), "x", setup.lead)
    assert error.value.code == "not_draft"
    with pytest.raises(reports.ReportError) as error:
        reports.set_override(report, setup.clauses[0].id, Decimal(1), "x", setup.client_user)
    assert error.value.code == "forbidden"


def test_internal_note_is_agency_only(setup):
    report = generated(setup)
    reports.set_internal_note(report, "Ask the client about the returns", setup.member)
    assert reports.current_revision(report).internal_note == "Ask the client about the returns"
    with pytest.raises(reports.ReportError):
        reports.set_internal_note(report, "hi", setup.client_user)


def test_send_freezes_the_revision_and_notifies_the_client(setup):
    report = sent(setup)
    revision = reports.current_revision(report)
    assert report.state == ReportState.SENT and revision.sent_by_id == setup.lead.id and revision.sent_at
    notes = db.session.execute(select(Notification).where(Notification.key == "contract_report.sent")).scalars().all()
    assert [n.user_id for n in notes] == [setup.client_user.id]


def test_dispute_answer_and_revise(setup):
    report = sent(setup)
    acos_id = setup.clauses[1].id
    with pytest.raises(reports.ReportError) as error:
        reports.dispute_clause(report, acos_id, "", setup.client_user)
    assert error.value.code == "text_required"
    with pytest.raises(reports.ReportError) as error:
        reports.dispute_clause(report, 999999, "what?", setup.client_user)
    assert error.value.code == "clause_required"
    with pytest.raises(reports.ReportError) as error:
        reports.dispute_clause(report, acos_id, "too high", setup.lead)
    assert error.value.code == "forbidden"
    reports.dispute_clause(report, acos_id, "Ad spend includes a brand campaign we paid", setup.client_user)
    db.session.commit()
    assert report.state == ReportState.DISPUTED
    team = db.session.execute(select(Notification.user_id).where(
        Notification.key == "contract_report.disputed")).scalars().all()
    assert sorted(team) == sorted([setup.lead.id, setup.member.id])
    reports.answer_dispute(report, acos_id, "We will take it out", setup.member)
    revision = reports.revise_report(report, setup.lead)
    db.session.commit()
    assert (report.state, report.revision, revision.number) == (ReportState.DRAFT, 2, 2)
    assert reports.current_revision(report) is revision
    assert reports.client_revision(report).number == 1
    assert [e.step for e in reports.client_events(report)] == [
        ReportStep.SEND, ReportStep.DISPUTE, ReportStep.ANSWER, ReportStep.REVISE]


def test_accept_signs_records_the_account_and_notifies_the_team(setup):
    report = sent(setup)
    document = reports.accept_report(report, setup.client_user, "zh_CN")
    db.session.commit()
    assert report.state == ReportState.ACCEPTED
    event = report.events[-1]
    assert (event.step, event.actor_id, event.actor_account) == (ReportStep.ACCEPT, setup.client_user.id,
                                                                 setup.client_user.email)
    assert (document.revision, document.lang, document.accepted_by_id) == (1, "zh_CN", setup.client_user.id)
    assert {"contract_report.accept", "contract_report.acceptance", "contract_report.sign"} <= set(actions(report.id))
    team = db.session.execute(select(Notification.user_id).where(
        Notification.key == "contract_report.accepted")).scalars().all()
    assert sorted(team) == sorted([setup.lead.id, setup.member.id])
    with pytest.raises(reports.ReportError) as error:
        reports.accept_report(report, setup.client_user, "en")
    assert error.value.code == "not_allowed_in_state"


def test_permitted_steps_by_party(setup):
    report = generated(setup)
    assert set(reports.permitted_steps(setup.lead, report)) == {ReportStep.REFRESH, ReportStep.SEND}
    assert reports.permitted_steps(setup.client_user, report) == ()
    reports.send_report(report, setup.lead)
    assert set(reports.permitted_steps(setup.client_user, report)) == {ReportStep.ACCEPT, ReportStep.DISPUTE}
    assert reports.permitted_steps(setup.lead, report) == ()


def test_clause_history_per_period_and_client_sees_only_sent(setup):
    for store in setup.stores:
        month_of_facts(store, 2026, 9, sales=50000, ad_spend=5000, ad_sales=25000)
    sent(setup)
    generated(setup, date(2026, 9, 1))  # a draft: the client does not see it
    agency = reports.clause_history(setup.contract)
    client = reports.clause_history(setup.contract, client=True)
    assert agency["periods"] == ["2026-08", "2026-09"] and client["periods"] == ["2026-08"]
    gmv = agency["clauses"][0]
    assert (gmv["name"], gmv["metric_key"], gmv["unit"]) == ("GMV", "gmv", "money")
    assert [Decimal(v) for v in gmv["values"]] == [Decimal(120000), Decimal(100000)]
    assert agency["scores"][0] == "114.67" and client["scores"] == ["114.67"]


def test_fee_xlsx_lists_the_steps_as_numbers(setup):
    report = generated(setup)
    report.contract.title = "=HYPERLINK(\"http://evil\")"
    sheet = load_workbook(io.BytesIO(reports.fee_xlsx(report, lang="en"))).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0][1].startswith(report.contract.code)
    assert not any(isinstance(v, str) and v.startswith("=") for row in rows for v in row)
    amounts = {row[0]: row[1] for row in rows if isinstance(row[1], (int, float))}
    assert amounts["Fee for the period"] == 30960.0 and amounts["Commission"] == 3600.0


def test_notifications_read_in_the_readers_language(setup):
    from kpiapp.appraisal.notifications import text

    report = sent(setup)
    reports.dispute_clause(report, setup.clauses[1].id, "Brand campaign included", setup.client_user)
    db.session.commit()
    sent_note = db.session.execute(select(Notification).where(Notification.key == "contract_report.sent")).scalar_one()
    disputed = db.session.execute(select(Notification).where(
        Notification.key == "contract_report.disputed", Notification.user_id == setup.lead.id)).scalar_one()
    assert text(sent_note, "en") == (f"The KPI report 2026-08 of contract {setup.contract.code} (revision 1) "
                                     "is ready for your review.")
    assert text(sent_note, "zh_CN").startswith(f"合同 {setup.contract.code} 的 2026-08 KPI报告")
    assert text(disputed, "zh_CN").endswith("ACoS 提出异议：Brand campaign included")


def test_client_fee_export_reads_the_sent_revision_in_chinese(setup):
    report = sent(setup)
    reports.dispute_clause(report, setup.clauses[0].id, "GMV too low", setup.client_user)
    reports.revise_report(report, setup.lead)
    reports.set_override(report, setup.clauses[0].id, Decimal(100000), "Refunds", setup.lead)  # a draft
    sheet = load_workbook(io.BytesIO(reports.fee_xlsx(report, lang="zh_CN", client=True))).active
    rows = {row[0].value: row[1].value for row in sheet.iter_rows()}
    assert rows["修订版本"] == "1" and rows["本期服务费"] == 30960  # not the draft's 23,000
    agency = load_workbook(io.BytesIO(reports.fee_xlsx(report, lang="en"))).active
    assert {row[0].value: row[1].value for row in agency.iter_rows()}["Revision"] == "2"
