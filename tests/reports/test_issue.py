"""Issuing: signed and trusted, the content in both languages, idempotence, supersession."""

import io

import pytest
from flask_babel import force_locale, gettext
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from kpiapp.extensions import db
from kpiapp.models import AuditEvent, IssuedReport
from kpiapp.pdf.signing import verify_pdf
from kpiapp.reports import services
from tests.appraisal.factories import make_team
from tests.reports.helpers import issue, pdf_text, reopen_and_relock


def test_issued_report_is_signed_trusted_and_stored(locked):
    team, (card, _other) = locked
    report = issue(card, team.hr, "en")
    data = services.report_bytes(report)
    check = verify_pdf(data, services.signing_material().trust_roots)
    assert (check.ok, check.intact, check.valid, check.trusted) == (True, True, True, True)
    assert check.coverage == "ENTIRE_FILE" and check.modification_level == "NONE"
    assert check.reason == "Appraisal locked" and check.document_id == report.document_id
    assert "Report Signing" in check.signer_name and report.signer_subject
    assert (report.scorecard_id, report.scorecard_version, report.person_id, report.lang) == (
        card.id,
        1,
        card.person_id,
        "en",
    )
    assert len(report.document_id) >= 20 and report.size == len(data)
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "report.issue")).scalar_one()
    assert report.document_id in event.after_json and event.actor == team.hr.email
    box = [float(v) for v in PdfFileReader(io.BytesIO(data)).root["/Pages"]["/Kids"][0]["/MediaBox"]]
    assert round(box[2]) == 595 and round(box[3]) == 842  # A4


@pytest.mark.parametrize("lang, reason", [("en", "Appraisal locked"), ("zh_CN", "考核结果已锁定")])
def test_the_signature_reason_is_in_the_reports_language(locked, lang, reason):
    team, (card, _other) = locked
    data = services.report_bytes(issue(card, team.hr, lang))
    check = verify_pdf(data, services.signing_material().trust_roots)
    assert check.ok and check.reason == reason
    summary = services.issue_cycle_summary(card.cycle_id, team.hr, lang)
    reason = verify_pdf(services.report_bytes(summary), services.signing_material().trust_roots).reason
    assert reason == ("Cycle summary" if lang == "en" else "周期汇总")


@pytest.mark.parametrize("lang, metric_name", [("en", "GMV (ordered sales)"), ("zh_CN", "销售额 GMV")])
def test_report_text_has_labels_and_numbers(locked, tmp_path, lang, metric_name):
    team, (card, _other) = locked
    report = issue(card, team.hr, lang)
    body = pdf_text(services.report_bytes(report), tmp_path)
    assert "李雷 Li Lei" in body and report.document_id in body
    assert f"/reports/{report.document_id}/provenance" in body  # where the numbers come from (issue 12)
    assert card.grade == "S" and str(int(card.total)) == "98"  # GMV 110 pts x 60% + manual 80 x 40%
    for expected in ("98", "GMV", "Teamwork", "100,000", "110,000", metric_name, card.cycle.name):
        assert expected in body, expected
    with force_locale(lang):
        labels = [
            gettext("Performance appraisal report"),
            gettext("Total score"),
            gettext("Grade"),
            gettext("Approval trail"),
            gettext("Document ID"),
        ]
    for label in labels:
        assert label in body, label
    if lang == "zh_CN":  # scoring's own Chinese sentence and the catalogue's definition text
        assert "介于目标值" in body and "已订购商品销售额" in body


def test_issuing_is_idempotent_per_version_and_language(locked):
    team, (card, _other) = locked
    first = issue(card, team.hr, "en")
    assert issue(card, team.admin, "en").id == first.id
    chinese = issue(card, team.hr, "zh_CN")
    assert chinese.document_id != first.document_id
    assert db.session.scalar(select(func.count(IssuedReport.id))) == 2


def test_a_scorecard_that_is_not_locked_is_refused():
    team = make_team(size=1)
    with pytest.raises(services.ReportError) as refused:
        services.issue_report(team.card(team.people[0]).id, team.hr, "en")
    assert refused.value.code == "not_locked" and refused.value.status == 409


def test_an_employee_cannot_issue(locked):
    _team, (card, _other) = locked
    with pytest.raises(services.ReportError) as refused:
        services.issue_report(card.id, card.person, "en")
    assert refused.value.code == "forbidden"


def test_reissue_after_reopen_supersedes_the_old_document(locked):
    team, (card, _other) = locked
    old = issue(card, team.hr, "en")
    old_bytes = services.report_bytes(old)
    assert not services.is_superseded(old)
    newer = reopen_and_relock(team, card)
    assert newer.version == 2 and newer.id != card.id
    assert services.is_superseded(old)  # derived: a newer scorecard version exists
    new = issue(newer, team.hr, "en")
    assert new.document_id != old.document_id and new.scorecard_version == 2
    assert not services.is_superseded(new)
    still = services.verify_document(old_bytes)  # the old document stays verifiable
    assert still.ok and still.report.id == old.id and still.superseded and still.superseded_by.id == newer.id
    assert services.report_bytes(old) == old_bytes


def test_issued_reports_are_append_only(locked):
    team, (card, _other) = locked
    report = issue(card, team.hr, "en")
    for statement in (
        "UPDATE issued_report SET lang = 'xx' WHERE id = :id",
        "DELETE FROM issued_report WHERE id = :id",
    ):
        with pytest.raises(DBAPIError):
            db.session.execute(text(statement), {"id": report.id})
            db.session.flush()
        db.session.rollback()
    assert services.report_bytes(db.session.get(IssuedReport, report.id))


def test_cycle_summary_lists_totals_and_distribution(locked, tmp_path):
    team, _cards = locked
    summary = services.issue_cycle_summary(team.cycle.id, team.hr, "en")
    db.session.commit()
    body = pdf_text(services.report_bytes(summary), tmp_path)
    assert summary.document_id in body and "李雷 Li Lei" in body and "over quota" in body  # 1 of 1 is S > 10%
    assert "not locked" in body  # the second person's scorecard is still a draft
    assert services.issue_cycle_summary(team.cycle.id, team.hr, "en").id == summary.id
    assert services.verify_document(services.report_bytes(summary)).ok


def test_cycle_summary_prints_the_audit_chain_head(locked, tmp_path):
    from kpiapp.audit import chain_head

    team, _cards = locked
    seq, digest = chain_head(db.session.connection())
    summary = services.issue_cycle_summary(team.cycle.id, team.hr, "en")
    db.session.commit()
    body = "".join(pdf_text(services.report_bytes(summary), tmp_path).split())
    assert f"Auditchainhead#{seq}sha256{digest}" in body
