"""Bulk issue (job, progress, ZIP), the CLI commands, the demo hook and the charts."""

import io
import zipfile

import pytest
from sqlalchemy import func, select

from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from kpiapp.models import IssuedReport, ReportBatch
from kpiapp import charts
from kpiapp.reports import services
from tests.appraisal.factories import make_team, walk_to
from tests.helpers import post_form
from tests.reports.helpers import flip_byte


def test_bulk_issue_zips_one_pdf_per_locked_scorecard(login):
    team = make_team(size=3)
    locked = [walk_to(team, person, S.LOCKED) for person in team.people[:2]]  # the third stays in draft
    client = login(team.hr)
    response = post_form(
        client, f"/reports/cycles/{team.cycle.id}/batch", {"lang": "en"}, page="/reports/cycles"
    )
    assert response.status_code == 302 and "/reports/batches/" in response.headers["Location"]
    batch = db.session.execute(select(ReportBatch)).scalar_one()
    assert (batch.status, batch.total, batch.done, batch.skipped) == ("done", 2, 2, 1)
    fragment = client.get(f"/reports/batches/{batch.id}", headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    assert "hx-trigger" not in fragment and "reports.zip" in fragment and "<html" not in fragment
    download = client.get(f"/reports/batches/{batch.id}/reports.zip")
    assert download.headers["Cache-Control"] == "no-store"
    archive = zipfile.ZipFile(io.BytesIO(download.data))
    names = archive.namelist()
    assert len(names) == 2 and all(n.endswith(".pdf") and "/" not in n for n in names)
    stored = {
        r.scorecard_id: services.report_bytes(r) for r in db.session.execute(select(IssuedReport)).scalars()
    }
    assert set(stored) == {c.id for c in locked}
    assert sorted(archive.read(n) for n in names) == sorted(stored.values())
    # run again (at-least-once delivery): nothing new is issued
    services.run_batch(batch.id)
    assert db.session.scalar(select(func.count(IssuedReport.id))) == 2


def test_batch_progress_polls_while_running(login):
    team = make_team(size=1)
    walk_to(team, team.people[0], S.LOCKED)
    batch, created = services.start_batch(team.cycle.id, team.hr, "zh_CN")
    db.session.commit()
    assert created and services.start_batch(team.cycle.id, team.hr, "zh_CN") == (batch, False)
    client = login(team.hr)
    fragment = client.get(f"/reports/batches/{batch.id}", headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    assert 'hx-trigger="every 1s"' in fragment and "reports.zip" not in fragment
    assert client.get(f"/reports/batches/{batch.id}/reports.zip").status_code == 404
    assert login(team.people[0]).get(f"/reports/batches/{batch.id}").status_code == 403


def test_a_failing_batch_is_marked_failed(monkeypatch):
    team = make_team(size=1)
    walk_to(team, team.people[0], S.LOCKED)
    batch, _created = services.start_batch(team.cycle.id, team.hr, "en")
    db.session.commit()

    def broken(*_args, **_kwargs):
        raise RuntimeError("renderer down")

    monkeypatch.setattr(services, "issue_report", broken)
    services.launch_batch(batch)
    db.session.expire_all()
    batch = db.session.get(ReportBatch, batch.id)
    assert batch.status == "failed" and "renderer down" in batch.error


def test_cli_report_and_verify_report(app, tmp_path, locked):
    team, (card, _other) = locked
    runner = app.test_cli_runner()
    out = tmp_path / "report.pdf"
    result = runner.invoke(args=["kpi", "report", str(card.id), "--out", str(out), "--lang", "zh_CN"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    report = db.session.execute(select(IssuedReport)).scalar_one()
    assert out.read_bytes() == services.report_bytes(report) and report.lang == "zh_CN"
    again = runner.invoke(
        args=["kpi", "report", str(card.id), "--out", str(tmp_path / "again.pdf"), "--lang", "zh_CN"]
    )
    assert again.exit_code == 0 and (tmp_path / "again.pdf").read_bytes() == out.read_bytes()

    good = runner.invoke(args=["kpi", "verify-report", str(out)])
    assert good.exit_code == 0, good.output
    assert (
        "OK" in good.output and report.document_id in good.output and f"scorecard {card.id} v1" in good.output
    )
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(flip_byte(out.read_bytes()))
    bad = runner.invoke(args=["kpi", "verify-report", str(tampered)])
    assert bad.exit_code == 1 and "NOT VERIFIED" in bad.output and "differs_from_stored" in bad.output


def test_cli_refuses_a_scorecard_that_is_not_locked(app, tmp_path):
    team = make_team(size=1)
    out = tmp_path / "x.pdf"
    result = app.test_cli_runner().invoke(
        args=["kpi", "report", str(team.card(team.people[0]).id), "--out", str(out)]
    )
    assert result.exit_code == 1 and not out.exists()
    assert "refused" in result.output and "not locked" in result.output and result.output.count("\n") == 1


def test_cli_verify_rejects_an_unsigned_pdf(app, tmp_path):
    from kpiapp.pdf.render import render_pdf

    path = tmp_path / "plain.pdf"
    path.write_bytes(render_pdf("<p>not signed</p>"))
    result = app.test_cli_runner().invoke(args=["kpi", "verify-report", str(path)])
    assert result.exit_code == 1 and "no_signature" in result.output


def test_seed_reports_demo(locked):
    assert services.seed_reports_demo() == 1
    db.session.commit()
    reports = db.session.execute(select(IssuedReport)).scalars().all()
    assert sorted(r.kind for r in reports) == ["cycle_summary", "scorecard"]


def test_seed_reports_demo_is_a_noop_without_locked_scorecards():
    make_team(size=1)
    assert services.seed_reports_demo() == 0


@pytest.mark.rollback  # pure: no database of its own
def test_chart_escapes_labels_and_shows_points():
    labels = {"points": "分数", "weight": "权重 %(weight)s%%"}
    spec = charts.points_bars([("<script>x</script>", 110, 60), ("Teamwork", None, 40)], labels)
    svg = str(charts.svg(spec))
    assert svg.startswith("<svg") and "<script>" not in svg and "&lt;script&gt;" in svg
    assert "110" in svg and "—" in svg and "style=" not in svg
    assert "权重 60%" in svg and "分数" in svg


def test_report_html_embeds_the_chart_as_svg_in_the_report_language(locked):
    team, (card, _none) = locked
    html = services.render_scorecard_html(card, "zh_CN", "doc-1")
    chart = html[html.index('<div class="chart">'):]
    assert chart.index("<svg") < 30 and "得分" in chart and "GMV" in chart
    summary = services.render_summary_html(team.cycle, services.latest_scorecards(team.cycle.id), "en", "doc-2")
    assert "Share of graded people (%)" in summary[summary.index('<div class="chart">'):]


def test_cycle_page_issues_a_summary_for_hr_only(locked, login):
    team, (card, _none) = locked
    client = login(team.hr)
    page = client.get("/reports/cycles").get_data(as_text=True)
    assert team.cycle.name in page and "Issue cycle summary" in page
    response = post_form(
        client, f"/reports/cycles/{team.cycle.id}/summary", {"lang": "en"}, page="/reports/cycles"
    )
    assert response.status_code == 302
    summary = db.session.execute(
        select(IssuedReport).where(IssuedReport.kind == "cycle_summary")
    ).scalar_one()
    assert summary.document_id in client.get("/reports/cycles").get_data(as_text=True)
    owner = login(card.person)
    assert owner.get("/reports/cycles").status_code == 403
    assert owner.get(f"/reports/d/{summary.document_id}").status_code == 404  # summaries are for HR
    assert client.get(f"/reports/d/{summary.document_id}").data == services.report_bytes(summary)
