"""One durable job row per job, whatever its kind; progress pages stop on done/failed and show
the failure; a stale heartbeat reads "worker lost, will retry". In-process (no Redis)."""
from datetime import timedelta

import pytest
from rq.exceptions import AbandonedJobError
from sqlalchemy import select

from kpiapp import jobs
from kpiapp.appraisal import services as appraisal
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from kpiapp.imports.services import job_run, start_import
from kpiapp.models import JobRun
from kpiapp.models.base import utcnow
from tests.appraisal.factories import make_team, walk_to
from tests.helpers import post_form
from tests.imports.files import ads_report, hr_user, store
from workers.jobs import job_failed
from workers.runner import WorkHorseKilled

ADS = ads_report([("2025-03-01", "Camp A", 1000, 50, "25.50", "100.00")])


class FakeJob:
    """What RQ hands an on_failure callback."""

    def __init__(self, run, retries_left):
        self.meta, self.args, self.retries_left = {"job_run_id": run.id}, (run.id,), retries_left


def runs():
    db.session.expire_all()
    return {(r.kind, r.status) for r in db.session.execute(select(JobRun)).scalars()}


def fragment(client, path):
    return client.get(path, headers={"HX-Request": "true"}).get_data(as_text=True)


def test_every_kind_leaves_a_done_job_row(app):
    team = make_team(size=1)
    walk_to(team, team.people[0], S.LOCKED)
    jobs.launch(jobs.create("cycle_start", "cycle", team.cycle.id, team.hr.id))
    from kpiapp.reports import services as reports

    batch, _created = reports.start_batch(team.cycle.id, team.hr, "en")
    db.session.commit()
    reports.launch_batch(batch)
    start_import(ADS, "ads.csv", store().id, hr_user())
    assert runs() == {("cycle_start", "done"), ("report_batch", "done"), ("import", "done"),
                      ("recompute_import", "done")}


def test_a_failed_cycle_start_stops_polling_and_says_why(app, login, monkeypatch):
    team = make_team(size=1)

    def broken(*_args, **_kwargs):
        raise RuntimeError("template store down")

    monkeypatch.setattr(appraisal, "start_cycle", broken)
    client = login(team.hr)
    response = post_form(client, f"/cycles/{team.cycle.id}/start", page=f"/cycles/{team.cycle.id}")
    assert response.status_code == 302
    page = fragment(client, response.headers["Location"])
    assert "every 1s" not in page
    assert "Failed: The job stopped because of an internal error." in page
    assert "No scorecard was created" in page
    run = db.session.execute(select(JobRun)).scalar_one()
    assert (run.status, run.reason, run.attempts) == ("failed", "job_failed", 1)
    assert "template store down" in run.message


def test_a_failed_cycle_start_in_chinese(app, login, monkeypatch):
    team = make_team(size=1)
    team.hr.locale = "zh_CN"
    db.session.commit()
    monkeypatch.setattr(appraisal, "start_cycle", lambda *a, **k: 1 / 0)
    client = login(team.hr)
    response = post_form(client, f"/cycles/{team.cycle.id}/start", page=f"/cycles/{team.cycle.id}")
    assert "失败：任务因内部错误而停止。" in fragment(client, response.headers["Location"])


@pytest.fixture
def running_import(app):
    record = start_import(ADS, "ads.csv", store().id, hr_user())
    run = job_run(record)
    record.status, run.status = "running", "running"
    db.session.commit()
    return record, run


def test_a_stale_heartbeat_reads_worker_lost_will_retry(running_import, login):
    record, run = running_import
    client = login(hr_user())
    run.heartbeat_at = utcnow() - timedelta(seconds=10)
    db.session.commit()
    page = fragment(client, f"/imports/{record.id}")
    assert "Running." in page and "every 1s" in page and "Worker lost" not in page
    run.heartbeat_at = utcnow() - timedelta(seconds=jobs.STALE_AFTER + 60)
    db.session.commit()
    page = fragment(client, f"/imports/{record.id}")
    assert "Worker lost, will retry." in page and "every 1s" in page
    assert "Last sign of life 15" in page  # 150 s, give or take the test's own run time


def test_a_killed_worker_with_retries_left_queues_the_job_again(running_import, login):
    record, run = running_import
    job_failed(FakeJob(run, retries_left=2), None, WorkHorseKilled, WorkHorseKilled("kill -9"), None)
    db.session.expire_all()
    assert (run.status, run.reason, run.finished_at) == ("queued", "worker_killed", None)
    assert (record.status, record.error_code) == ("failed", "worker_killed")  # nothing was written
    page = fragment(login(hr_user()), f"/imports/{record.id}")
    assert "It will be retried." in page and "every 1s" in page  # polls until the retry ends


def test_a_lost_worker_without_retries_left_fails_the_job(running_import):
    _record, run = running_import
    job_failed(FakeJob(run, retries_left=0), None, AbandonedJobError, AbandonedJobError(), None)
    db.session.expire_all()
    assert (run.status, run.reason) == ("failed", "worker_lost") and run.finished_at is not None


def test_a_done_job_is_never_failed_afterwards(app):
    run = job_run(start_import(ADS, "ads.csv", store().id, hr_user()))
    job_failed(FakeJob(run, retries_left=0), None, RuntimeError, RuntimeError("late"), None)
    db.session.expire_all()
    assert run.status == "done"
