"""One contract through three months (issue 13, "Done means"), at the service level.

Facts come through the real importer (kpiapp/imports/services.py): each month, each of the
contract's two stores uploads an Amazon Business Report for the month (ordered product
sales -> GMV) and an Amazon Ads console report (spend and sales -> ACoS).

The contract (tests/contracts/factories.py): GMV weight 60 (threshold 80,000, target 100,000,
stretch 120,000, linear, cap 120) and ACoS weight 40 (lower is better: threshold 35 %, target
25 %, stretch 20 %); fee 20,000 + 3 % of GMV, +10 % from 110 points, -10 % from 60 to under 80,
-20 % under 60, bonus 5,000 from 105 points.

July: accepted as sent. August: the client disputes ACoS, the agency re-imports corrected ads
data, revises and re-sends, the client accepts. September: the client disputes GMV, the agency
enters a manual value with its reason, revises and re-sends, the client accepts. Each accepted
report is signed, verifies, and its text shows the acceptance; the superseded revisions stay
as they were.
"""
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from kpiapp.contracts import documents, reports
from kpiapp.contracts.report_flow import ReportState, ReportStep
from kpiapp.extensions import db
from kpiapp.imports.services import start_import
from kpiapp.models import ContractDocument, Notification
from kpiapp.reports.services import verify_document
from tests.contracts.factories import make_contract
from tests.imports.files import ads_report, business_report
from tests.reports.helpers import pdf_text

D = Decimal


def import_month(setup, month, *, sales, spend, ad_sales, name="ads"):
    """Per store: a Business Report of the month and an Ads report of two days (half each)."""
    start, end = reports.period_of(setup.contract, date(2026, month, 1))
    for store in setup.stores:
        sales_file = business_report([("B0CHILD001", 1000, 100, f"${sales:,.2f}")])
        record = start_import(sales_file, f"BusinessReport-{month}.csv", store.id, setup.hr,
                              date_from=start, date_to=end)
        assert record.status == "committed", record.error
        half_spend, half_sales = D(spend) / 2, D(ad_sales) / 2
        days = [date(2026, month, 10).isoformat(), date(2026, month, 20).isoformat()]
        ads = ads_report([(day, "Brand", 10000, 300, f"{half_spend:.2f}", f"{half_sales:.2f}") for day in days])
        record = start_import(ads, f"{name}-{month}.csv", store.id, setup.hr)
        assert record.status == "committed", record.error
    db.session.commit()


def fee_of(revision):
    return {s["code"]: D(s["amount"]) for s in revision.fee["steps"]}


def accept_and_check(setup, report, tmp_path, lang="en"):
    document = reports.accept_report(report, setup.client_user, lang)
    db.session.commit()
    data = documents.document_bytes(document)
    result = verify_document(data)
    assert result.ok and result.contract_document == document and not result.superseded
    text = " ".join(pdf_text(data, tmp_path, f"{document.document_id}.pdf").split())
    user = setup.client_user
    accepted = {"en": f"Accepted by {user.name} (account {user.email})", "zh_CN": f"由 {user.name}（账号 {user.email}）"}
    assert accepted[lang] in text
    assert setup.contract.code in text and document.document_id in text
    return document, text


def walk(setup, month, actor=None):
    report = reports.generate_report(setup.contract, date(2026, month, 1), actor or setup.lead)
    db.session.commit()
    reports.send_report(report, setup.lead)
    db.session.commit()
    return report


