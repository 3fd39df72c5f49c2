"""Amazon Selling Partner API: reports through the Reports API 2021-06-30 (INTEGRATIONS.md §1).

createReport -> getReport (polled with backoff until DONE / CANCELLED / FATAL) ->
getReportDocument -> download the presigned URL (GZIP when compressionAlgorithm says so).
The bytes go to the import service unchanged, with the parser key of the upload they equal:

  sales       GET_SALES_AND_TRAFFIC_REPORT, one report per day (the by-ASIN part has no date)
  orders      GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL over the range (UTC days)
  inventory   GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA, a snapshot of today (no history in the API)
  settlement  GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2: Amazon makes them every ~14 days; we
              list the DONE ones created in the range (getReports) and never request one
  health      GET_V2_SELLER_PERFORMANCE_REPORT (Account Health JSON): today's rolling-window
              counts of ODR, late shipment and valid tracking, a snapshot like inventory

CANCELLED means "no data for this range" and yields nothing. Authorisation is LWA alone
(`x-amz-access-token`; SigV4 is gone since Oct 2023). Rate limits: a token bucket per operation
with the documented default rate and burst, re-rated from `x-amzn-RateLimit-Limit` on every
answer; 429 and 5xx are retried by http.Client (backoff, full jitter). Waits go through the
client's sleep, so tests run on a frozen clock.

We do not use python-amazon-sp-api: its LWA host is a class constant and its token cache a
process-wide TTLCache (not our sealed per-connection TokenStore), and its throttling retries
sleep inside the library instead of through http.Client. Pointing it at the stand-in and
testing it on a frozen clock would mean patching its internals; the four calls above are
short enough to own.
"""
from __future__ import annotations

import gzip
import json
import platform
import time
import zlib
from datetime import date, datetime, time as clock_time, timedelta, timezone
from typing import Iterator
from urllib.parse import urlencode

from kpiapp.connectors import lwa
from kpiapp.connectors.base import Connector, ConnectorError, DataKind, Document, Failure, register

REGION_HOSTS = {
    "NA": "https://sellingpartnerapi-na.amazon.com",
    "EU": "https://sellingpartnerapi-eu.amazon.com",
    "FE": "https://sellingpartnerapi-fe.amazon.com",
}
MARKETPLACE_REGIONS = {
    "ATVPDKIKX0DER": "NA", "A2EUQ1WTGCTBG2": "NA", "A1AM78C64UM0Y8": "NA", "A2Q3Y263D00KWC": "NA",
    "A1F83G8C2ARO7P": "EU", "A1PA6795UKMFR9": "EU", "A13V1IB3VIYZZH": "EU", "APJ6JRA9NG5V4": "EU",
    "A1RKKUPIHCS9HS": "EU", "A1805IZSGTT6HS": "EU", "A2NODRKZP88ZB9": "EU", "A1C3SOZRARQ6R3": "EU",
    "A33AVAJ2PDY3EV": "EU", "A2VIGQ35RCS4UG": "EU", "A17E79C6D8DWNP": "EU", "ARBP9OOSHTCHU": "EU",
    "A21TJRUUN4KGV": "EU", "AMEN7PMS3EDWL": "EU",
    "A1VC38T7YXB528": "FE", "A39IBJ37TRP1C6": "FE", "A19VAU5U5O7RUS": "FE",
}
# Seller Central of each marketplace: where a seller authorises the app (the website workflow)
SELLER_CENTRAL = {
    "ATVPDKIKX0DER": "sellercentral.amazon.com", "A2EUQ1WTGCTBG2": "sellercentral.amazon.ca",
    "A1AM78C64UM0Y8": "sellercentral.amazon.com.mx", "A2Q3Y263D00KWC": "sellercentral.amazon.com.br",
    "A1F83G8C2ARO7P": "sellercentral.amazon.co.uk", "A1PA6795UKMFR9": "sellercentral.amazon.de",
    "A13V1IB3VIYZZH": "sellercentral.amazon.fr", "APJ6JRA9NG5V4": "sellercentral.amazon.it",
    "A1RKKUPIHCS9HS": "sellercentral.amazon.es", "A1805IZSGTT6HS": "sellercentral.amazon.nl",
    "A2NODRKZP88ZB9": "sellercentral.amazon.se", "A1C3SOZRARQ6R3": "sellercentral.amazon.pl",
    "A33AVAJ2PDY3EV": "sellercentral.amazon.com.tr", "A2VIGQ35RCS4UG": "sellercentral.amazon.ae",
    "A17E79C6D8DWNP": "sellercentral.amazon.sa", "ARBP9OOSHTCHU": "sellercentral.amazon.eg",
    "A21TJRUUN4KGV": "sellercentral.amazon.in", "AMEN7PMS3EDWL": "sellercentral.amazon.com.be",
    "A1VC38T7YXB528": "sellercentral.amazon.co.jp", "A39IBJ37TRP1C6": "sellercentral.amazon.com.au",
    "A19VAU5U5O7RUS": "sellercentral.amazon.sg",
}
CONSENT_PATH = "/apps/authorize/consent"
LWA_URL = lwa.TOKEN_URLS["NA"]  # SP-API exchanges tokens at api.amazon.com for every region
REPORTS = "/reports/2021-06-30"
USER_AGENT = f"kpiapp/1.0 (Language=Python/{platform.python_version()}; Platform={platform.system()})"

