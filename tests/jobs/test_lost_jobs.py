"""A job lost from Redis (flushed, restarted without persistence) is queued again when the same
request comes again, instead of leaving its object pending for ever. Needs a real Redis."""
import os
import uuid

import pytest
from redis import Redis
from sqlalchemy import select

from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from kpiapp.models import ReportBatch
from tests.appraisal.factories import make_team, walk_to
from tests.helpers import post_form

REDIS_URL = os.environ.get("KPIAPP_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def app_config():
    return {"REDIS_URL": REDIS_URL, "RQ_QUEUE": f"kpitest-{uuid.uuid4().hex[:8]}"}


@pytest.fixture
def redis():
    connection = Redis.from_url(REDIS_URL)
    connection.ping()  # unreachable Redis is an error, never a skip
    connection.flushdb()
    yield connection
    connection.flushdb()


@pytest.mark.redis
def test_a_pending_batch_whose_job_is_gone_is_queued_again(app, redis, login):
    team = make_team(size=1)
    walk_to(team, team.people[0], S.LOCKED)
    client = login(team.hr)

    def issue():
        return post_form(client, f"/reports/cycles/{team.cycle.id}/batch", {"lang": "en"},
                         page="/reports/cycles")

    assert issue().status_code == 302
    batch = db.session.execute(select(ReportBatch)).scalar_one()
    key = f"rq:job:reports-{batch.job_id}"
    assert batch.status == "pending" and redis.exists(key)  # no worker runs in this test
    redis.flushdb()
    assert issue().status_code == 302
    assert db.session.execute(select(ReportBatch)).scalars().all() == [batch]  # the same batch
    assert redis.exists(key)  # queued again
