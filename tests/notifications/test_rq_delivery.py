"""With Redis, a delivery's `deliver` job goes to RQ after commit and a real worker sends it
(needs the tests' Redis: KPIAPP_TEST_REDIS_URL)."""
import json

import pytest

from kpiapp.extensions import db
from kpiapp.models import DeliveryStatus, JobRun, JobStatus, NotificationDelivery
from kpiapp.notifications import services
from tests.factories import UserFactory
from tests.workers import REDIS_URL, start_worker

QUEUE = "kpiapp-test-notify"


@pytest.fixture
def app_config():
    return {"REDIS_URL": REDIS_URL, "RQ_QUEUE": QUEUE}


@pytest.mark.redis
def test_a_worker_sends_the_delivery_queued_after_commit(app, redis, database_uri, tmp_path, httpserver):
    hook = httpserver.url_for("/cgi-bin/webhook/send?key=k")
    app.config["WECOM_WEBHOOK_URL"] = hook
    httpserver.expect_oneshot_request("/cgi-bin/webhook/send").respond_with_json({"errcode": 0, "errmsg": "ok"})
    ann = UserFactory(locale="en")
    db.session.commit()
    services.notify([ann], "task.assigned", "task.assigned", link="/tasks/1", actor="Li Wei", target="Restock")
    assert not redis.keys("rq:job:deliver-*")  # nothing before the commit
    db.session.commit()
    run = db.session.query(JobRun).filter_by(kind="deliver").one()
    assert redis.exists(f"rq:job:deliver-{run.id}")
    run_id = run.id
    db.session.commit()  # SQLite: hold no lock while the worker writes
    worker = start_worker(database_uri, tmp_path, QUEUE, WECOM_WEBHOOK_URL=hook)
    output = worker.communicate(timeout=90)[0].decode()
    db.session.expire_all()
    row = db.session.query(NotificationDelivery).one()
    assert (row.status, db.session.get(JobRun, run_id).status) == (DeliveryStatus.sent, JobStatus.done), output
    assert json.loads(httpserver.log[0][0].data)["msgtype"] == "markdown"
