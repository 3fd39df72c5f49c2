"""A robot's rate limit defers sends without using up attempts; app access tokens are fetched once
per lifetime, sealed in Redis when there is one, and fetched again when the platform refuses them."""
import json

import pytest
from werkzeug import Response

from kpiapp.extensions import db
from kpiapp.models import Channel, DeliveryStatus, ImChannel, ImMode, NotificationDelivery
from kpiapp.notifications import delivery, limits, services
from tests.notifications.test_delivery import launched, person, robot, run  # noqa: F401 (fixture)
from tests.workers import REDIS_URL

pytestmark = pytest.mark.rollback

START = 1700000000.0  # a whole minute


@pytest.fixture
def clock(monkeypatch):
    now = [START]
    monkeypatch.setattr(limits, "clock", lambda: now[0])
    return now


def notify_many(people):
    for someone in people:
        services.notify([someone], "task.assigned", "task.assigned", link="/tasks/5", actor="Li", target="Restock")
    db.session.commit()


def by_status():
    rows = db.session.query(NotificationDelivery).order_by(NotificationDelivery.id).all()
    return [r for r in rows if r.status == DeliveryStatus.sent], [r for r in rows if r.status == DeliveryStatus.pending]


def test_the_21st_message_a_minute_to_a_dingtalk_robot_waits_for_the_next_minute(app, httpserver, launched,
                                                                                 clock):
    robot(Channel.dingtalk, httpserver.url_for("/robot/send?access_token=tok"), "SECtestsecret")
    httpserver.expect_request("/robot/send").respond_with_json({"errcode": 0, "errmsg": "ok"})
    notify_many([person("zh_CN") for _ in range(21)])
    run(launched)
    sent, waiting = by_status()
    assert (len(sent), len(waiting), len(httpserver.log)) == (20, 1, 20)
    [late] = waiting
    assert late.attempts == 0 and "rate limit" in late.last_error
    assert 0 < (late.next_try_at - delivery.utcnow()).total_seconds() <= 61
    assert late.id not in delivery.due_ids()
    clock[0] = START + 60
    assert late.id in delivery.due_ids(late.next_try_at)
    assert delivery.attempt(late.id) == DeliveryStatus.sent and late.attempts == 1


def test_a_feishu_bot_takes_five_a_second(app, httpserver, launched, clock):
    robot(Channel.feishu, httpserver.url_for("/open-apis/bot/v2/hook/abc"), "testsecret")
    httpserver.expect_request("/open-apis/bot/v2/hook/abc").respond_with_json({"code": 0, "msg": "success"})
    notify_many([person("en") for _ in range(6)])
    run(launched)
    sent, waiting = by_status()
    assert (len(sent), len(waiting)) == (5, 1)
    assert (waiting[0].next_try_at - delivery.utcnow()).total_seconds() <= 2


def dingtalk_app(httpserver):
    channel = ImChannel(platform=Channel.dingtalk, mode=ImMode.app, name="app", app_id="key", app_secret="s3cret",
                        agent_id="42", api_base=httpserver.url_for("").rstrip("/"))
    db.session.add(channel)
    db.session.commit()


def token_calls(httpserver):
    return [r for r, _ in httpserver.log if r.path == "/gettoken"]


def test_an_app_token_is_fetched_once_per_lifetime(app, httpserver, launched, clock):
    dingtalk_app(httpserver)
    httpserver.expect_request("/gettoken").respond_with_json(
        {"errcode": 0, "errmsg": "ok", "access_token": "tok-1", "expires_in": 7200})
    httpserver.expect_request("/topapi/message/corpconversation/asyncsend_v2").respond_with_json(
        {"errcode": 0, "errmsg": "ok"})
    notify_many([person("zh_CN", dingtalk_id=f"d{i}") for i in range(3)])
    run(launched)
    assert len(token_calls(httpserver)) == 1 and len(httpserver.log) == 4
    clock[0] = START + 7200 - limits.REFRESH_MARGIN  # refreshed a margin before it expires
    notify_many([person("zh_CN", dingtalk_id="d9")])
    run(launched)
    assert len(token_calls(httpserver)) == 2
    assert all(r.status == DeliveryStatus.sent for r in db.session.query(NotificationDelivery))


