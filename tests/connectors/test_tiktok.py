"""TikTok Shop API 202309 connector against its stand-in (INTEGRATIONS.md §4 test vectors)."""
from collections import Counter
from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest

from kpiapp.connectors.base import REGISTRY, ConnectorError, Failure, MemoryTokens
from kpiapp.connectors.fake import tiktok as fake
from kpiapp.connectors.tiktok import epoch, sign, string_to_sign
from kpiapp.demo.marketplace import demo_uploads
from kpiapp.parsers import parse_file
from tests.connectors.asia_stand_in import BASE, StandIn

SHOP = {"shop_cipher": fake.DEMO["shop_cipher"], "timezone": "Europe/London"}
CREDENTIALS = {k: fake.DEMO[k] for k in ("app_key", "app_secret", "refresh_token")}


def test_sign_matches_the_official_vector_and_the_body_vector():
    params = {"app_key": "29a39d", "timestamp": "1623812664", "access_token": "never-signed", "sign": "x"}
    assert string_to_sign("/authorization/202309/shops", params) == \
        b"/authorization/202309/shopsapp_key29a39dtimestamp1623812664"
    assert sign("e59af819cc", "/authorization/202309/shops", params) == \
        "b596b73e0cc6de07ac26f036364178ab16b0a907af13d43f0a0cd2345f582dc8"
    body = b'{"address":"https://partner.tiktokshop.com","event_type":"PACKAGE_UPDATE"}'
    query = {"app_key": "68xu9ks5p4i8", "shop_cipher": "ROW_xkMbgAAAeVAQra0eZWebFQq5aIK", "timestamp": "1696909648"}
    assert sign("e59af819cc", "/event/202309/webhooks", query, body) == \
        "cd0d6268252f4ba293bf7ea4c0a2873bf9beec600d22530638564ab301435f7a"
    # the same JSON with other whitespace is another message
    spaced = b'{"address": "https://partner.tiktokshop.com", "event_type": "PACKAGE_UPDATE"}'
    assert sign("e59af819cc", "/event/202309/webhooks", query, spaced) != \
        "cd0d6268252f4ba293bf7ea4c0a2873bf9beec600d22530638564ab301435f7a"
    # multipart bodies are not signed
    assert sign("e59af819cc", "/event/202309/webhooks", query, body, "multipart/form-data; boundary=x") == \
        sign("e59af819cc", "/event/202309/webhooks", query)


def test_expire_in_is_read_as_an_epoch_or_a_duration():
    assert epoch(1700000000, 5.0) == 1700000000
    assert epoch(3600, 1000.0) == 4600


@pytest.fixture
def stand_in():
    return StandIn("tiktok")


def connector(stand_in, tokens=None, client=None):
    return REGISTRY["tiktok"](stand_in.context("TTS-UK", CREDENTIALS, SHOP, tokens, client))


COMPARED = {"units_ordered", "order_items", "ordered_sales", "units_cancelled", "cancelled_sales", "orders",
            "seller_discounts", "platform_discounts"}


def facts(docs):
    out = {}
    for doc in docs:
        result = parse_file(doc.content, doc.filename, parser=doc.parser, tz="Europe/London", currency="GBP")
        assert not result.errors
        out.update({f.key: f.value for f in result.facts if f.measure in COMPARED})
    return out


def test_orders_pull_pages_and_equals_the_upload(stand_in):
    docs = list(connector(stand_in).pull("orders", date(2026, 11, 1), date(2026, 11, 10)))
    calls = Counter(stand_in.calls())
    assert calls["/order/202309/orders/search"] > 2 and calls["/order/202309/orders"] == len(docs) > 2
    upload = next(u for u in demo_uploads() if u.store == "TTS-UK")
    result = parse_file(upload.data, upload.filename, parser="tiktok_orders", tz="Europe/London", currency="GBP")
    uploaded = {f.key: f.value for f in result.facts
                if f.measure in COMPARED and date(2026, 11, 1) <= f.business_date <= date(2026, 11, 10)}
    pulled = facts(docs)
    assert len(pulled) > 1000 and pulled == uploaded


def test_refresh_rotates_and_persists_and_the_token_rides_in_the_header(stand_in):
    tokens = MemoryTokens()
    shop = connector(stand_in, tokens)
    shop.test()
    first = dict(tokens.values)
    assert first["refresh_token"] != CREDENTIALS["refresh_token"] and len(tokens.saved) == 1
    stand_in.clock.advance(7 * 86400)
    shop.test()
    assert len(tokens.saved) == 2 and tokens.values["refresh_token"] != first["refresh_token"]
    with pytest.raises(ConnectorError) as caught:
        connector(stand_in, MemoryTokens(refresh_token=first["refresh_token"])).test()
    assert caught.value.failure == Failure.auth_expired


def test_the_stand_in_refuses_what_tiktok_refuses(stand_in):
    token = connector(stand_in).access_token()
    ts = str(int(stand_in.clock.unix()))
    path = "/order/202309/orders/search"
    body = b'{"create_time_ge":1793000000}'
    query = {"app_key": fake.DEMO["app_key"], "timestamp": ts, "shop_cipher": fake.DEMO["shop_cipher"],
             "page_size": "5"}

    def post(query, body=body, headers=None):
        headers = {"x-tts-access-token": token, "content-type": "application/json", **(headers or {})}
        return stand_in.session.post(BASE + path, params=query, data=body, headers=headers, timeout=5)

    good = {**query, "sign": sign(fake.DEMO["app_secret"], path, query, body)}
    assert post(good).json()["code"] == 0
    assert post(good, body=b'{"create_time_ge": 1793000000}').status_code == 401  # body re-serialised
    assert post({**good, "access_token": token}).json()["code"] == 106001  # token in the query
    assert post(good, headers={"x-tts-access-token": ""}).json()["code"] == 105002
    millis = {**query, "timestamp": ts + "000"}
    assert post({**millis, "sign": sign(fake.DEMO["app_secret"], path, millis, body)}).json()["code"] == 106002
    bare = {k: v for k, v in query.items() if k != "shop_cipher"}
    assert post({**bare, "sign": sign(fake.DEMO["app_secret"], path, bare, body)}).json()["code"] == 106011


def test_authorisation_link_code_first_tokens_and_shop_cipher(stand_in):
    tokens = MemoryTokens()
    shop = REGISTRY["tiktok"](stand_in.context("TTS-UK", {**CREDENTIALS, "refresh_token": ""},
                                               {"timezone": "Europe/London",
                                                "redirect_uri": "https://kpi.example/connections/callback"},
                                               tokens))
    link = shop.authorize_url("signed-state")
    assert link.startswith(BASE + "/oauth/authorize?") and "state=signed-state" in link
    back = parse_qs(urlsplit(stand_in.session.get(link, allow_redirects=False).headers["Location"]).query)
    assert back["state"] == ["signed-state"]
    shop.exchange_code(back["code"][0])
    assert tokens.values["shop_cipher"] == fake.DEMO["shop_cipher"] and tokens.values["refresh_token"]
    shop.test()  # shop calls now carry the cipher learnt at authorisation
