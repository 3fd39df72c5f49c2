"""The IM signers and builders against the documented examples (INTEGRATIONS.md 6-8): pure, no app."""
import json

from kpiapp.notifications.channels import Message, dingtalk, feishu, wecom

MESSAGE = Message(title="自评", text="请在 12 月 31 日前完成 2026 Q4 自评", link="https://kpi.example.com/scorecards/17",
                  link_label="打开")


def test_dingtalk_sign_matches_the_documented_vector():
    assert dingtalk.sign("SECtestsecret", 1700000000000) == "7LVwF0dAF3%2F%2BMRRulbpE4y72Ogzykc6bS2nG4I99T4s%3D"


def test_dingtalk_sign_wants_milliseconds_and_url_encoding():
    assert dingtalk.sign("SECtestsecret", 1700000000) != dingtalk.sign("SECtestsecret", 1700000000000)
    assert "+" not in dingtalk.sign("SECtestsecret", 1700000000000)  # '+', '/', '=' are encoded


def test_dingtalk_robot_request_appends_timestamp_and_sign():
    request = dingtalk.robot_request("https://oapi.dingtalk.com/robot/send?access_token=abc", "SECtestsecret",
                                     MESSAGE, 1700000000000, at_user_ids=["ding-u1"])
    assert request.url == ("https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=1700000000000"
                           "&sign=7LVwF0dAF3%2F%2BMRRulbpE4y72Ogzykc6bS2nG4I99T4s%3D")
    assert request.json == {"msgtype": "markdown", "markdown": {
        "title": "自评", "text": "请在 12 月 31 日前完成 2026 Q4 自评\n\n[打开 →](https://kpi.example.com/scorecards/17)"
                                 "\n\n@ding-u1"}, "at": {"atUserIds": ["ding-u1"], "isAtAll": False}}


def test_feishu_sign_matches_the_documented_vector():
    assert feishu.sign("testsecret", 1700000000) == "AOc8oJ7//5OlQlfWC3nRL0R+IkuzcD1FKcAyibRK9Q8="


def test_feishu_sign_is_not_dingtalks_way():
    # key = secret over "ts\nsecret" (DingTalk's order) gives this value, which Feishu rejects
    assert feishu.sign("testsecret", 1700000000) != "QtI24SK3/m8+lKf0d89/bclcePXhBxolugiWin8Kl3c="
    assert feishu.sign("testsecret", 1700000000000) != feishu.sign("testsecret", 1700000000)  # seconds, not ms


def test_feishu_robot_body_carries_timestamp_and_sign():
    request = feishu.robot_request("https://open.feishu.cn/open-apis/bot/v2/hook/x", "testsecret", MESSAGE, 1700000000)
    assert request.json["timestamp"] == "1700000000"
    assert request.json["sign"] == "AOc8oJ7//5OlQlfWC3nRL0R+IkuzcD1FKcAyibRK9Q8="
    assert request.json["msg_type"] == "post"
    lines = request.json["content"]["post"]["zh_cn"]["content"]
    assert lines == [[{"tag": "text", "text": MESSAGE.text}],
                     [{"tag": "a", "text": "打开 →", "href": "https://kpi.example.com/scorecards/17"}]]


def test_feishu_app_content_is_a_json_string():
    request = feishu.message_request("t-1", "ou_1", MESSAGE, "kpiapp-9")
    assert request.headers == {"Authorization": "Bearer t-1"}
    assert request.params == {"receive_id_type": "user_id"}
    assert json.loads(request.json["content"]) == {"text": f"{MESSAGE.text} → {MESSAGE.link}"}


def test_wecom_markdown_mentions_inside_the_content_and_is_clipped():
    request = wecom.robot_request("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", MESSAGE, "wang")
    assert request.json["msgtype"] == "markdown"
    assert request.json["markdown"]["content"].endswith("<@wang>")
    long = Message(title="t", text="长" * 3000)
    content = wecom.robot_request("https://x", long).json["markdown"]["content"]
    assert len(content.encode()) <= wecom.MARKDOWN_MAX_BYTES


def receiver():
    """The demo's stand-in robots (scripts/im_receiver.py): it must accept what we sign and
    refuse what the platforms refuse."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "scripts/im_receiver.py"
    spec = importlib.util.spec_from_file_location("im_receiver", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_stand_in_checks_dingtalk_signatures(monkeypatch):
    fake = receiver()
    monkeypatch.setattr(fake.time, "time", lambda: 1700000000.5)
    from urllib.parse import parse_qs, unquote_plus, urlsplit

    url = dingtalk.robot_request("http://x/robot/send?access_token=t", "SECtestsecret", MESSAGE, 1700000000000).url
    assert fake.dingtalk_ok(parse_qs(urlsplit(url).query), "SECtestsecret")
    assert not fake.dingtalk_ok(parse_qs(urlsplit(url).query), "SECother")
    seconds = {"timestamp": ["1700000000"], "sign": [unquote_plus(dingtalk.sign("SECtestsecret", 1700000000))]}
    assert not fake.dingtalk_ok(seconds, "SECtestsecret")  # seconds instead of milliseconds


def test_the_stand_in_checks_feishu_signatures(monkeypatch):
    fake = receiver()
    monkeypatch.setattr(fake.time, "time", lambda: 1700000000.5)
    body = feishu.robot_request("http://x", "testsecret", MESSAGE, 1700000000).json
    assert fake.feishu_ok(body, "testsecret")
    dingtalk_way = {**body, "sign": "QtI24SK3/m8+lKf0d89/bclcePXhBxolugiWin8Kl3c="}
    assert not fake.feishu_ok(dingtalk_way, "testsecret")
    assert not fake.feishu_ok({**body, "timestamp": "1600000000"}, "testsecret")  # outside the hour
