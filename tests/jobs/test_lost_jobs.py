"""A job lost from Redis (flushed, restarted without persistence) is queued again when the same
request comes again, instead of leaving its object pending for ever. Needs a real Redis."""
import uuid

import pytest
from sqlalchemy import select

from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from kpiapp.models import ReportBatch
from tests.appraisal.factories import make_team, walk_to
from tests.helpers import post_form
from tests.workers import REDIS_URL



@pytest.fixture
def app_config():
    return {"REDIS_URL": REDIS_URL, "RQ_QUEUE": f"kpitest-{uuid.uuid4().hex[:8]}"}


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
