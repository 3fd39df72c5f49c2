"""SP-API and Ads connectors against the Amazon stand-in, served over real HTTP on a loopback
port (werkzeug in a thread): LWA exchange and caching, refresh on expiry, 429 backoff on a
frozen sleep, report polling, FATAL / truncated / CANCELLED, and the documents' bytes."""
import gzip
import json
import re
import threading
from datetime import date, datetime, timedelta, timezone

import pytest
from flask import Flask
from werkzeug.serving import make_server

from kpiapp.connectors import amazon_ads, amazon_sp, lwa
from kpiapp.connectors.base import REGISTRY, Context, ConnectorError, DataKind, Failure, MemoryTokens
from kpiapp.connectors.fake import amazon as fake
from kpiapp.connectors.http import Client
from kpiapp.demo.marketplace import sales_traffic_json, simulate, SEED
from kpiapp.parsers import parse_file

DAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 26, 20, 0, tzinfo=timezone.utc)
SP_CREDENTIALS = {"client_id": fake.SP_CLIENT_ID, "client_secret": fake.SP_CLIENT_SECRET,
                  "refresh_token": fake.SP_REFRESH_TOKEN}
ADS_CREDENTIALS = {"client_id": fake.ADS_CLIENT_ID, "client_secret": fake.ADS_CLIENT_SECRET,
                   "refresh_token": fake.ADS_REFRESH_TOKEN}
US_PROFILE = next(pid for pid, code in fake.PROFILES.items() if code == "AMZ-US")


@pytest.fixture(scope="module")
def server():
    app = Flask("amazon-stand-in")
    app.register_blueprint(fake.bp)
    httpd = make_server("127.0.0.1", 0, app, threaded=True)  # a free port: parallel workers never clash
    app.config["BASE_URL"] = f"http://127.0.0.1:{httpd.server_port}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield app
    httpd.shutdown()
    thread.join()


@pytest.fixture
def stand_in(server):
    """A fresh stand-in state on a frozen clock (tests move it with state.advance)."""
    state = fake.State(clock=lambda: NOW)
    state.base_url = server.config["BASE_URL"]
    server.extensions["fake_amazon"] = state
    return state


class Sleeps(list):
    """The connector's sleep: recorded, and the stand-in's clock moves on by as much."""

    def __init__(self, stand_in):
        super().__init__()
        self.stand_in = stand_in

    def __call__(self, seconds):
        self.append(seconds)
        self.stand_in.advance(seconds)


def make(platform, stand_in, credentials, settings, tokens=None):
    sleeps = Sleeps(stand_in)
    http = Client(sleep=sleeps, rand=lambda: 0.5, attempts=4)
    context = Context(store_code="AMZ-US", credentials=credentials, settings=settings,
                      tokens=tokens or MemoryTokens(), base_url=stand_in.base_url, http=http,
                      now=stand_in.now)
    return REGISTRY[platform](context), sleeps


def sp(stand_in, **kwargs):
    return make("amazon_sp", stand_in, SP_CREDENTIALS, {"marketplace_id": "ATVPDKIKX0DER"}, **kwargs)


def ads(stand_in, **kwargs):
    return make("amazon_ads", stand_in, ADS_CREDENTIALS, {"profile_id": US_PROFILE}, **kwargs)


def calls(stand_in, prefix):
    return [(method, path, headers) for method, path, headers in stand_in.calls if path.startswith(prefix)]


# ---- LWA ----------------------------------------------------------------------------------------

def test_the_token_form_holds_exactly_the_four_fields():
    assert lwa.token_form(SP_CREDENTIALS) == {"grant_type": "refresh_token", **SP_CREDENTIALS}
    with pytest.raises(ConnectorError) as refused:
        lwa.token_form({"client_id": "x"})
    assert refused.value.failure == Failure.auth_failed


def test_one_token_serves_a_whole_pull_and_is_cached_with_its_expiry(stand_in):
    connector, _ = sp(stand_in)
    documents = list(connector.pull(DataKind.sales, DAY, DAY + timedelta(days=2)))
    assert len(documents) == 3
    assert len(stand_in.tokens) == 1  # one exchange for 3 x (create, 2 polls, document)
    saved = connector.context.tokens.saved
    assert len(saved) == 1 and saved[0][lwa.ACCESS] in stand_in.tokens
    assert datetime.fromisoformat(saved[0][lwa.EXPIRES]) == NOW + timedelta(seconds=3600)