def test_a_refused_token_is_fetched_again_and_the_message_sent(app, httpserver, launched, clock):
    dingtalk_app(httpserver)
    httpserver.expect_request("/gettoken").respond_with_json(
        {"errcode": 0, "errmsg": "ok", "access_token": "tok", "expires_in": 7200})
    answers = [{"errcode": 42001, "errmsg": "access_token expired"}, {"errcode": 0, "errmsg": "ok"}]
    httpserver.expect_request("/topapi/message/corpconversation/asyncsend_v2").respond_with_handler(
        lambda request: Response(json.dumps(answers.pop(0)), content_type="application/json"))
    notify_many([person("zh_CN", dingtalk_id="d1")])
    run(launched)
    row = db.session.query(NotificationDelivery).one()
    assert (row.status, row.attempts) == (DeliveryStatus.sent, 1), row.last_error
    assert len(token_calls(httpserver)) == 2


def test_a_feishu_token_refused_with_http_400_is_fetched_again(app, httpserver, launched, clock):
    """Feishu answers an expired tenant token with HTTP 400 and its code in the JSON body."""
    db.session.add(ImChannel(platform=Channel.feishu, mode=ImMode.app, name="app", app_id="cli_a", app_secret="s3cret",
                             api_base=httpserver.url_for("").rstrip("/")))
    httpserver.expect_request("/open-apis/auth/v3/tenant_access_token/internal").respond_with_json(
        {"code": 0, "msg": "ok", "tenant_access_token": "t-1", "expire": 7200})
    answers = [(400, {"code": 99991663, "msg": "Invalid access token for authorization."}),
               (200, {"code": 0, "msg": "success", "data": {"message_id": "om_1"}})]
    httpserver.expect_request("/open-apis/im/v1/messages").respond_with_handler(
        lambda request: Response(json.dumps(answers[0][1]), status=answers.pop(0)[0],
                                 content_type="application/json"))
    notify_many([person("zh_CN", feishu_id="ou_1")])
    run(launched)
    row = db.session.query(NotificationDelivery).one()
    assert (row.status, row.attempts) == (DeliveryStatus.sent, 1), row.last_error
    assert [r.path for r, _ in httpserver.log].count("/open-apis/auth/v3/tenant_access_token/internal") == 2


def test_a_plain_http_400_is_refused_without_a_new_token(app, httpserver, launched, clock):
    dingtalk_app(httpserver)
    httpserver.expect_request("/gettoken").respond_with_json(
        {"errcode": 0, "errmsg": "ok", "access_token": "tok", "expires_in": 7200})
    httpserver.expect_request("/topapi/message/corpconversation/asyncsend_v2").respond_with_data(
        "bad request", status=400)
    notify_many([person("zh_CN", dingtalk_id="d1")])
    run(launched)
    row = db.session.query(NotificationDelivery).one()
    assert row.status == DeliveryStatus.failed and "HTTP 400" in row.last_error
    assert len(token_calls(httpserver)) == 1


@pytest.mark.redis
@pytest.mark.parametrize("app_config", [{"REDIS_URL": REDIS_URL}])
def test_with_redis_the_windows_and_tokens_are_shared_and_the_token_is_sealed(app, redis, clock):
    settings = delivery.Settings(Channel.wecom, ImMode.robot, webhook_url="http://robot/send?key=k")
    for _ in range(20):
        limits.take_slot(settings)
    with pytest.raises(limits.Deferred):
        limits.take_slot(settings)
    assert any(key.startswith(b"kpi:robot:") for key in redis.keys())
    app_settings = delivery.Settings(Channel.wecom, ImMode.app, app_id="corp", app_secret="s", api_base="http://w")
    fetched = []
    token = limits.app_token(app_settings, lambda: fetched.append(1) or ("tok-secret", 7200))
    assert token == limits.app_token(app_settings, lambda: fetched.append(1) or ("other", 7200)) == "tok-secret"
    [key] = redis.keys("kpi:imtoken:*")
    assert b"tok-secret" not in redis.get(key) and 0 < redis.ttl(key) <= 7200 - limits.REFRESH_MARGIN
    assert fetched == [1]
