"""Deliveries to a local receiver (pytest-httpserver): the exact JSON each platform gets, the
language per recipient, retry on 5xx and giving up after N, secrets kept out of errors and logs."""
import json
import logging

import pytest

from kpiapp.extensions import db
from kpiapp.models import (Channel, DeliveryStatus, ImChannel, ImMode, JobRun, Notification, NotificationDelivery,
                           NotificationPreference)
from kpiapp.notifications import delivery, services
from tests.factories import UserFactory

pytestmark = pytest.mark.rollback

NOW = 1700000000.0  # the documented test vectors' timestamp


class FrozenTime:
    @staticmethod
    def time():
        return NOW


@pytest.fixture
def launched(monkeypatch):
    """Run the deliveries' jobs here, after commit, instead of in a thread."""
    run_ids = []
    monkeypatch.setattr(delivery, "launch", run_ids.extend)
    monkeypatch.setattr(delivery, "time", FrozenTime)
    return run_ids


def run(run_ids):
    for run_id in list(run_ids):
        delivery.attempt(db.session.get(JobRun, run_id).subject_id)
    run_ids.clear()


def person(locale="zh_CN", **ids):
    user = UserFactory(locale=locale, **ids)
    db.session.commit()
    return user


def robot(platform, url, secret=None):
    channel = ImChannel(platform=platform, mode=ImMode.robot, name=f"{platform} robot", webhook_url=url, secret=secret)
    db.session.add(channel)
    db.session.commit()
    return channel


def deliveries(note):
    return db.session.query(NotificationDelivery).filter_by(notification_id=note.id).all()


def test_dingtalk_robot_gets_the_signed_url_and_exact_body_in_chinese(app, httpserver, launched):
    robot(Channel.dingtalk, httpserver.url_for("/robot/send?access_token=tok"), "SECtestsecret")
    wang = person("zh_CN", dingtalk_id="ding-wang")
    httpserver.expect_oneshot_request("/robot/send", method="POST", query_string={
        "access_token": "tok", "timestamp": "1700000000000",
        "sign": "7LVwF0dAF3/+MRRulbpE4y72Ogzykc6bS2nG4I99T4s="}).respond_with_json({"errcode": 0, "errmsg": "ok"})
    services.notify([wang], "task.assigned", "task.assigned", link="/tasks/5", actor="李伟", target="补货")
    db.session.commit()
    run(launched)
    httpserver.check_assertions()
    request, _ = httpserver.log[0]
    text = "李伟 给你分配了任务：补货。"
    assert json.loads(request.data) == {
        "msgtype": "markdown",
        "markdown": {"title": text, "text": f"{text}\n\n[打开 →](http://127.0.0.1:5000/tasks/5)\n\n@ding-wang"},
        "at": {"atUserIds": ["ding-wang"], "isAtAll": False}}
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    row = db.session.query(NotificationDelivery).one()
    assert (row.status, row.attempts, row.last_error) == (DeliveryStatus.sent, 1, None)


def test_feishu_robot_body_is_signed_and_in_english_for_an_english_reader(app, httpserver, launched):
    robot(Channel.feishu, httpserver.url_for("/open-apis/bot/v2/hook/abc"), "testsecret")
    ann = person("en")
    httpserver.expect_oneshot_request("/open-apis/bot/v2/hook/abc", method="POST").respond_with_json(
        {"code": 0, "msg": "success", "data": {}})
    services.notify([ann], "task.assigned", "task.assigned", link="/tasks/5", actor="Li Wei", target="Restock")
    db.session.commit()
    run(launched)
    body = json.loads(httpserver.log[0][0].data)
    text = "Li Wei gave you a task: Restock."
    assert body == {"timestamp": "1700000000", "sign": "AOc8oJ7//5OlQlfWC3nRL0R+IkuzcD1FKcAyibRK9Q8=",
                    "msg_type": "post", "content": {"post": {"zh_cn": {"title": text, "content": [
                        [{"tag": "text", "text": text}],
                        [{"tag": "a", "text": "Open →", "href": "http://127.0.0.1:5000/tasks/5"}]]}}}}


def test_wecom_robot_from_the_environment(app, httpserver, launched):
    app.config["WECOM_WEBHOOK_URL"] = httpserver.url_for("/cgi-bin/webhook/send?key=wkey")
    wang = person("zh_CN", wecom_id="wangfang")
    httpserver.expect_oneshot_request("/cgi-bin/webhook/send", query_string={"key": "wkey"}).respond_with_json(
        {"errcode": 0, "errmsg": "ok"})
    services.notify([wang], "task.assigned", "task.assigned", link="/tasks/5", actor="李伟", target="补货")
    db.session.commit()
    run(launched)
    assert json.loads(httpserver.log[0][0].data) == {"msgtype": "markdown", "markdown": {
        "content": "李伟 给你分配了任务：补货。\n\n[打开 →](http://127.0.0.1:5000/tasks/5)\n<@wangfang>"}}


