"""Shopee Open API v2 connector against its stand-in (INTEGRATIONS.md §3 test vectors)."""
from collections import Counter
from datetime import date, datetime, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from kpiapp.connectors.base import REGISTRY, ConnectorError, Failure, MemoryTokens
from kpiapp.connectors.fake import shopee as fake
from kpiapp.connectors.shopee import ads_windows, base_string, sign, windows
from kpiapp.demo.marketplace import demo_uploads
from kpiapp.parsers import parse_file
from tests.connectors.asia_stand_in import BASE, StandIn

SHOP = {"shop_id": fake.DEMO["shop_id"], "timezone": "Asia/Singapore"}
CREDENTIALS = {k: fake.DEMO[k] for k in ("partner_id", "partner_key", "refresh_token")}


def test_sign_matches_the_documented_vectors():
    shop_base = base_string(2001887, "/api/v2/order/get_order_list", 1655714431,
                            "59777174636562737266615546704c6d", 14701711)
    assert shop_base == "2001887/api/v2/order/get_order_list165571443159777174636562737266615546704c6d14701711"
    assert sign("hello", 2001887, "/api/v2/order/get_order_list", 1655714431,
                "59777174636562737266615546704c6d", 14701711) == \
        "7a09d33f717f479b5bd5dcd69b3fd3f827921358904e525eaa4e8f5d59b02704"
    assert sign("hello", 2001887, "/api/v2/auth/token/get", 1655714431) == \
        "377f03f12015bfb7ac279da17a17d16bec4139809329374a2501ff267dcdb8ea"
    # a millisecond timestamp is another message: another sign
    assert sign("hello", 2001887, "/api/v2/auth/token/get", 1655714431000) != \
        "377f03f12015bfb7ac279da17a17d16bec4139809329374a2501ff267dcdb8ea"


def test_windows_are_at_most_fifteen_days_and_cover_the_range():
    start = datetime(2026, 10, 1, tzinfo=timezone.utc)
    end = datetime(2026, 11, 10, tzinfo=timezone.utc)
    parts = list(windows(start, end))
    assert len(parts) == 3
    assert all(b - a <= 15 * 86400 for a, b in parts)
    assert parts[0][0] == start.timestamp() and parts[-1][1] == end.timestamp() - 1
    assert all(parts[i][1] == parts[i + 1][0] for i in range(len(parts) - 1))


@pytest.fixture
def stand_in():
    return StandIn("shopee")


def connector(stand_in, tokens=None, client=None):
    return REGISTRY["shopee"](stand_in.context("SHP-SG", CREDENTIALS, SHOP, tokens, client))


def test_orders_pull_pages_batches_and_equals_the_upload(stand_in):
    docs = list(connector(stand_in).pull("orders", date(2026, 10, 1), date(2026, 10, 31)))
    calls = Counter(stand_in.calls())
    assert calls["/api/v2/order/get_order_list"] > 3  # three 15-day windows, several pages
    assert all(d.parser == "shopee_orders" and d.filename.endswith(".json") for d in docs)
    pulled = facts(docs)
    uploaded = upload_facts(date(2026, 10, 1), date(2026, 10, 31))
    assert len(pulled) > 3000 and pulled == uploaded
    sizes = [len(parse_file(d.content, d.filename, parser=d.parser, tz="Asia/Singapore").facts) for d in docs]
    assert max(sizes) <= 50 * 7  # at most 50 orders per detail call (6 item measures + orders)


ITEM_MEASURES = {"units_ordered", "order_items", "ordered_sales", "units_refunded", "units_cancelled",
                 "cancelled_sales", "orders"}


def facts(docs):
    out = {}
    for doc in docs:
        result = parse_file(doc.content, doc.filename, parser=doc.parser, tz="Asia/Singapore", currency="SGD")
        assert not result.errors
        out.update({f.key: f.value for f in result.facts if f.measure in ITEM_MEASURES})
    return out


def upload_facts(first, last):
    upload = next(u for u in demo_uploads() if u.store == "SHP-SG")
    result = parse_file(upload.data, upload.filename, parser="shopee_orders", tz="Asia/Singapore",
                        currency="SGD")
    return {f.key: f.value for f in result.facts
            if f.measure in ITEM_MEASURES and first <= f.business_date <= last}


def test_refresh_rotates_and_persists_and_an_old_refresh_token_fails(stand_in):
    tokens = MemoryTokens()
    shop = connector(stand_in, tokens)
    shop.test()
    first = dict(tokens.values)
    assert first["refresh_token"] != CREDENTIALS["refresh_token"] and tokens.saved == [first]
    shop.test()
    assert len(tokens.saved) == 1  # the access token is reused while fresh
    stand_in.clock.advance(4 * 3600)
    shop.test()
    assert len(tokens.saved) == 2 and tokens.values["refresh_token"] != first["refresh_token"]
    replay = connector(stand_in, MemoryTokens(refresh_token=first["refresh_token"]))
    with pytest.raises(ConnectorError) as caught:
        replay.test()  # a refresh token works once
    assert caught.value.failure == Failure.auth_expired


