"""Lazada Open Platform connector against its stand-in (INTEGRATIONS.md §5 test vectors)."""
from collections import Counter
from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest

from kpiapp.connectors.base import REGISTRY, ConnectorError, Failure, MemoryTokens
from kpiapp.connectors.fake import lazada as fake
from kpiapp.connectors.lazada import sign, string_to_sign
from kpiapp.demo.marketplace import lazada_rows
from kpiapp.parsers import parse_file
from tests.connectors.asia_stand_in import BASE, StandIn

SETTINGS = {"timezone": "Asia/Kuala_Lumpur"}
CREDENTIALS = {k: fake.DEMO[k] for k in ("app_key", "app_secret", "refresh_token")}


def test_sign_matches_the_documented_vectors():
    params = {"foo": "1", "bar": "2", "foo_bar": "3", "foobar": "4", "sign": "ignored"}
    assert string_to_sign("/test/api", params) == "/test/apibar2foo1foo_bar3foobar4"
    assert sign("helloworld", "/test/api", params) == \
        "BD011266EC150C787B2201495AA2D6F326BB6910DE77E84EA28F5215DCD7FA5E"
    orders = {"access_token": "tok", "app_key": "123456", "created_after": "2023-10-18T00:00:01+07:00",
              "limit": "10", "offset": "0", "sign_method": "sha256", "timestamp": "1697648276136"}
    assert sign("helloworld", "/orders/get", orders) == \
        "FA25A1652793E57D7FF535FDAD01B79F50744D66AA2A9266BCECD6EA2AADE6A9"
    # lower-case hex, or the token left out, is not the same sign
    assert sign("helloworld", "/orders/get", orders).lower() != sign("helloworld", "/orders/get", orders)
    without = {k: v for k, v in orders.items() if k != "access_token"}
    assert sign("helloworld", "/orders/get", without) != sign("helloworld", "/orders/get", orders)


def test_the_country_names_the_gateway():
    lazada = REGISTRY["lazada"]
    assert lazada.base_url_for({"country": "SG"}) == "https://api.lazada.sg/rest"
    assert lazada.base_url_for({"country": "th"}) == "https://api.lazada.co.th/rest"
    assert lazada.base_url_for({}) == "https://api.lazada.com.my/rest"


@pytest.fixture
def stand_in():
    return StandIn("lazada")


def connector(stand_in, tokens=None, client=None):
    return REGISTRY["lazada"](stand_in.context("LZD-MY", CREDENTIALS, SETTINGS, tokens, client))


def test_orders_pull_pages_batches_and_matches_the_demo_data(stand_in):
    docs = list(connector(stand_in).pull("orders", date(2026, 11, 1), date(2026, 11, 7)))
    calls = Counter(stand_in.calls())
    assert calls["/rest/orders/get"] > 2 and calls["/rest/orders/items/get"] == len(docs) > 2
    units = {}
    for doc in docs:
        result = parse_file(doc.content, doc.filename, parser=doc.parser, tz="Asia/Kuala_Lumpur", currency="MYR")
        assert not result.errors
        for f in result.facts:
            if f.measure == "units_ordered":
                units[f.business_date] = units.get(f.business_date, 0) + f.value
    expected = Counter()
    for _number, _item, _sku, created, *_rest in lazada_rows():
        if date(2026, 11, 1) <= created.date() <= date(2026, 11, 7):
            expected[created.date()] += 1
    assert units == dict(expected) and len(units) == 7


def test_refresh_rotates_and_persists(stand_in):
    tokens = MemoryTokens()
    seller = connector(stand_in, tokens)
    seller.test()
    first = dict(tokens.values)
    assert first["refresh_token"] != CREDENTIALS["refresh_token"] and len(tokens.saved) == 1
    stand_in.clock.advance(7 * 86400)
    seller.test()
    assert len(tokens.saved) == 2 and tokens.values["refresh_token"] != first["refresh_token"]
    with pytest.raises(ConnectorError) as caught:
        connector(stand_in, MemoryTokens(refresh_token=first["refresh_token"])).test()
    assert caught.value.failure == Failure.auth_expired


def test_the_stand_in_refuses_what_lazada_refuses(stand_in):
    token = connector(stand_in).access_token()
    millis = str(int(stand_in.clock.unix() * 1000))
    base = {"app_key": fake.DEMO["app_key"], "sign_method": "sha256", "timestamp": millis, "access_token": token,
            "created_after": "2026-11-01T00:00:00+08:00", "limit": "10"}

    def get(params, signed=True):
        query = {**params, "sign": sign(fake.DEMO["app_secret"], "/orders/get", params)} if signed else params
        return stand_in.session.get(BASE + "/rest/orders/get", params=query, timeout=5).json()["code"]

    assert get(base) == "0"
    assert get({**base, "sign": sign(fake.DEMO["app_secret"], "/orders/get", base).lower()}, signed=False) == \
        "IncompleteSignature"
    assert get({**base, "timestamp": millis[:10]}) == "InvalidTimestamp"  # seconds, not milliseconds
    assert get({k: v for k, v in base.items() if k != "sign_method"}) == "InvalidSignMethod"
    assert get({**base, "limit": "101"}) == "InvalidParameter"
    assert get({**base, "access_token": "made-up"}) == "IllegalAccessToken"


def test_finance_transactions_page_and_land_in_settlement_measures(stand_in):
    docs = list(connector(stand_in).pull("settlement", date(2026, 11, 1), date(2026, 11, 10)))
    assert len(docs) >= 2 and all(d.parser == "lazada_finance" for d in docs)  # pages of 500
    totals = Counter()
    for doc in docs:
        result = parse_file(doc.content, doc.filename, parser=doc.parser, currency="MYR")
        assert not result.errors
        for f in result.facts:
            totals[f.measure] += f.value
    assert totals["settled_product_sales"] > 0 and totals["commission_fees"] > 0
    assert totals["transaction_fees"] > 0 and set(totals) <= {
        "settled_product_sales", "commission_fees", "transaction_fees", "promotion_costs", "settled_refunds"}


def test_kinds_without_an_api_here_say_so(stand_in):
    with pytest.raises(ConnectorError) as caught:
        connector(stand_in).pull("inventory", date(2026, 11, 1), date(2026, 11, 1))
    assert caught.value.failure == Failure.not_supported


def test_authorisation_link_code_and_first_tokens(stand_in):
    tokens = MemoryTokens()
    seller = REGISTRY["lazada"](stand_in.context("LZD-MY", {**CREDENTIALS, "refresh_token": ""},
                                                 {**SETTINGS, "redirect_uri": "https://kpi.example/connections/callback"},
                                                 tokens))
    link = seller.authorize_url("signed-state")
    assert link.startswith(BASE + "/oauth/authorize?") and "client_id=" + fake.DEMO["app_key"] in link
    back = parse_qs(urlsplit(stand_in.session.get(link, allow_redirects=False).headers["Location"]).query)
    assert back["state"] == ["signed-state"]
    seller.exchange_code(back["code"][0])
    assert tokens.values["access_token"] and tokens.values["refresh_token"]
    seller.test()
    with pytest.raises(ConnectorError):
        seller.exchange_code(back["code"][0])  # a code works once
