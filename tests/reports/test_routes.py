"""Screens: downloads (identical bytes, 404 for foreign ids), issuing (HR only), verify, lists."""
import io

import pytest
from sqlalchemy import func, select

from kpiapp.extensions import db
from kpiapp.models import IssuedReport
from kpiapp.reports import services
from tests.factories import ClientUserFactory, UserFactory
from tests.helpers import post_form
from tests.reports.helpers import flip_byte, issue

pytestmark = pytest.mark.rollback  # one transaction per test, rolled back (tests/conftest.py)


def principal(team, name):
    return {
        "owner": lambda: team.people[0],
        "manager": lambda: team.manager,
        "boss": lambda: team.boss,
        "hr": lambda: team.hr,
        "admin": lambda: team.admin,
        "colleague": lambda: team.people[1],
        "stranger": lambda: UserFactory(),
        "client": lambda: ClientUserFactory(),
    }[name]()


DOWNLOAD = {
    "owner": 200,
    "manager": 200,
    "boss": 200,
    "hr": 200,
    "admin": 200,
    "colleague": 404,
    "stranger": 404,
    "client": 403,
}


def test_download_permissions(locked, login):
    """Owner, managers up the line, HR, admin: the file; anyone else: 404 (a client: 403 by route)."""
    team, (card, _other) = locked
    report = issue(card, team.hr)
    got = {}
    for who in DOWNLOAD:
        response = login(principal(team, who)).get(f"/reports/d/{report.document_id}")
        got[who] = response.status_code
        assert (b"%PDF" in response.data) == (response.status_code == 200), who
    assert got == DOWNLOAD
    assert login(team.hr).get("/reports/d/not-a-document").status_code == 404


def test_download_is_the_identical_stored_file(locked, login):
    team, (card, _other) = locked
    report = issue(card, team.hr, "zh_CN")
    client = login(card.person)
    first, second = (client.get(f"/reports/d/{report.document_id}") for _ in range(2))
    assert first.data == second.data == services.report_bytes(report)
    assert first.headers["Cache-Control"] == "no-store"
    disposition = first.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="report-') and disposition.endswith('.pdf"')
    assert "/" not in disposition and first.mimetype == "application/pdf"
    page = client.get(f"/reports/scorecards/{card.id}").get_data(as_text=True)
    assert report.document_id in page and "Issue report" not in page  # the owner downloads, HR issues


def test_employee_cannot_issue(locked, login):
    team, (card, _other) = locked
    client = login(card.person)
    response = post_form(client, f"/reports/scorecards/{card.id}/issue", {"lang": "en"})
    assert response.status_code == 403
    assert db.session.scalar(select(func.count(IssuedReport.id))) == 0


def test_hr_issues_from_the_scorecard_page(locked, login):
    team, (card, _other) = locked
    client = login(team.hr)
    page = client.get(f"/reports/scorecards/{card.id}").get_data(as_text=True)
    assert "Issue report" in page
    response = post_form(
        client,
        f"/reports/scorecards/{card.id}/issue",
        {"lang": "zh_CN"},
        page=f"/reports/scorecards/{card.id}",
    )
    assert response.status_code == 302
    report = db.session.execute(select(IssuedReport)).scalar_one()
    assert report.lang == "zh_CN"
    fragment = post_form(
        client,
        f"/reports/scorecards/{card.id}/issue",
        {"lang": "zh_CN"},
        page=f"/reports/scorecards/{card.id}",
        headers={"HX-Request": "true"},
    )
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and f'id="scorecard-{card.id}-reports"' in html and "<html" not in html
    assert report.document_id in html and db.session.scalar(select(func.count(IssuedReport.id))) == 1


LISTS = {"owner": {0}, "colleague": {1}, "manager": {0, 1}, "hr": {0, 1}, "stranger": set()}


def test_report_list_shows_what_the_user_may_download(locked_pair, login):
    team, cards = locked_pair
    reports = [issue(card, team.hr) for card in cards]
    got = {}
    for who in LISTS:
        page = login(principal(team, who)).get("/reports/").get_data(as_text=True)
        got[who] = {n for n, r in enumerate(reports) if r.document_id in page}
    assert got == LISTS


def upload(client, data, filename="report.pdf", **headers):
    return post_form(
        client,
        "/reports/verify",
        {"file": (io.BytesIO(data), filename)},
        page="/reports/verify",
        content_type="multipart/form-data",
        headers=headers,
    )


def test_verify_page_accepts_a_genuine_copy(locked, login):
    team, (card, _other) = locked
    report = issue(card, team.hr)
    client = login(UserFactory())  # anyone signed in may verify
    html = upload(client, services.report_bytes(report)).get_data(as_text=True)
    assert "Genuine" in html and report.document_id in html and card.person.name in html
    assert "Report Signing" in html
    link = f'href="/reports/{report.document_id}/provenance"'  # where its numbers come from (issue 12)
    assert link in html
    assert client.get(f"/reports/{report.document_id}/provenance").status_code == 404  # not theirs
    owners = login(card.person).get(f"/reports/{report.document_id}/provenance").get_data(as_text=True)
    metric = next(i for i in card.items if not i.is_manual)
    assert f'href="/provenance/items/{metric.id}"' in owners


def test_verify_page_reads_back_a_chinese_signature_reason(locked, login):
    team, (card, _other) = locked
    report = issue(card, team.hr, "zh_CN")
    html = upload(login(UserFactory()), services.report_bytes(report)).get_data(as_text=True)
    assert "Genuine" in html and "考核结果已锁定" in html and "Appraisal locked" not in html


def test_verify_page_detects_a_flipped_byte(locked, login):
    team, (card, _other) = locked
    report = issue(card, team.hr)
    response = upload(login(card.person), flip_byte(services.report_bytes(report)), HX_Request="true")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Not verified" in html and "Genuine" not in html
    assert "not byte for byte" in html and card.person.name in html  # the owner may see whose it is
    stranger = upload(login(UserFactory()), flip_byte(services.report_bytes(report))).get_data(as_text=True)
    assert "Not verified" in stranger and card.person.name not in stranger


def test_verify_page_refuses_a_non_pdf(locked, login):
    team, _cards = locked
    html = upload(login(team.hr), b"GIF89a not a pdf", "x.pdf").get_data(as_text=True)
    assert "The file is not a PDF." in html