REPORT_TYPES = {
    DataKind.sales: "GET_SALES_AND_TRAFFIC_REPORT",
    DataKind.orders: "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL",
    DataKind.inventory: "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA",
    DataKind.settlement: "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2",
    DataKind.health: "GET_V2_SELLER_PERFORMANCE_REPORT",
}
PARSERS = {DataKind.sales: "amazon_sales_traffic_json", DataKind.orders: "amazon_orders",
           DataKind.inventory: "amazon_inventory", DataKind.settlement: "amazon_settlement",
           DataKind.health: "amazon_account_health"}
JSON_KINDS = (DataKind.sales, DataKind.health)
SALES_OPTIONS = {"dateGranularity": "DAY", "asinGranularity": "CHILD"}
# default usage plans (requests per second, burst), INTEGRATIONS.md §1.4
USAGE_PLANS = {"createReport": (0.0167, 15), "getReport": (2.0, 15), "getReportDocument": (0.0167, 15),
               "getReports": (0.0222, 10)}
POLL_DELAYS = (2, 4, 8, 15, 30, 60)  # seconds between getReport calls; then 60 s each
POLL_BUDGET = 60  # polls (about 55 minutes), then Failure.report_timeout
DONE, CANCELLED, FATAL = "DONE", "CANCELLED", "FATAL"
CREATE_BATCH = USAGE_PLANS["createReport"][1]  # reports requested before the first is awaited


class Bucket:
    """A token bucket for one operation: how long to wait before the next call."""

    def __init__(self, rate: float, burst: int, clock=time.monotonic):
        self.rate, self.burst, self.clock = rate, burst, clock
        self.tokens, self.stamp = float(burst), clock()

    def wait(self) -> float:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        self.tokens -= 1  # below zero: a debt the next calls wait for
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate

    def rerate(self, header: str | None) -> None:
        try:
            rate = float(header) if header else 0.0
        except ValueError:
            return
        if rate > 0:
            self.rate = rate


def poll_delay(attempt: int) -> int:
    return POLL_DELAYS[min(attempt, len(POLL_DELAYS) - 1)]


