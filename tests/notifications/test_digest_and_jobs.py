"""E-mail digests instead of one mail per event; the real path without Redis (a `deliver` job
run by a thread after commit); mentions reach the person named and nobody else."""
import json
from datetime import timedelta

import pytest

from kpiapp.appraisal import notifications
from kpiapp.extensions import db
from kpiapp.models import (Channel, CommentTarget, DeliveryStatus, Digest, JobRun, JobStatus, NotificationDelivery,
                           NotificationPreference)
from kpiapp.models.base import utcnow
from kpiapp.notifications import delivery, mail, digest, services
from kpiapp.objectives import comments, tasks
from tests.factories import UserFactory
from tests.objectives.helpers_tasks import make_crew


def subscriber(frequency, locale="zh_CN"):
    user = UserFactory(locale=locale)
    db.session.flush()
    db.session.add(NotificationPreference(user_id=user.id, kind="*", channels=["email"], digest=frequency))
    db.session.commit()
    return user


@pytest.mark.rollback
def test_a_digest_replaces_the_mail_per_event_and_reads_in_the_persons_language(app, monkeypatch):
    app.config["MAIL_SERVER"] = "smtp.invalid"
    sent, launched = [], []
    monkeypatch.setattr(mail, "send_mail", lambda to, subject, body: sent.append((to, subject, body)))
    monkeypatch.setattr(delivery, "launch", launched.extend)
    wang = subscriber(Digest.daily)
    services.notify([wang], "task.assigned", "task.assigned", link="/tasks/1", actor="李伟", target="补货")
    db.session.commit()
    assert db.session.query(NotificationDelivery).count() == 0  # no mail per event
    assert digest.send_digests("weekly") == 0  # not a weekly subscriber
    assert digest.send_digests("daily") == 1
    for run_id in launched:
        delivery.attempt(db.session.get(JobRun, run_id).subject_id)
    (to, subject, body), = sent
    assert to == wang.email and subject == "[kpiapp] 你的待办摘要"
    assert body == ("kpiapp 中等待你处理的事项：\n\n- 李伟 给你分配了任务：补货。\n\n"
                    "打开收件箱：http://127.0.0.1:5000/inbox/\n")
    assert digest.send_digests("daily") == 0  # nothing new since the last digest


@pytest.mark.rollback
def test_no_digest_without_anything_waiting_or_without_mail(app):
    subscriber(Digest.daily)
    assert digest.send_digests("daily") == 0  # no SMTP
    app.config["MAIL_SERVER"] = "smtp.invalid"
    assert digest.send_digests("daily", now=utcnow() + timedelta(days=1)) == 0  # nothing waits


def test_without_redis_a_thread_runs_the_deliver_job_after_commit(app, httpserver):
    app.config["WECOM_WEBHOOK_URL"] = httpserver.url_for("/cgi-bin/webhook/send?key=k")
    httpserver.expect_oneshot_request("/cgi-bin/webhook/send").respond_with_json({"errcode": 0, "errmsg": "ok"})
    ann = UserFactory(locale="en")
    db.session.commit()
    services.notify([ann], "task.assigned", "task.assigned", link="/tasks/1", actor="Li Wei", target="Restock")
    db.session.commit()
    delivery.wait()
    db.session.expire_all()
    row = db.session.query(NotificationDelivery).one()
    assert (row.status, row.attempts) == (DeliveryStatus.sent, 1)
    run = db.session.query(JobRun).filter_by(kind="deliver").one()
    assert (run.subject_id, run.status) == (row.id, JobStatus.done)
    assert json.loads(httpserver.log[0][0].data)["markdown"]["content"].startswith("Li Wei gave you a task: Restock.")


@pytest.mark.rollback
def test_a_mention_reaches_the_person_named_only(app, monkeypatch):
    launched = []
    monkeypatch.setattr(delivery, "launch", launched.extend)
    app.config["WECOM_WEBHOOK_URL"] = "http://127.0.0.1:9/hook"
    crew = make_crew()
    crew.worker.name = "王芳"
    db.session.commit()
    task = tasks.create_task({"title": "Restock", "assignee_id": crew.worker.id}, crew.manager)
    db.session.commit()
    comment = comments.add_comment(CommentTarget.task, task.id, "@王芳 please check", crew.manager)
    db.session.commit()
    rows = db.session.query(NotificationDelivery).join(NotificationDelivery.notification).filter_by(
        key="comment.mention").all()
    assert [(r.user_id, r.channel) for r in rows] == [(crew.worker.id, Channel.wecom)]
    assert rows[0].notification.link == f"/tasks/{task.id}#comment-{comment.id}"