def test_the_stand_in_refuses_what_shopee_refuses(stand_in):
    shop = connector(stand_in)
    token = shop.access_token()
    ts = int(stand_in.clock.unix())
    path = "/api/v2/order/get_order_list"
    good = {"partner_id": fake.DEMO["partner_id"], "timestamp": ts, "access_token": token,
            "shop_id": SHOP["shop_id"], "time_range_field": "create_time", "page_size": 10,
            "sign": sign(fake.DEMO["partner_key"], fake.DEMO["partner_id"], path, ts, token, SHOP["shop_id"])}

    def get(**changes):
        return stand_in.session.get(BASE + path, params={**good, **changes}, timeout=5).json()

    day = 86400
    start = int(datetime(2026, 11, 1, tzinfo=timezone.utc).timestamp())
    assert get(time_from=start, time_to=start + day)["error"] == ""
    assert get(time_from=start, time_to=start + 16 * day)["error"] == "order.order_list_invalid_time"
    assert get(time_from=start, time_to=start + day, sign="0" * 64)["error"] == "error_sign"
    old = ts - 301
    stale = sign(fake.DEMO["partner_key"], fake.DEMO["partner_id"], path, old, token, SHOP["shop_id"])
    assert get(time_from=start, time_to=start + day, timestamp=old, sign=stale)["error"] == "error_param"
    assert get(time_from=start, time_to=start + day, page_size=101)["error"] == "error_param"


def test_escrow_pull_gives_one_payout_day_per_document(stand_in):
    docs = list(connector(stand_in).pull("settlement", date(2026, 11, 1), date(2026, 11, 3)))
    assert sorted({d.date_from for d in docs}) == [date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)]
    assert all(d.date_from == d.date_to for d in docs) and len(docs) > 3  # batches of 20 orders
    for doc in docs:
        result = parse_file(doc.content, doc.filename, parser=doc.parser, date_from=doc.date_from,
                            date_to=doc.date_to, tz="Asia/Singapore", currency="SGD")
        assert not result.errors and result.facts
        assert {f.business_date for f in result.facts} == {doc.date_from}
        assert {f.measure for f in result.facts} >= {"escrow_amount", "commission_fees", "service_fees"}


def test_a_burst_is_throttled_and_the_client_waits_on_the_shared_clock(stand_in):
    client = stand_in.client()
    stand_in.app.extensions["fake_marketplace"].limit = 5
    docs = list(connector(stand_in, client=client).pull("settlement", date(2026, 11, 1), date(2026, 11, 7)))
    assert docs and client.waits and all(w >= 1 for w in client.waits)  # Retry-After: 1 honoured
    assert stand_in.calls().count("/api/v2/payment/get_escrow_detail_batch") > 5


def test_ads_windows_are_a_month_at_most_and_never_one_day():
    assert list(ads_windows(date(2026, 11, 20), date(2026, 11, 20))) == [(date(2026, 11, 19), date(2026, 11, 20))]
    parts = list(ads_windows(date(2026, 10, 1), date(2026, 11, 26)))
    assert parts[0] == (date(2026, 10, 1), date(2026, 10, 28)) and parts[-1][1] == date(2026, 11, 26)
    assert all(1 <= (b - a).days <= 27 for a, b in parts)


def test_ads_pull_gives_daily_ad_facts(stand_in):
    docs = list(connector(stand_in).pull("ads", date(2026, 11, 1), date(2026, 11, 30 - 4)))
    days = set()
    for doc in docs:
        result = parse_file(doc.content, doc.filename, parser=doc.parser, currency="SGD")
        assert not result.errors
        days |= {f.business_date for f in result.facts}
        spend = {f.business_date: f.value for f in result.facts if f.measure == "ad_spend"}
        sales = {f.business_date: f.value for f in result.facts if f.measure == "ad_sales"}
        assert all(0 < spend[d] < sales[d] for d in spend)
    assert len(days) == 26


def test_kinds_without_an_api_here_say_so(stand_in):
    with pytest.raises(ConnectorError) as caught:
        connector(stand_in).pull("inventory", date(2026, 11, 1), date(2026, 11, 1))
    assert caught.value.failure == Failure.not_supported


def test_authorisation_link_code_and_first_tokens(stand_in):
    tokens = MemoryTokens()
    shop = REGISTRY["shopee"](stand_in.context("SHP-SG", {**CREDENTIALS, "refresh_token": ""},
                                               {**SHOP, "redirect_uri": "https://kpi.example/connections/callback"},
                                               tokens))
    link = shop.authorize_url("signed-state")
    assert link.startswith(BASE + "/api/v2/shop/auth_partner?") and "sign=" in link
    back = parse_qs(urlsplit(stand_in.session.get(link, allow_redirects=False).headers["Location"]).query)
    assert back["state"] == ["signed-state"] and back["shop_id"] == [SHOP["shop_id"]]
    shop.exchange_code(back["code"][0])
    assert tokens.saved and tokens.values["access_token"] and tokens.values["refresh_token"]
    shop.test()  # the first pair works
    with pytest.raises(ConnectorError):
        shop.exchange_code(back["code"][0])  # a code works once
