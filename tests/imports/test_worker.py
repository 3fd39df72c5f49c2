"""A real Redis and a real `flask kpi worker` process: commit, and SIGKILL of the work-horse.

These tests need Redis (KPIAPP_TEST_REDIS_URL, default 127.0.0.1:6379 db 15; the db is flushed)
and fail, not skip, without it.
"""
import os
import signal
import time
import uuid
from datetime import date, timedelta

import pytest
from redis import Redis
from rq.job import Job
from rq.registry import StartedJobRegistry
from sqlalchemy import func, select

from kpiapp.extensions import db
from kpiapp import jobs
from kpiapp.imports.services import job_run, start_import
from kpiapp.models import ImportRecord, JobRun, MetricFact
from tests.imports.files import ads_report, hr_user, store
from tests.workers import REDIS_URL, start_worker
from workers.jobs import SLEEP_ENV, run_import

QUEUE = f"kpitest-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def app_config():
    return {"REDIS_URL": REDIS_URL, "RQ_QUEUE": QUEUE}


def big_ads_file(rows=1000):
    start = date(2025, 1, 1)
    return ads_report([(start + timedelta(days=i // 10), f"Camp {i % 10}", 100, 5, "1.25", "4.00")
                       for i in range(rows)])


def fact_count():
    return db.session.execute(select(func.count()).select_from(MetricFact)).scalar()


@pytest.mark.redis
def test_worker_commits_an_import(app, redis, database_uri, tmp_path):
    record = start_import(ads_report([("2025-03-01", "Camp A", 1000, 50, "25.50", "100.00")]), "ads.csv",
                          store().id, hr_user())
    import_id = record.id
    assert record.status == "pending" and redis.exists(f"rq:job:import-{import_id}")
    db.session.commit()  # SQLite: hold no lock while the worker writes
    worker = start_worker(database_uri, tmp_path, QUEUE)
    output = worker.communicate(timeout=90)[0].decode()
    db.session.expire_all()
    record = db.session.get(ImportRecord, import_id)
    assert record.status == "committed", output
    assert record.facts_written == 4 and fact_count() == 4


def wait_for_progress(job_id, above, timeout=60, worker=None):
    job = Job.fetch(job_id, connection=Redis.from_url(REDIS_URL))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        meta = job.get_meta(refresh=True)
        if (meta.get("progress") or 0) > above:
            return meta
        if worker is not None and worker.poll() is not None:
            raise AssertionError(worker.communicate()[0].decode()[-3000:])
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} made no progress")


@pytest.mark.redis
def test_killed_work_horse_leaves_nothing_and_a_rerun_commits(app, redis, database_uri, tmp_path):
    record = start_import(big_ads_file(), "ads.csv", store().id, hr_user())
    import_id, job_id = record.id, record.job_id
    db.session.commit()
    worker = start_worker(database_uri, tmp_path, QUEUE, **{SLEEP_ENV: "1"})
    try:
        meta = wait_for_progress(job_id, above=10)  # one chunk written, transaction still open
        os.kill(meta["pid"], signal.SIGKILL)
        output = worker.communicate(timeout=90)[0].decode()
    finally:
        if worker.poll() is None:
            worker.kill()
    assert "signal 9" in output or "terminated unexpectedly" in output, output
    db.session.expire_all()
    assert fact_count() == 0
    killed = db.session.get(ImportRecord, import_id)
    assert (killed.status, killed.error_code) == ("failed", "worker_killed")  # workers/runner.horse_killed
    run = job_run(killed)
    assert (run.status, run.reason, run.attempts) == ("queued", "worker_killed", 1)  # RQ retries it
    job = Job.fetch(job_id, connection=redis)
    assert (job.get_status(), job.retries_left) == ("scheduled", 2)
    db.session.commit()
    assert run_import(import_id) == "committed"  # at-least-once: the job runs again
    db.session.expire_all()
    record = db.session.get(ImportRecord, import_id)
    assert (record.status, record.facts_written, fact_count()) == ("committed", 4000, 4000)


@pytest.mark.redis
def test_jobs_are_queued_with_retries(app, redis):
    record = start_import(big_ads_file(10), "ads.csv", store().id, hr_user())
    job = Job.fetch(record.job_id, connection=redis)
    assert (job.retries_left, job.retry_intervals) == (jobs.RETRY_MAX, jobs.RETRY_INTERVALS)
    assert job.func_name == jobs.ENTRY_POINT and job.meta["job_run_id"] == job_run(record).id


@pytest.mark.redis
def test_a_pending_import_whose_job_is_gone_is_queued_again(app, redis):
    data, shop, user = big_ads_file(10), store(), hr_user()
    first = start_import(data, "ads.csv", shop.id, user)
    redis.flushdb()  # Redis lost its data (restart without persistence): the record stays pending
    again = start_import(data, "ads.csv", shop.id, user)
    assert (again.id, again.status) == (first.id, "pending")
    assert redis.exists(f"rq:job:{first.job_id}")
    assert db.session.execute(select(func.count()).select_from(JobRun)).scalar() == 2
    assert start_import(data, "ads.csv", shop.id, user).id == first.id  # queued: left alone
    assert db.session.execute(select(func.count()).select_from(JobRun)).scalar() == 2


@pytest.mark.redis
def test_a_lost_worker_is_retried(app, redis, database_uri, tmp_path):
    """The whole worker process is killed: no handler runs in it. RQ's abandoned-job cleanup
    (what any other worker runs) calls the failure callback, and the job is retried."""
    record = start_import(big_ads_file(), "ads.csv", store().id, hr_user())
    import_id, job_id = record.id, record.job_id
    db.session.commit()  # SQLite: hold no lock while the worker writes
    worker = start_worker(database_uri, tmp_path, QUEUE, **{SLEEP_ENV: "1"})
    try:
        meta = wait_for_progress(job_id, above=10, worker=worker)
        os.kill(meta["pid"], signal.SIGKILL)  # the work-horse and its worker, together
        worker.kill()
        worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    db.session.expire_all()
    run = job_run(db.session.get(ImportRecord, import_id))
    assert run.status == "running"  # nobody noticed yet; the progress page shows the heartbeat age
    assert jobs.liveness(run).heartbeat_age is not None
    StartedJobRegistry(QUEUE, connection=redis).cleanup(time.time() + 3600)
    db.session.expire_all()
    assert (run.status, run.reason) == ("queued", "worker_lost")
    assert Job.fetch(job_id, connection=redis).get_status() == "scheduled"
    assert fact_count() == 0


def wait_for_status(import_id, status, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        current = db.session.get(ImportRecord, import_id).status
        db.session.commit()  # SQLite: never hold the write lock while the worker works
        if current == status:
            return
        time.sleep(0.5)
    raise AssertionError(f"import {import_id} never became {status}")


@pytest.mark.redis
def test_the_scheduler_retries_a_killed_job_to_the_end(app, redis, database_uri, tmp_path, monkeypatch):
    """A long-running worker (as in production, with its scheduler) runs the retry when it is due.
    The job's first retry waits 1 s here instead of 30 (RQ keeps the intervals in the job; the
    production ones are checked by test_jobs_are_queued_with_retries): waiting them out checks nothing."""
    monkeypatch.setattr(jobs, "RETRY_INTERVALS", [1, *jobs.RETRY_INTERVALS[1:]])
    record = start_import(big_ads_file(), "ads.csv", store().id, hr_user())
    import_id, job_id = record.id, record.job_id
    db.session.commit()
    worker = start_worker(database_uri, tmp_path, QUEUE, burst=False, **{SLEEP_ENV: "0.5"})
    try:
        os.kill(wait_for_progress(job_id, above=10, worker=worker)["pid"], signal.SIGKILL)
        wait_for_status(import_id, "committed", timeout=jobs.RETRY_INTERVALS[0] + 60)
    finally:
        worker.terminate()
        worker.communicate(timeout=30)
    db.session.expire_all()
    run = job_run(db.session.get(ImportRecord, import_id))
    assert (run.status, run.attempts, run.reason) == ("done", 2, None)
    assert fact_count() == 4000
