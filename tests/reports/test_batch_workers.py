"""A bulk issue shared by two real `flask kpi worker` processes (Redis + the test database).

Needs Redis (KPIAPP_TEST_REDIS_URL, default 127.0.0.1:6379 db 15; the db is flushed) and fails,
not skips, without it.
"""
import uuid
from collections import Counter

import pytest
from sqlalchemy import select

from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from kpiapp.models import AuditEvent, IssuedReport, JobRun, ReportBatch
from kpiapp.reports import services
from tests.appraisal.factories import make_team, walk_to
from tests.workers import REDIS_URL, start_worker

QUEUE = f"kpitest-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def app_config():
    return {"REDIS_URL": REDIS_URL, "RQ_QUEUE": QUEUE, "REPORT_BATCH_JOBS": 3}


@pytest.mark.redis
def test_two_workers_share_a_batch_and_issue_each_report_once(app, redis, database_uri, tmp_path):
    team = make_team(size=4)
    cards = [walk_to(team, person, S.LOCKED) for person in team.people]
    batch, _created = services.start_batch(team.cycle.id, team.hr, "en")
    db.session.commit()
    services.launch_batch(batch)
    # REPORT_BATCH_JOBS jobs on PostgreSQL; one on SQLite, where a second only waits for the lock
    parts = 3 if db.engine.dialect.name == "postgresql" else 1
    assert redis.llen(f"rq:queue:{QUEUE}") == parts
    db.session.commit()  # SQLite: hold no lock while the workers write
    env = {"RQ_QUEUE": QUEUE, "REPORT_BATCH_JOBS": "3"}
    workers = [start_worker(database_uri, tmp_path, QUEUE, **env) for _ in range(2)]
    outputs = [worker.communicate(timeout=180)[0].decode()[-3000:] for worker in workers]
    db.session.expire_all()
    batch = db.session.get(ReportBatch, batch.id)
    assert (batch.status, batch.total, batch.done) == ("done", 4, 4), outputs
    reports = db.session.scalars(select(IssuedReport)).all()
    assert Counter(r.scorecard_id for r in reports) == Counter(c.id for c in cards)
    assert sorted(batch.report_ids) == sorted(r.id for r in reports)
    runs = db.session.scalars(select(JobRun).where(JobRun.kind == "report_batch")).all()
    assert [r.status for r in runs] == ["done"] * parts, outputs
    done_events = select(AuditEvent).where(AuditEvent.action == "report.batch_done")
    assert len(db.session.scalars(done_events).all()) == 1