def test_feishu_app_message_to_a_person_by_email(app, httpserver, launched):
    channel = ImChannel(platform=Channel.feishu, mode=ImMode.app, name="app", app_id="cli_1", app_secret="s3cret",
                        api_base=httpserver.url_for("").rstrip("/"))
    db.session.add(channel)
    ann = person("en")
    httpserver.expect_oneshot_request("/open-apis/auth/v3/tenant_access_token/internal", method="POST",
                                      json={"app_id": "cli_1", "app_secret": "s3cret"}).respond_with_json(
        {"code": 0, "msg": "ok", "tenant_access_token": "t-abc", "expire": 7200})
    httpserver.expect_oneshot_request("/open-apis/im/v1/messages", method="POST",
                                      query_string={"receive_id_type": "email"},
                                      headers={"Authorization": "Bearer t-abc"}).respond_with_json({"code": 0})
    services.notify([ann], "task.assigned", "task.assigned", link="/tasks/5", actor="Li Wei", target="Restock")
    db.session.commit()
    run(launched)
    httpserver.check_assertions()
    body = json.loads(httpserver.log[1][0].data)
    assert body["receive_id"] == ann.email
    assert json.loads(body["content"]) == {"text": "Li Wei gave you a task: Restock. → http://127.0.0.1:5000/tasks/5"}


def test_5xx_is_retried_with_backoff_then_given_up_after_n(app, httpserver, launched, caplog):
    app.config["NOTIFY_MAX_ATTEMPTS"] = 3
    secret_url = httpserver.url_for("/robot/send?access_token=very-secret-token")
    robot(Channel.dingtalk, secret_url, "SECtestsecret")
    httpserver.expect_request("/robot/send").respond_with_data("busy", status=503)
    wang = person()
    note, = services.notify([wang], "task.assigned", "task.assigned", link="/tasks/5", actor="a", target="b")
    db.session.commit()
    row_id = db.session.query(NotificationDelivery.id).scalar()
    run(launched)
    row = db.session.get(NotificationDelivery, row_id)
    assert (row.status, row.attempts, row.last_error) == (DeliveryStatus.pending, 1, "HTTP 503")
    assert row.next_try_at is not None
    assert delivery.due_ids() == []  # not before its time
    later = row.next_try_at
    assert delivery.due_ids(later) == [row_id]
    delivery.attempt(row_id)
    assert (row.status, row.attempts) == (DeliveryStatus.pending, 2)
    assert row.next_try_at - later >= __import__("datetime").timedelta(seconds=200)  # backs off: 60 s, then 300 s
    with caplog.at_level(logging.INFO):
        delivery.attempt(row_id)
    assert (row.status, row.attempts, row.next_try_at) == (DeliveryStatus.failed, 3, None)
    assert len(httpserver.log) == 3
    delivery.attempt(row_id)  # a failed delivery is not tried again
    assert len(httpserver.log) == 3
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name != "werkzeug")  # werkzeug: the receiver
    assert "failed after 3 attempt(s): HTTP 503" in ours
    assert "very-secret-token" not in ours and "SECtestsecret" not in ours
    assert "very-secret-token" not in (row.last_error or "")


def test_a_platform_refusal_fails_at_once_and_a_timeout_is_retried(app, httpserver, launched):
    robot(Channel.dingtalk, httpserver.url_for("/robot/send?access_token=t"), "SECx")
    httpserver.expect_oneshot_request("/robot/send").respond_with_json({"errcode": 310000, "errmsg": "sign not match"})
    wang = person()
    services.notify([wang], "task.assigned", "task.assigned", actor="a", target="b")
    db.session.commit()
    run(launched)
    row = db.session.query(NotificationDelivery).one()
    assert (row.status, row.last_error) == (DeliveryStatus.failed, "310000: sign not match")


def test_a_failing_channel_never_fails_the_action(app, launched):
    robot(Channel.dingtalk, "http://127.0.0.1:9/robot/send?access_token=t")  # nothing listens on port 9
    wang = person()
    notes = services.notify([wang], "task.assigned", "task.assigned", actor="a", target="b")
    db.session.commit()  # the action commits whatever the channels do
    run(launched)
    row = db.session.query(NotificationDelivery).one()
    assert db.session.get(Notification, notes[0].id) is not None
    assert row.status == DeliveryStatus.pending and row.last_error.startswith("connection failed")


def test_preferences_choose_the_channels_per_kind(app, httpserver, launched):
    robot(Channel.wecom, httpserver.url_for("/hook"))
    wang = person()
    db.session.add(NotificationPreference(user_id=wang.id, kind="task.assigned", channels=[]))
    db.session.commit()
    note, = services.notify([wang], "task.assigned", "task.assigned", actor="a", target="b")
    other, = services.notify([wang], "comment.mention", "comment.mention", actor="a", target="b")
    assert deliveries(note) == []  # in-app only
    assert [d.channel for d in deliveries(other)] == [Channel.wecom]


def test_a_rolled_back_action_sends_nothing(app, launched):
    robot(Channel.wecom, "http://127.0.0.1:9/hook")
    wang = person()
    services.notify([wang], "task.assigned", "task.assigned", actor="a", target="b")
    db.session.rollback()
    assert launched == [] and db.session.query(NotificationDelivery).count() == 0


def test_links_are_app_paths_only(app):
    wang = person()
    for bad in ("https://evil.example/x", "//evil.example/x", "javascript:alert(1)"):
        with pytest.raises(ValueError):
            services.notify([wang], "task.assigned", "task.assigned", link=bad)


def test_a_first_try_whose_job_was_lost_is_picked_up_by_the_sweep(app, launched):
    robot(Channel.wecom, "http://127.0.0.1:9/hook")
    wang = person()
    services.notify([wang], "task.assigned", "task.assigned", actor="a", target="b")
    db.session.commit()
    launched.clear()  # the process ended before the job ran
    row = db.session.query(NotificationDelivery).one()
    assert delivery.due_ids() == []
    assert delivery.due_ids(row.created_at + delivery.LOST_AFTER) == [row.id]