def test_three_months_of_one_contract(tmp_path):
    setup = make_contract()
    gmv, acos = setup.clauses

    # ---- July: on target everywhere, accepted as sent ----------------------------------
    # per store: sales 50,000, ad spend 6,000 on ad sales 24,000
    import_month(setup, 7, sales=50000, spend=6000, ad_sales=24000)
    july = walk(setup, 7)
    revision = reports.current_revision(july)
    # GMV 100,000 = target -> 100; ACoS 12,000 / 48,000 = 25 % = target -> 100; score 100
    assert [D(line["points"]) for line in revision.lines] == [D(100), D(100)]
    assert revision.score == D(100)
    # 20,000 + 3 % x 100,000 = 23,000; 100 points: no band, below the bonus threshold
    assert fee_of(revision) == {"base": D(20000), "commission": D(3000), "subtotal": D(23000), "total": D(23000)}
    july_doc, _text = accept_and_check(setup, july, tmp_path)

    # ---- August: ACoS disputed, corrected by a new import ----------------------------------
    # per store: sales 45,000, ad spend 7,500 on 25,000
    import_month(setup, 8, sales=45000, spend=7500, ad_sales=25000)
    august = walk(setup, 8, actor=setup.member)
    first = reports.current_revision(august)
    # GMV 90,000: (90,000 - 80,000) / 20,000 x 100 = 50; ACoS 30 %: (35 - 30) / (35 - 25) x 100 = 50
    assert [D(line["points"]) for line in first.lines] == [D(50), D(50)] and first.score == D(50)
    # 20,000 + 2,700 = 22,700; score 50 < 60: -20 % = -4,540; fee 18,160
    assert fee_of(first) == {"base": D(20000), "commission": D(2700), "subtotal": D(22700),
                             "adjustment": D(-4540), "total": D(18160)}
    reports.dispute_clause(august, acos.id, "Ad spend includes the brand campaign we paid ourselves.",
                           setup.client_user)
    reports.answer_dispute(august, acos.id, "Right: we re-import the ads report without it.", setup.lead)
    db.session.commit()
    # the corrected ads file: per store spend 6,250 on 25,000 (the same days replace the old rows)
    import_month(setup, 8, sales=45000, spend=6250, ad_sales=25000, name="ads-corrected")
    second = reports.revise_report(august, setup.lead)
    db.session.commit()
    # ACoS 25 % -> 100; score 50 x 0.6 + 100 x 0.4 = 70: -10 % of 22,700 = -2,270; fee 20,430
    assert [D(line["points"]) for line in second.lines] == [D(50), D(100)] and second.score == D(70)
    assert fee_of(second) == {"base": D(20000), "commission": D(2700), "subtotal": D(22700),
                              "adjustment": D(-2270), "total": D(20430)}
    reports.send_report(august, setup.lead)
    db.session.commit()
    august_doc, august_text = accept_and_check(setup, august, tmp_path)
    assert "20,430.00" in august_text and "18,160.00" not in august_text
    assert august_doc.revision == 2

    # ---- September: GMV disputed, corrected by a manual value with its reason ------------------
    # per store: sales 50,000, ad spend 5,000 on 25,000
    import_month(setup, 9, sales=50000, spend=5000, ad_sales=25000)
    september = walk(setup, 9)
    first_sep = reports.current_revision(september)
    # GMV 100,000 -> 100; ACoS 20 % = stretch -> 120; score 60 + 48 = 108: no band, bonus 5,000
    assert first_sep.score == D(108)
    assert fee_of(first_sep) == {"base": D(20000), "commission": D(3000), "subtotal": D(23000),
                                 "bonus": D(5000), "total": D(28000)}
    reports.dispute_clause(september, gmv.id, "A B2B order of 10,000 on 30 September is missing.",
                           setup.client_user)
    reports.revise_report(september, setup.lead)
    reports.set_override(september, gmv.id, D(110000), "B2B order 10,000 of 30 Sep (invoice B2B-0930) "
                         "is not in the Amazon report.", setup.lead)
    db.session.commit()
    second_sep = reports.current_revision(september)
    # GMV 110,000: 100 + (110,000 - 100,000) / 20,000 x 20 = 110; score 66 + 48 = 114
    # commission 3 % of 110,000 = 3,300; subtotal 23,300; +10 % = 2,330; bonus 5,000; fee 30,630
    assert second_sep.score == D(114)
    assert fee_of(second_sep) == {"base": D(20000), "commission": D(3300), "subtotal": D(23300),
                                  "adjustment": D(2330), "bonus": D(5000), "total": D(30630)}
    reports.send_report(september, setup.lead)
    db.session.commit()
    september_doc, september_text = accept_and_check(setup, september, tmp_path, lang="zh_CN")
    assert setup.client_user.email in september_text and "invoice B2B-0930" in september_text

    # ---- what stays ------------------------------------------------------------------------
    db.session.expire_all()
    assert [r.state for r in reports.reports_of(setup.contract)] == [ReportState.ACCEPTED] * 3
    assert [(r.number, r.fee_total, r.sent_at is not None) for r in august.revisions] == [
        (1, D("18160.00"), True), (2, D("20430.00"), True)]
    assert D(august.revisions[0].lines[1]["value"]) == D("0.3")  # the old revision as it was sent
    assert september.revisions[0].lines[0]["override"] is None
    assert [e.step for e in august.events] == [
        ReportStep.GENERATE, ReportStep.SEND, ReportStep.DISPUTE, ReportStep.ANSWER, ReportStep.REVISE,
        ReportStep.SEND, ReportStep.ACCEPT]
    assert db.session.execute(select(ContractDocument.revision).order_by(ContractDocument.id)).scalars().all() \
        == [1, 2, 2]
    history = reports.clause_history(setup.contract, client=True)
    assert history["periods"] == ["2026-07", "2026-08", "2026-09"]
    assert history["scores"] == ["100.00", "70.00", "114.00"]
    assert verify_document(documents.document_bytes(july_doc)).ok  # the first document still verifies
    sent = db.session.execute(select(Notification).where(Notification.key == "contract_report.sent")).scalars()
    assert len(sent.all()) == 5  # July, August twice, September twice
