"""With Redis, scheduled pulls are RQ jobs through the one entry point (docs/jobs.md)."""
from datetime import datetime, timezone

import pytest
from rq import Queue

from kpiapp.connectors import services
from kpiapp.extensions import db
from kpiapp.models import ConnectionPull, ImportRecord, JobRun
from kpiapp.models.connectors import PullStatus
from tests.connectors.conftest import connect_testshop
from tests.workers import REDIS_URL


@pytest.fixture
def app_config():
    return {"REDIS_URL": REDIS_URL, "RQ_QUEUE": "cc-pulls"}


def test_run_due_queues_pull_jobs_that_the_entry_point_runs(app, redis, shop, wire):
    from workers.jobs import run_job

    connect_testshop(shop)
    [pull_id] = services.run_due(datetime(2026, 11, 22, 3, 0, tzinfo=timezone.utc))
    run = db.session.query(JobRun).filter_by(kind="pull").one()
    assert Queue("cc-pulls", connection=redis).job_ids == [f"pull-{pull_id}"] == [run.rq_id]
    assert db.session.get(ConnectionPull, pull_id).status == PullStatus.queued
    run_job(run.id)  # what the worker calls
    pull = db.session.get(ConnectionPull, pull_id)
    assert pull.status == PullStatus.done and len(pull.import_ids) == 7, pull.detail  # 7 days, one report each
    queued = Queue("cc-pulls", connection=redis).job_ids
    assert {f"import-{i}" for i in pull.import_ids} <= set(queued)
    records = db.session.query(ImportRecord).filter(ImportRecord.id.in_(pull.import_ids)).all()
    assert {r.status for r in records} == {"pending"}  # the workers import them