def test_a_token_near_its_expiry_is_refreshed_before_use(stand_in):
    connector, _ = sp(stand_in)
    connector.test()
    stand_in.advance(3600 - 200)  # inside the 5-minute margin
    connector.test()
    assert len(stand_in.tokens) == 2
    assert connector.context.tokens.get(lwa.ACCESS) == list(stand_in.tokens)[-1]


def test_an_access_token_the_platform_calls_expired_is_refreshed_once_and_the_call_retried(stand_in):
    connector, _ = sp(stand_in)
    connector.test()
    stand_in.advance(3600)  # the stand-in's clock passed the hour; ours still trusts the cache
    connector.context.now = lambda: NOW
    connector.test()
    assert len(stand_in.tokens) == 2
    answers = [path for method, path, _ in calls(stand_in, "/reports")]
    assert len(answers) == 3  # first call, the refused one, its retry


def test_a_revoked_refresh_token_is_auth_expired_and_a_wrong_secret_auth_failed(stand_in):
    fake.fail(stand_in, "expired_token")
    with pytest.raises(ConnectorError) as expired:
        sp(stand_in)[0].test()
    assert expired.value.failure == Failure.auth_expired
    fake.fail(stand_in, "")
    wrong = make("amazon_sp", stand_in, {**SP_CREDENTIALS, "client_secret": "nope"},
                 {"marketplace_id": "ATVPDKIKX0DER"})[0]
    with pytest.raises(ConnectorError) as failed:
        wrong.test()
    assert failed.value.failure == Failure.auth_failed


# ---- SP-API reports ------------------------------------------------------------------------------

def test_a_sales_day_is_the_demo_generators_file_for_that_day_byte_for_byte(stand_in):
    import random
    connector, sleeps = sp(stand_in)
    [document] = connector.pull(DataKind.sales, DAY, DAY)
    expected = sales_traffic_json("AMZ-US", simulate(random.Random(SEED))["AMZ-US"], DAY, DAY)
    assert gzip.decompress(document.content) == expected
    assert document.parser == "amazon_sales_traffic_json"
    assert document.filename == "AMZ-US_sales_2026-11-20.json.gz"
    assert (document.date_from, document.date_to) == (DAY, DAY)
    polls = [path for method, path, _ in calls(stand_in, "/reports/2021-06-30/reports/")]
    assert len(polls) == 2 and sleeps == [amazon_sp.POLL_DELAYS[0]]  # IN_PROGRESS, then DONE


def test_every_sp_call_carries_the_access_token_and_user_agent_and_no_sigv4(stand_in):
    connector, _ = sp(stand_in)
    list(connector.pull(DataKind.sales, DAY, DAY))
    api = calls(stand_in, "/reports")
    assert api
    for _method, _path, headers in api:
        assert headers["x-amz-access-token"] in stand_in.tokens
        assert re.match(r"^[^/]+/[^ ]+ \(Language=", headers["user-agent"])
        assert "AWS4-HMAC-SHA256" not in headers.get("authorization", "")
    [(_m, _p, download)] = calls(stand_in, "/_fake/amazon/s3/")
    assert "x-amz-access-token" not in download and "authorization" not in download


def test_create_report_bodies_name_the_marketplace(stand_in):
    connector, _ = sp(stand_in)
    list(connector.pull(DataKind.orders, DAY, DAY + timedelta(days=1)))
    [report] = stand_in.reports.values()
    assert report["marketplaceIds"] == ["ATVPDKIKX0DER"]
    assert report["dataStartTime"] == "2026-11-20T00:00:00Z"
    assert report["dataEndTime"] == "2026-11-21T23:59:59Z"


def test_a_day_without_data_is_cancelled_and_yields_nothing(stand_in):
    connector, _ = sp(stand_in)
    assert list(connector.pull(DataKind.sales, date(2026, 9, 1), date(2026, 9, 1))) == []
    [report] = stand_in.reports.values()
    assert report["processingStatus"] == "CANCELLED"