def utc_stamp(day: date) -> str:
    """The start of a UTC day in the ISO 8601 form the Reports API takes."""
    return datetime.combine(day, clock_time(), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def each_day(first: date, last: date) -> Iterator[date]:
    while first <= last:
        yield first
        first += timedelta(days=1)


def check_document(content: bytes, gzipped: bool, is_json: bool) -> None:
    """Refuse a document cut short: a gzip stream without its end, or JSON that does not close."""
    try:
        text = gunzip_whole(content) if gzipped else content
        if is_json:
            json.loads(text)
    except (EOFError, OSError, zlib.error, ValueError) as error:
        raise ConnectorError(Failure.truncated, type(error).__name__) from error


def gunzip_whole(content: bytes) -> bytes:
    return gzip.decompress(content)  # raises EOFError when the stream ends early


@register
class AmazonSP(Connector):
    platform = "amazon_sp"
    kinds = (DataKind.sales, DataKind.orders, DataKind.inventory, DataKind.settlement, DataKind.health)
    credential_fields = ("client_id", "client_secret", "refresh_token")
    # application_id: the app's id (amzn1.sp.solution...) for the authorisation link;
    # selling_partner_id: the seller who authorised it, as Amazon sends it back
    setting_fields = ("marketplace_id", "application_id", "selling_partner_id")
    default_base_url = REGION_HOSTS["NA"]
    # sales: one report a day, and createReport and getReportDocument each allow one call a minute
    # after a burst of 15, so a 30-day catch-up needs tens of minutes
    seconds_per_day = {DataKind.sales: 120}

    @classmethod
    def base_url_for(cls, settings: dict) -> str:
        """The regional host of the store's marketplace (services.platform_base_url asks)."""
        region = MARKETPLACE_REGIONS.get(settings.get("marketplace_id") or "")
        return REGION_HOSTS.get(region, cls.default_base_url)

    def __init__(self, context):
        super().__init__(context)
        self.buckets = {name: Bucket(*plan) for name, plan in USAGE_PLANS.items()}

    # ---- where to call --------------------------------------------------------------------

    @property
    def marketplace_id(self) -> str:
        marketplace = (self.context.settings.get("marketplace_id") or "").strip()
        if not marketplace:
            raise ConnectorError(Failure.bad_response, "no marketplace_id in the connection settings")
        return marketplace

    @property
    def stand_in(self) -> bool:
        """True when --endpoint points us elsewhere: token and API calls then both go there."""
        base = (self.context.base_url or "").rstrip("/")
        return bool(base) and base not in REGION_HOSTS.values()

    def api_base(self) -> str:
        if self.stand_in:
            return self.context.base_url.rstrip("/")
        region = MARKETPLACE_REGIONS.get(self.marketplace_id)
        if region is None:
            raise ConnectorError(Failure.not_supported, f"unknown marketplace {self.marketplace_id}")
        return REGION_HOSTS[region]

    def token_url(self) -> str:
        return self.api_base() + lwa.TOKEN_PATH if self.stand_in else LWA_URL

    # ---- the seller's authorisation (website workflow) -----------------------------------------

    def authorize_url(self, state: str) -> str:
        """Seller Central's consent page of the store's marketplace. Amazon sends the seller back
        to redirect_uri with `spapi_oauth_code`, `state` and `selling_partner_id`; an app still
        in draft needs `version=beta` (SPAPI_DRAFT_APP)."""
        application_id = (self.context.settings.get("application_id") or "").strip()
        if not application_id:
            raise ConnectorError(Failure.auth_failed, "no application_id in the connection settings")
        if self.stand_in:
            base = self.api_base() + CONSENT_PATH
        else:
            base = f"https://{SELLER_CENTRAL.get(self.marketplace_id, SELLER_CENTRAL['ATVPDKIKX0DER'])}{CONSENT_PATH}"
        query = {"application_id": application_id, "state": state,
                 "redirect_uri": self.context.settings["redirect_uri"]}
        if self.context.settings.get("beta"):
            query["version"] = "beta"
        return f"{base}?{urlencode(query)}"

    def exchange_code(self, code: str) -> None:
        lwa.exchange_code(self.context, self.token_url(), code, self.context.settings["redirect_uri"])

    # ---- the contract -----------------------------------------------------------------------

    def test(self) -> None:
        """One getReports call: proves the token exchange and the seller's authorisation."""
        self.call("getReports", "GET", REPORTS + "/reports",
                  params={"reportTypes": REPORT_TYPES[DataKind.settlement], "pageSize": 1,
                          "marketplaceIds": self.marketplace_id})

    def pull(self, kind, date_from, date_to):
        kind = DataKind(kind)
        if kind == DataKind.sales:
            days = [(day, day) for day in each_day(date_from, date_to)]
            yield from self.requested(kind, days, SALES_OPTIONS)
        elif kind == DataKind.orders:
            yield from self.requested(kind, [(date_from, date_to)])
        elif kind in (DataKind.inventory, DataKind.health):  # snapshots of now: the API keeps no history
            today = self.context.now().date()
            yield from self.requested(kind, [(today, today)])
        elif kind == DataKind.settlement:
            yield from self.listed(date_from, date_to)
        else:
            raise ConnectorError(Failure.not_supported, f"{self.platform} has no {kind}")

    # ---- the Reports API flow -----------------------------------------------------------------

    def requested(self, kind, spans: list, options=None) -> Iterator[Document]:
        """One report per (first, last) span: a createReport burst at a time, so Amazon makes
        them side by side, then each awaited in order; a CANCELLED one (no data) yields nothing."""
        for start in range(0, len(spans), CREATE_BATCH):
            batch = [(first, last, self.create(REPORT_TYPES[kind], first, last, options))
                     for first, last in spans[start:start + CREATE_BATCH]]
            for first, last, report_id in batch:
                report = self.wait_for(report_id)
                if report is not None:
                    yield self.document(kind, report["reportDocumentId"], first, last)

    def listed(self, first: date, last: date) -> Iterator[Document]:
        """Settlement reports Amazon made between first and last (by creation time)."""
        for report in self.settlement_reports(first, last):
            yield self.document(DataKind.settlement, report["reportDocumentId"], None, None,
                                name=report.get("reportId"))

    def settlement_reports(self, first: date, last: date) -> list[dict]:
        params = {"reportTypes": REPORT_TYPES[DataKind.settlement], "processingStatuses": DONE,
                  "marketplaceIds": self.marketplace_id, "pageSize": 100,
                  "createdSince": utc_stamp(first), "createdUntil": utc_stamp(last + timedelta(days=1))}
        found = []
        while True:
            body = self.call("getReports", "GET", REPORTS + "/reports", params=params)
            found += [r for r in body.get("reports", []) if r.get("reportDocumentId")]
            if not body.get("nextToken"):
                return found
            params = {"nextToken": body["nextToken"]}  # nextToken replaces every other filter

    def create(self, report_type: str, first: date, last: date, options=None) -> str:
        """createReport over whole UTC days; the report id."""
        body = {"reportType": report_type, "marketplaceIds": [self.marketplace_id],
                "dataStartTime": utc_stamp(first), "dataEndTime": f"{last.isoformat()}T23:59:59Z"}
        if options:
            body["reportOptions"] = options
        created = self.call("createReport", "POST", REPORTS + "/reports", json=body)
        if not created.get("reportId"):
            raise ConnectorError(Failure.bad_response, "createReport without reportId")
        return created["reportId"]

    def wait_for(self, report_id: str) -> dict | None:
        """getReport until DONE (the report), CANCELLED (None: no data) or FATAL (an error)."""
        for attempt in range(POLL_BUDGET):
            report = self.call("getReport", "GET", f"{REPORTS}/reports/{report_id}")
            status = report.get("processingStatus")
            if status == DONE:
                return report
            if status == CANCELLED:
                return None
            if status == FATAL:
                raise ConnectorError(Failure.report_fatal, f"report {report_id} FATAL")
            self.context.http.sleep(poll_delay(attempt))
        raise ConnectorError(Failure.report_timeout, f"report {report_id} not DONE after {POLL_BUDGET} polls")

    def document(self, kind, document_id, first, last, name=None) -> Document:
        meta = self.call("getReportDocument", "GET", f"{REPORTS}/documents/{document_id}")
        if not meta.get("url"):
            raise ConnectorError(Failure.bad_response, "getReportDocument without url")
        content = self.download(meta["url"])
        gzipped = (meta.get("compressionAlgorithm") or "").upper() == "GZIP"
        check_document(content, gzipped, kind in JSON_KINDS)
        return Document(kind, PARSERS[kind], self.filename(kind, first, last, name, gzipped), content,
                        first, last)

    def download(self, url: str) -> bytes:
        """The presigned URL with a plain GET: no access token (S3 refuses a second credential)."""
        response = self.context.http.get(url, headers={"User-Agent": USER_AGENT})
        if response.status_code != 200:
            raise ConnectorError(Failure.bad_response, f"document download HTTP {response.status_code}")
        return response.content

    def filename(self, kind, first, last, name, gzipped) -> str:
        suffix = ".json" if kind in JSON_KINDS else ".txt"
        span = name or (first.isoformat() if first == last else f"{first}_{last}")
        return f"{self.context.store_code}_{kind}_{span}{suffix}" + (".gz" if gzipped else "")

    # ---- one call -------------------------------------------------------------------------------

    def call(self, operation: str, method: str, path: str, **kwargs) -> dict:
        """One SP-API operation, paced by its bucket; an expired token is refreshed once."""
        for retry in (False, True):
            self.pace(operation)
            response = self.context.http.request(method, self.api_base() + path,
                                                 headers=self.headers(), **kwargs)
            self.buckets[operation].rerate(response.headers.get("x-amzn-RateLimit-Limit"))
            if response.status_code in (401, 403) and not retry and token_expired(response):
                lwa.forget(self.context)
                continue
            return self.answer(operation, response)
        raise AssertionError("unreachable")

    def pace(self, operation: str) -> None:
        seconds = self.buckets[operation].wait()
        if seconds > 0:
            self.context.http.sleep(seconds)

    def headers(self) -> dict:
        return {"x-amz-access-token": lwa.access_token(self.context, self.token_url()),
                "x-amz-date": self.context.now().strftime("%Y%m%dT%H%M%SZ"),
                "User-Agent": USER_AGENT, "Accept": "application/json"}

    def answer(self, operation: str, response) -> dict:
        if response.status_code in (401, 403):
            raise ConnectorError(Failure.auth_failed, f"{operation} HTTP {response.status_code}")
        if response.status_code not in (200, 202):
            raise ConnectorError(Failure.bad_response, f"{operation} HTTP {response.status_code}")
        body = lwa.json_or_empty(response)
        if not body:
            raise ConnectorError(Failure.bad_response, f"{operation} answered no JSON object")
        return body


def token_expired(response) -> bool:
    """Amazon's 403 for an access token past its hour says so in the error details."""
    return "expired" in response.text.lower()