def test_a_burst_answered_429_is_retried_after_the_announced_rate(stand_in):
    fake.fail(stand_in, "throttle")
    connector, sleeps = sp(stand_in)
    [document] = connector.pull(DataKind.sales, DAY, DAY)
    assert document.content
    rate = fake.PLANS["createReport"][0]
    assert connector.context.http.waits == [max(0.5, 1 / rate), max(1.0, 1 / rate)]  # 2 x 429, floor 1/rate
    assert connector.buckets["createReport"].rate == rate  # re-rated from x-amzn-RateLimit-Limit


def test_throttled_past_the_retry_budget_is_a_throttled_failure(stand_in):
    stand_in.failures.add("throttle")
    stand_in.throttled = 10
    with pytest.raises(ConnectorError) as throttled:
        sp(stand_in)[0].test()
    assert throttled.value.failure == Failure.throttled


def test_the_bucket_paces_a_burst_at_the_documented_rate():
    now = [0.0]
    bucket = amazon_sp.Bucket(0.5, 3, clock=lambda: now[0])
    assert [bucket.wait() for _ in range(3)] == [0, 0, 0]
    assert bucket.wait() == 2.0  # the 4th call waits for one token at 0.5/s
    now[0] = 10.0
    assert bucket.wait() == 0  # refilled (capped at the burst)


@pytest.mark.parametrize("failure, expected",
                         [("fatal", Failure.report_fatal), ("truncated", Failure.truncated)])
def test_fatal_and_truncated_reports_raise_and_yield_nothing(stand_in, failure, expected):
    fake.fail(stand_in, failure)
    connector, _ = sp(stand_in)
    pulled = []
    with pytest.raises(ConnectorError) as error:
        pulled.extend(connector.pull(DataKind.sales, DAY, DAY))
    assert error.value.failure == expected and pulled == []


def test_orders_inventory_and_settlement_documents_parse_without_errors(stand_in):
    connector, _ = sp(stand_in)
    orders = list(connector.pull(DataKind.orders, DAY, DAY + timedelta(days=2)))
    inventory = list(connector.pull(DataKind.inventory, DAY, DAY))
    settlement = list(connector.pull(DataKind.settlement, date(2026, 11, 14), date(2026, 11, 20)))
    assert [d.parser for d in orders + inventory + settlement] == [
        "amazon_orders", "amazon_inventory", "amazon_settlement"]
    assert inventory[0].date_from == NOW.date()  # a snapshot: the day it was taken
    assert settlement[0].filename == "AMZ-US_settlement_24561234567.txt.gz"
    for document in orders + inventory + settlement:
        result = parse_file(document.content, document.filename, parser=document.parser,
                            date_from=document.date_from, date_to=document.date_to, tz="America/Los_Angeles")
        assert result.facts and not result.errors
    assert list(connector.pull(DataKind.settlement, date(2026, 10, 1), date(2026, 10, 31))) == []


def test_regional_hosts_follow_the_marketplace_without_an_endpoint():
    for marketplace, host in (("A1PA6795UKMFR9", "https://sellingpartnerapi-eu.amazon.com"),
                              ("A1VC38T7YXB528", "https://sellingpartnerapi-fe.amazon.com"),
                              ("ATVPDKIKX0DER", "https://sellingpartnerapi-na.amazon.com")):
        context = Context("X", {}, {"marketplace_id": marketplace}, MemoryTokens(),
                          amazon_sp.AmazonSP.default_base_url, Client())
        connector = amazon_sp.AmazonSP(context)
        assert (connector.api_base(), connector.token_url()) == (host, "https://api.amazon.com/auth/o2/token")


# ---- Ads API v3 ------------------------------------------------------------------------------------

def test_ads_pull_re_pulls_the_trailing_14_days_as_one_report(stand_in):
    connector, sleeps = ads(stand_in)
    [document] = connector.pull(DataKind.ads, DAY, DAY)
    assert (document.date_from, document.date_to) == (DAY - timedelta(days=13), DAY)
    rows = json.loads(gzip.decompress(document.content))
    assert {r["date"] for r in rows} == {(DAY - timedelta(days=n)).isoformat() for n in range(14)}
    assert set(rows[0]) == set(amazon_ads.COLUMNS)
    assert sleeps == [amazon_ads.POLL_DELAYS[0]]
    result = parse_file(document.content, document.filename, parser="amazon_ads")
    assert result.facts and not result.errors


def test_every_ads_call_carries_the_three_headers_and_the_download_none(stand_in):
    connector, _ = ads(stand_in)
    list(connector.pull(DataKind.ads, DAY, DAY))
    api = calls(stand_in, "/reporting/reports")
    assert len(api) == 3  # create, two polls
    for _method, _path, headers in api:
        assert headers["authorization"].removeprefix("Bearer ") in stand_in.tokens
        assert headers["amazon-advertising-api-clientid"] == fake.ADS_CLIENT_ID
        assert headers["amazon-advertising-api-scope"] == US_PROFILE
    assert api[0][2]["content-type"] == amazon_ads.CREATE_TYPE
    [(_m, _p, download)] = calls(stand_in, "/_fake/amazon/s3/")
    assert "authorization" not in download and "amazon-advertising-api-scope" not in download


def test_a_long_ads_backfill_is_split_into_31_day_reports():
    assert list(amazon_ads.windows(date(2026, 10, 1), date(2026, 11, 5))) == [
        (date(2026, 10, 1), date(2026, 10, 31)), (date(2026, 11, 1), date(2026, 11, 5))]
    first, last = date(2026, 10, 1), date(2026, 11, 5)
    assert amazon_ads.pull_range(first, last) == (first, last)
    assert amazon_ads.pull_range(last, last) == (last - timedelta(days=13), last)


def test_ads_failed_report_and_unknown_profile(stand_in):
    fake.fail(stand_in, "fatal")
    with pytest.raises(ConnectorError) as fatal:
        list(ads(stand_in)[0].pull(DataKind.ads, DAY, DAY))
    assert fatal.value.failure == Failure.report_fatal
    fake.fail(stand_in, "")
    stranger = make("amazon_ads", stand_in, ADS_CREDENTIALS, {"profile_id": "999"})[0]
    with pytest.raises(ConnectorError) as refused:
        stranger.test()
    assert refused.value.failure == Failure.auth_failed
    ads(stand_in)[0].test()


def test_ads_throttling_honours_retry_after(stand_in):
    fake.fail(stand_in, "throttle")
    connector, _ = ads(stand_in)
    list(connector.pull(DataKind.ads, DAY, DAY))
    assert connector.context.http.waits == [2.0, 2.0]  # Retry-After: 2 beats the jittered 0.5 and 1.0


def test_account_health_is_todays_snapshot_parsed_into_window_counts(stand_in):
    connector, _ = sp(stand_in)
    [document] = connector.pull(DataKind.health, DAY, DAY)
    assert (document.parser, document.date_from) == ("amazon_account_health", NOW.date())
    assert document.filename == "AMZ-US_health_2026-11-26.json.gz"
    result = parse_file(document.content, document.filename, parser=document.parser,
                        date_from=document.date_from, date_to=document.date_to)
    assert not result.errors
    doc = json.loads(gzip.decompress(document.content))["performanceMetrics"][0]
    facts = {(f.measure, f.ref): f.value for f in result.facts}
    assert facts[("health_lsr_late", "ATVPDKIKX0DER")] == doc["lateShipmentRate"]["lateShipmentCount"]
    assert facts[("health_vtr_shipments", "ATVPDKIKX0DER")] == doc["validTrackingRate"]["shipmentCount"]
    odr = doc["orderDefectRate"]["afn"]
    assert facts[("health_odr_defects", "ATVPDKIKX0DER:afn")] == odr["orderWithDefects"]["count"]
    assert facts[("health_odr_orders", "ATVPDKIKX0DER:afn")] == odr["orderCount"]
    assert {f.business_date for f in result.facts} == {NOW.date()}


def test_the_ads_authorisation_link_returns_a_code_that_buys_a_refresh_token_once(stand_in):
    from urllib.parse import parse_qs, urlsplit

    import requests

    credentials = {k: v for k, v in ADS_CREDENTIALS.items() if k != "refresh_token"}
    redirect_uri = "https://kpi.example/connections/callback"
    connector = make("amazon_ads", stand_in, credentials, {"profile_id": US_PROFILE,
                                                          "redirect_uri": redirect_uri})[0]
    link = connector.authorize_url("signed-state")
    query = parse_qs(urlsplit(link).query)
    assert query["scope"] == [amazon_ads.SCOPE] and query["state"] == ["signed-state"]
    back = requests.get(link, allow_redirects=False, timeout=5).headers["Location"]
    assert back.startswith(redirect_uri)
    answer = parse_qs(urlsplit(back).query)
    assert answer["state"] == ["signed-state"]
    connector.exchange_code(answer["code"][0])
    refresh = connector.context.tokens.get(lwa.REFRESH)
    assert refresh in stand_in.refresh_tokens
    lwa.forget(connector.context)
    connector.test()  # a fresh access token from the refresh token the consent gave
    with pytest.raises(ConnectorError) as reused:
        connector.exchange_code(answer["code"][0])
    assert reused.value.failure == Failure.auth_expired  # invalid_grant: a code works once


def test_no_credentials_no_form():
    with pytest.raises(ConnectorError):
        lwa.token_form({"client_id": "a", "client_secret": "b"})
    assert lwa.token_form({"client_id": "a", "client_secret": "b"}, "Atzr|x")["refresh_token"] == "Atzr|x"


def test_a_backfill_requests_a_burst_of_reports_before_awaiting_the_first(stand_in):
    connector, _ = sp(stand_in)
    documents = list(connector.pull(DataKind.sales, date(2026, 11, 1), date(2026, 11, 16)))  # 16 days
    assert [d.date_from for d in documents] == [date(2026, 11, n) for n in range(1, 17)]
    order = [method for method, path, _ in calls(stand_in, "/reports/2021-06-30/reports")]
    batch = amazon_sp.CREATE_BATCH
    assert order[:batch] == ["POST"] * batch and order[batch] == "GET"  # 15 made side by side
    assert order.count("POST") == 16 and order[-3] == "POST"  # the 16th after the first 15 were read


def sp_without_refresh_token(stand_in, **settings):
    credentials = {k: v for k, v in SP_CREDENTIALS.items() if k != "refresh_token"}
    return make("amazon_sp", stand_in, credentials, {"marketplace_id": "ATVPDKIKX0DER",
                                                     "application_id": fake.SP_APPLICATION_ID,
                                                     "redirect_uri": "https://kpi.example/connections/callback",
                                                     **settings})[0]


def test_the_sp_api_authorisation_link_gives_a_seller_id_and_a_code_that_buys_a_refresh_token(stand_in):
    from urllib.parse import parse_qs, urlsplit

    import requests

    connector = sp_without_refresh_token(stand_in)
    link = connector.authorize_url("signed-state")
    assert urlsplit(link).path == amazon_sp.CONSENT_PATH and "version" not in parse_qs(urlsplit(link).query)
    back = requests.get(link, allow_redirects=False, timeout=5).headers["Location"]
    answer = parse_qs(urlsplit(back).query)
    assert back.startswith("https://kpi.example/connections/callback?")
    assert answer["state"] == ["signed-state"] and answer["selling_partner_id"] == [fake.SP_SELLER_ID]
    connector.exchange_code(answer["spapi_oauth_code"][0])
    assert connector.context.tokens.get(lwa.REFRESH) in stand_in.refresh_tokens
    lwa.forget(connector.context)
    connector.test()  # SP-API answers with an access token bought by that refresh token
    with pytest.raises(ConnectorError) as reused:
        connector.exchange_code(answer["spapi_oauth_code"][0])
    assert reused.value.failure == Failure.auth_expired


def test_the_real_sp_api_link_goes_to_the_marketplaces_seller_central():
    from urllib.parse import parse_qs, urlsplit

    settings = {"marketplace_id": "A1PA6795UKMFR9", "application_id": "amzn1.sp.solution.x", "beta": True,
                "redirect_uri": "https://kpi.example/connections/callback"}
    connector = amazon_sp.AmazonSP(Context("AMZ-DE", {}, settings, MemoryTokens(), amazon_sp.REGION_HOSTS["EU"],
                                           Client()))
    link = urlsplit(connector.authorize_url("st"))
    assert (link.scheme, link.netloc, link.path) == ("https", "sellercentral.amazon.de", "/apps/authorize/consent")
    assert parse_qs(link.query) == {"application_id": ["amzn1.sp.solution.x"], "state": ["st"],
                                    "redirect_uri": [settings["redirect_uri"]], "version": ["beta"]}
    del settings["application_id"]
    with pytest.raises(ConnectorError):
        connector.authorize_url("st")
