"""Stand-in for Login with Amazon, the SP-API Reports API and the Ads API v3 reports.

Mounted at / by the stand-in host (`kpi fake-marketplace`), so a connector whose base URL is
the stand-in calls the real paths: /auth/o2/token, /reports/2021-06-30/..., /reporting/reports,
/v2/profiles. It checks what Amazon checks (INTEGRATIONS.md §9): form-encoded LWA requests with
known app credentials and refresh token; an access token it issued, under an hour old, in
`x-amz-access-token` (SP-API) or `Authorization: Bearer` with the client id and a known profile
in `Amazon-Advertising-API-Scope` (Ads); the SP-API User-Agent form; non-empty marketplaceIds;
the vnd Content-Type on Ads report creation. Buckets per (seller, operation) answer 429 with
`x-amzn-RateLimit-Limit` (SP-API) or `Retry-After` (Ads) when a burst empties them.
Reports go IN_QUEUE -> IN_PROGRESS -> DONE (Ads: PENDING -> PROCESSING -> COMPLETED) over two
polls; documents are gzip behind a "presigned" URL that lives five minutes and refuses an
access token or Authorization header.

Data: the demo generator (kpiapp/demo/marketplace.py). A Sales and Traffic report for a day
is `sales_traffic_json(store, data, day, day)`; inventory is that day's MYI snapshot file;
orders are the lines of the demo all-orders file purchased in the range; the settlement is the
demo's; Ads rows are the demo console report's rows of those days, in API form.

Failure switches: POST /_fake/fail on the host ({"platform": "amazon_sp" | "amazon_ads" | "amazon"})
or `fail(state, name)` in tests:
  expired_token  LWA refuses the refresh token (invalid_grant) and every access token is expired
  fatal          reports created from now on end FATAL (Ads: FAILED)
  truncated      documents made from now on are cut in half
  throttle       every API call answers 429 while on (fail(): the next THROTTLED_CALLS calls)
"""
from __future__ import annotations

import gzip
import json
import random
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from urllib.parse import urlencode

from flask import Blueprint, current_app, jsonify, redirect, request

from kpiapp.connectors.fake import data
from kpiapp.demo.marketplace import (AMAZON, DEMO_TODAY, FIRST_DAY, MARKETPLACE_IDS, currency,
                                     sales_traffic_json)

bp = Blueprint("fake_amazon", __name__)

# Demo credentials (docs/connectors.md): one SP-API app and one Ads app of one seller.
SP_CLIENT_ID = "amzn1.application-oa2-client.kpiappdemosp"
SP_CLIENT_SECRET = "kpiapp-demo-sp-secret"
SP_REFRESH_TOKEN = "Atzr|kpiapp-demo-sp-refresh"
SP_APPLICATION_ID = "amzn1.sp.solution.kpiapp-demo"
SP_SELLER_ID = "A3KPIAPPDEMO01"
ADS_CLIENT_ID = "amzn1.application-oa2-client.kpiappdemoads"
ADS_CLIENT_SECRET = "kpiapp-demo-ads-secret"
ADS_REFRESH_TOKEN = "Atzr|kpiapp-demo-ads-refresh"
CLIENTS = {SP_CLIENT_ID: (SP_CLIENT_SECRET, SP_REFRESH_TOKEN),
           ADS_CLIENT_ID: (ADS_CLIENT_SECRET, ADS_REFRESH_TOKEN)}
PROFILES = {"3110000000001": "AMZ-US", "3110000000002": "AMZ-DE", "3110000000003": "AMZ-JP",
            "3110000000004": "AMZ-UK"}
# what the demo stores are connected with (fake/common.py reads these dicts of a platform module)
DEMO_CREDENTIALS = {
    "amazon_sp": {"client_id": SP_CLIENT_ID, "client_secret": SP_CLIENT_SECRET,
                  "refresh_token": SP_REFRESH_TOKEN},
    "amazon_ads": {"client_id": ADS_CLIENT_ID, "client_secret": ADS_CLIENT_SECRET,
                   "refresh_token": ADS_REFRESH_TOKEN},
}
DEMO_SETTINGS = {"amazon_sp": {"marketplace_id": "ATVPDKIKX0DER", "application_id": SP_APPLICATION_ID},
                 "amazon_ads": {"profile_id": "3110000000001", "region": "NA"}}


def demo_store_settings(store_code: str) -> dict:
    """{platform: settings} for one demo Amazon store (AMZ-US, AMZ-DE, AMZ-JP, AMZ-UK)."""
    profile = next(pid for pid, code in PROFILES.items() if code == store_code)
    region = {"AMZ-US": "NA", "AMZ-JP": "FE"}.get(store_code, "EU")
    return {"amazon_sp": {"marketplace_id": MARKETPLACE_IDS[store_code], "application_id": SP_APPLICATION_ID},
            "amazon_ads": {"profile_id": profile, "region": region}}
TOKEN_LIFETIME = 3600
URL_LIFETIME = timedelta(minutes=5)
THROTTLED_CALLS = 2
FAILURES = ("expired_token", "fatal", "truncated", "throttle")
# the stand-in's usage plans (rate/s, burst): faster than Amazon's so demo backfills finish,
# announced in x-amzn-RateLimit-Limit so the connector paces itself by them
PLANS = {"createReport": (1.0, 15), "getReport": (2.0, 15), "getReportDocument": (1.0, 15),
         "getReports": (1.0, 10), "ads": (5.0, 20)}
SP_AGENT_PREFIX = "(Language="
REPORT_TYPES = ("GET_SALES_AND_TRAFFIC_REPORT", "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL",
                "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA", "GET_V2_SELLER_PERFORMANCE_REPORT")
SETTLEMENT = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
ADS_CREATE_TYPE = "application/vnd.createasyncreportrequest.v3+json"
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def utc_now():
    return datetime.now(timezone.utc)


@dataclass
class Bucket:
    rate: float
    burst: int
    tokens: float
    stamp: datetime

    def take(self, now: datetime) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp).total_seconds() * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


@dataclass
class State:
    """Everything the stand-in remembers; `clock` and `offset` let tests move time."""

    clock: object = utc_now
    offset: timedelta = timedelta(0)
    tokens: dict = field(default_factory=dict)  # access token -> (client id, issued at)
    reports: dict = field(default_factory=dict)  # report id -> dict
    documents: dict = field(default_factory=dict)  # document id -> bytes
    urls: dict = field(default_factory=dict)  # url key -> (document id, issued at)
    buckets: dict = field(default_factory=dict)
    failures: set = field(default_factory=set)
    throttled: int = 0
    codes: dict = field(default_factory=dict)  # consent code -> (client id, redirect_uri, issued at)
    refresh_tokens: dict = field(default_factory=dict)  # refresh token issued for a code -> client id
    calls: list = field(default_factory=list)  # (method, path, lower-cased headers) of API calls

    def now(self) -> datetime:
        return self.clock() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


def fail(state: State, failure: str) -> None:
    """Turn a failure switch on; an empty name turns every switch off."""
    if not failure:
        state.failures.clear()
        state.throttled = 0
        return
    if failure not in FAILURES:
        raise ValueError(f"unknown failure {failure}")
    state.failures.add(failure)
    if failure == "throttle":
        state.throttled = THROTTLED_CALLS


@bp.record_once
def setup(setup_state):
    app = setup_state.app
    host = app.extensions.get("fake_marketplace")  # the stand-in host (fake/__init__.py): its clock
    clock = (lambda: datetime.fromtimestamp(host.now(), timezone.utc)) if host is not None else utc_now
    app.extensions.setdefault("fake_amazon", State(clock=clock))


def state() -> State:
    return current_app.extensions["fake_amazon"]


def failing(name: str, platform: str) -> bool:
    """A switch is on here (fail()) or in the host (POST /_fake/fail for amazon_sp, amazon_ads
    or "amazon", which means both)."""
    if name in state().failures:
        return True
    host = current_app.extensions.get("fake_marketplace")
    return host is not None and name in (host.failures.get(platform), host.failures.get("amazon"))


# ---- the demo's data (kpiapp/connectors/fake/data.py: the seed's files and simulation) ----------

def demo_files() -> dict:
    """{filename: bytes} of the demo seed's uploads (seeded: always the same)."""
    return {filename: content for _store, filename, content, _options in data.uploads()}


def sales_document(store: str, day: date) -> bytes | None:
    """The seed's sales_traffic_json for that one day (days after the demo's are simulated)."""
    if store not in data.stores() or day < FIRST_DAY:
        return None
    return sales_traffic_json(store, {day: data.day(store, day)}, day, day)


def inventory_document(store: str, day: date) -> bytes | None:
    """That day's MYI snapshot; after the demo's last day, its last snapshot (stock as of then)."""
    day = min(day, DEMO_TODAY)
    return demo_files().get(f"fba_myi_{store}_{day:%Y%m%d}.txt")


def orders_document(store: str, first: datetime, last: datetime) -> bytes | None:
    """The demo all-orders lines purchased in [first, last]; None when there are none."""
    content = data.uploaded_file(store, "all_orders_")
    if content is None:
        return None
    head, *lines = content.decode().splitlines()
    kept = [line for line in lines if first <= datetime.fromisoformat(line.split("\t")[1]) <= last]
    return ("\n".join([head, *kept]) + "\n").encode() if kept else None


def settlements(store: str) -> list[tuple[str, bytes]]:
    return [(filename.removeprefix("settlement_").removesuffix(".txt"), content)
            for code, filename, content, _options in data.uploads()
            if code == store and filename.startswith("settlement_")]


def ads_rows(store: str, first: date, last: date) -> list[dict]:
    """The demo console report's rows of [first, last] as Ads API v3 spCampaigns rows."""
    if store not in data.stores():
        return []
    return [{"date": row["date"], "campaignName": row["campaign"],
             "campaignBudgetCurrencyCode": row["currency"], "impressions": int(row["impressions"]),
             "clicks": int(row["clicks"]), "cost": number(row["spend"]), "purchases7d": int(row["orders"]),
             "sales7d": number(row["sales"])}
            for row in data.ads_rows(store, max(first, FIRST_DAY), last)]


def health_document(store: str, day: date) -> bytes | None:
    """An Account Health report of `day`: windows over the demo's order items, defects drawn
    from a stream of (store, day), so the same day always reads the same."""
    if store not in data.stores() or day < FIRST_DAY:
        return None
    rng = random.Random(f"health:{store}:{day}")
    orders = {n: order_items(store, day, n) for n in (30, 60)}
    mfn, shipped = round(orders[60] * 0.15), round(orders[30] * 0.15)  # 15% seller-fulfilled
    late = round(shipped * rng.uniform(0.005, 0.05))
    valid = shipped - round(shipped * rng.uniform(0, 0.06))
    metric = {
        "marketplaceId": MARKETPLACE_IDS[store],
        "orderDefectRate": {"mfn": odr(mfn, rng, day, "mfn"), "afn": odr(orders[60] - mfn, rng, day, "afn")},
        "lateShipmentRate": rate_metric(day, 30, {"orderCount": shipped, "lateShipmentCount": late},
                                        0.04, "LESS_THAN"),
        "validTrackingRate": rate_metric(day, 30, {"shipmentCount": shipped, "validTrackingCount": valid},
                                         0.95, "GREATER_THAN")}
    doc = {"accountStatuses": [{"marketplaceId": MARKETPLACE_IDS[store], "status": "NORMAL"}],
           "performanceMetrics": [metric]}
    return json.dumps(doc).encode()


def order_items(store: str, day: date, days: int) -> int:
    first = max(FIRST_DAY, day - timedelta(days=days - 1))
    return sum(data.day(store, d).order_items for d in data.days(first, day))


def window(day: date, days: int) -> dict:
    first = day - timedelta(days=days - 1)
    return {"reportingDateFrom": f"{first}T00:00Z", "reportingDateTo": f"{day}T23:59Z"}


def rate_metric(day: date, days: int, counts: dict, target: float, condition: str) -> dict:
    """A rate metric: counts (part first, whole second), its rate, status and target."""
    part, whole = list(counts.values())
    rate = round(part / whole, 4) if whole else 0
    good = rate < target if condition == "LESS_THAN" else rate > target
    return {"reportingDateRange": window(day, days), **counts, "status": "GOOD" if good else "BAD",
            "rate": rate, "targetValue": target, "targetCondition": condition}


def odr(orders: int, rng, day: date, channel: str) -> dict:
    defects = round(orders * rng.uniform(0.001, 0.009))
    metric = rate_metric(day, 60, {"orderWithDefects": defects, "orderCount": orders}, 0.01, "LESS_THAN")
    metric["orderWithDefects"] = {"count": defects, "status": metric["status"]}
    metric.update(claims={"count": 0, "status": "NONE"}, chargebacks={"count": 0, "status": "NONE"},
                  negativeFeedback={"count": defects, "status": "NONE"}, fulfillmentType=channel)
    return metric


def number(text: str):
    """A console money cell as the API's JSON number: 12.30 -> 12.3, 1234 (JPY) -> 1234."""
    value = Decimal(text)
    return int(value) if "." not in text else float(value)


def gzipped(content: bytes) -> bytes:
    return gzip.compress(content, mtime=0)  # mtime 0: the same report is the same bytes


# ---- Login with Amazon ---------------------------------------------------------------------------

def lwa_error(status, error, description):
    return jsonify(error=error, error_description=description), status


@bp.get("/ap/oa")
def consent():
    """LWA's consent page, consenting at once: back to redirect_uri with a code and the state."""
    args = request.args
    if args.get("client_id") != ADS_CLIENT_ID or args.get("response_type") != "code" \
            or not args.get("redirect_uri"):
        return lwa_error(400, "invalid_request", "client_id, response_type=code and redirect_uri are needed.")
    code = "ANkzRtDemo" + secrets.token_urlsafe(12)
    state().codes[code] = (args["client_id"], args["redirect_uri"], state().now())
    separator = "&" if "?" in args["redirect_uri"] else "?"
    query = urlencode({"code": code, "state": args.get("state", "")})
    return redirect(f"{args['redirect_uri']}{separator}{query}")


@bp.get("/apps/authorize/consent")
def seller_central_consent():
    """Seller Central's consent page for an SP-API app, consenting at once: back to redirect_uri
    with spapi_oauth_code, the state and the seller's id (the website workflow)."""
    args = request.args
    if args.get("application_id") != SP_APPLICATION_ID or not args.get("redirect_uri"):
        return lwa_error(400, "invalid_request", "A known application_id and a redirect_uri are needed.")
    code = "ANspDemo" + secrets.token_urlsafe(12)
    state().codes[code] = (SP_CLIENT_ID, args["redirect_uri"], state().now())
    separator = "&" if "?" in args["redirect_uri"] else "?"
    query = urlencode({"spapi_oauth_code": code, "state": args.get("state", ""), "selling_partner_id": SP_SELLER_ID})
    return redirect(f"{args['redirect_uri']}{separator}{query}")


@bp.post("/auth/o2/token")
def token():
    if request.mimetype != "application/x-www-form-urlencoded":
        return lwa_error(400, "invalid_request", "The request must be form-encoded.")
    form = request.form
    if form.get("grant_type") not in ("refresh_token", "authorization_code"):
        return lwa_error(400, "unsupported_grant_type", "Use refresh_token or authorization_code.")
    secret, refresh = CLIENTS.get(form.get("client_id", ""), (None, None))
    if secret is None or form.get("client_secret") != secret:
        return lwa_error(401, "invalid_client", "Client authentication failed.")
    platform = "amazon_sp" if form.get("client_id") == SP_CLIENT_ID else "amazon_ads"
    if form["grant_type"] == "authorization_code":
        refresh = redeem(form)
    elif form.get("refresh_token") == refresh or state().refresh_tokens.get(form.get("refresh_token")) == \
            form["client_id"]:
        refresh = form["refresh_token"]
    else:
        refresh = None
    if refresh is None or failing("expired_token", platform):
        return lwa_error(400, "invalid_grant", "The request has an invalid grant parameter.")
    access = "Atza|" + secrets.token_urlsafe(24)
    state().tokens[access] = (form["client_id"], state().now())
    return jsonify(access_token=access, refresh_token=refresh, token_type="bearer", expires_in=TOKEN_LIFETIME)


def redeem(form) -> str | None:
    """A new refresh token for a consent code: once, within five minutes, same redirect_uri."""
    client_id, redirect_uri, issued = state().codes.pop(form.get("code", ""), (None, None, None))
    if client_id != form["client_id"] or redirect_uri != form.get("redirect_uri") \
            or state().now() - issued > URL_LIFETIME:
        return None
    refresh = "Atzr|" + secrets.token_urlsafe(24)
    state().refresh_tokens[refresh] = client_id
    return refresh


def token_problem(access: str | None, client_id: str) -> str | None:
    """Why an access token is refused, or None."""
    issued = state().tokens.get(access or "")
    if issued is None or issued[0] != client_id:
        return "The access token you provided is revoked, malformed or invalid."
    platform = "amazon_sp" if client_id == SP_CLIENT_ID else "amazon_ads"
    if failing("expired_token", platform) or (state().now() - issued[1]).total_seconds() >= TOKEN_LIFETIME:
        return "The access token you provided has expired."
    return None


# ---- SP-API Reports ----------------------------------------------------------------------------

def sp_error(status, code, message, details=""):
    return jsonify(errors=[{"code": code, "message": message, "details": details}]), status


def record_call() -> None:
    state().calls.append((request.method, request.path, {k.lower(): v for k, v in request.headers.items()}))


def sp_guard(operation: str):
    """The checks before any SP-API operation: a refusal response, or None."""
    record_call()
    problem = token_problem(request.headers.get("x-amz-access-token"), SP_CLIENT_ID)
    if problem:
        return sp_error(403, "Unauthorized", "Access to requested resource is denied.", problem)
    agent = request.headers.get("User-Agent", "")
    if "/" not in agent.split(" ")[0] or SP_AGENT_PREFIX not in agent or len(agent) > 500:
        return sp_error(400, "InvalidInput", "User-Agent must be AppId/AppVersion (Language=...).")
    if throttled("amazon_sp", operation):
        response = sp_error(429, "QuotaExceeded", "You exceeded your quota for the requested resource.")
        response[0].headers["x-amzn-RateLimit-Limit"] = str(PLANS[operation][0])
        return response
    return None


def throttled(platform: str, operation: str) -> bool:
    """429 now: fail(state, "throttle") throttles the next THROTTLED_CALLS calls, the host's
    switch every call while on; otherwise the (platform, operation) bucket decides."""
    current = state()
    if current.throttled > 0:
        current.throttled -= 1
        return True
    if failing("throttle", platform) and "throttle" not in current.failures:
        return True
    rate, burst = PLANS[operation]
    bucket = current.buckets.setdefault((platform, operation), Bucket(rate, burst, burst, current.now()))
    return not bucket.take(current.now())


def sp_answer(operation, body, status=200):
    response = jsonify(body)
    response.status_code = status
    response.headers["x-amzn-RateLimit-Limit"] = str(PLANS[operation][0])
    response.headers["x-amzn-RequestId"] = secrets.token_hex(8)
    return response


def store_of(marketplace_ids) -> str | None:
    if not isinstance(marketplace_ids, list) or len(marketplace_ids) != 1:
        return None
    return next((code for code in AMAZON if MARKETPLACE_IDS[code] == marketplace_ids[0]), None)


@bp.post("/reports/2021-06-30/reports")
def create_report():
    refused = sp_guard("createReport")
    if refused:
        return refused
    body = request.get_json(silent=True) or {}
    if not body.get("marketplaceIds"):
        return sp_error(400, "InvalidInput", "marketplaceIds is required and must not be empty.")
    store = store_of(body.get("marketplaceIds"))
    if body.get("reportType") not in REPORT_TYPES or store is None:
        return sp_error(400, "InvalidInput", "Unsupported reportType or marketplace for this seller.")
    try:
        start, end = stamp(body["dataStartTime"]), stamp(body["dataEndTime"])
    except (KeyError, ValueError):
        return sp_error(400, "InvalidInput", "dataStartTime and dataEndTime must be ISO 8601 date-times.")
    report_id = str(50000 + len(state().reports))
    state().reports[report_id] = {
        "reportId": report_id, "reportType": body["reportType"], "marketplaceIds": body["marketplaceIds"],
        "dataStartTime": body["dataStartTime"], "dataEndTime": body["dataEndTime"],
        "createdTime": state().now().strftime("%Y-%m-%dT%H:%M:%SZ"), "processingStatus": "IN_QUEUE",
        "polls": 0, "fatal": failing("fatal", "amazon_sp"), "store": store, "span": (start, end)}
    return sp_answer("createReport", {"reportId": report_id}, 202)


def stamp(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError("no time zone")
    return value


@bp.get("/reports/2021-06-30/reports/<report_id>")
def get_report(report_id):
    refused = sp_guard("getReport")
    if refused:
        return refused
    report = state().reports.get(report_id)
    if report is None or report.get("ads"):
        return sp_error(404, "NotFound", "The report does not exist.")
    advance(report)
    return sp_answer("getReport", public(report))


def advance(report: dict) -> None:
    report["polls"] += 1
    if report["processingStatus"] in ("DONE", "CANCELLED", "FATAL"):
        return
    if report["polls"] < 2:
        report["processingStatus"] = "IN_PROGRESS"
    elif report["fatal"]:
        report["processingStatus"] = "FATAL"
    else:
        content = report_content(report)
        report["processingStatus"] = "DONE" if content is not None else "CANCELLED"
        if content is not None:
            report["reportDocumentId"] = save_document(content, "amazon_sp")
        report["processingEndTime"] = state().now().strftime("%Y-%m-%dT%H:%M:%SZ")


def report_content(report: dict) -> bytes | None:
    store, (start, end) = report["store"], report["span"]
    if report["reportType"] == REPORT_TYPES[0]:
        return sales_document(store, start.date())
    if report["reportType"] == REPORT_TYPES[1]:
        return orders_document(store, start, end)
    if report["reportType"] == REPORT_TYPES[3]:
        return health_document(store, start.date())
    return inventory_document(store, start.date())


def save_document(content: bytes, platform: str) -> str:
    data = gzipped(content)
    if failing("truncated", platform):
        data = data[: len(data) // 2]
    document_id = "amzn1.spdoc.1.4.na." + secrets.token_hex(12)
    state().documents[document_id] = data
    return document_id


def public(report: dict) -> dict:
    return {k: v for k, v in report.items() if k not in ("polls", "fatal", "store", "span", "ads")}


@bp.get("/reports/2021-06-30/reports")
def get_reports():
    refused = sp_guard("getReports")
    if refused:
        return refused
    args = request.args
    if args.get("reportTypes") != SETTLEMENT:
        return sp_answer("getReports", {"reports": []})
    store = store_of(args.get("marketplaceIds", "").split(",")[:1])
    since = stamp(args["createdSince"]) if args.get("createdSince") else EPOCH
    until = stamp(args["createdUntil"]) if args.get("createdUntil") else state().now()
    reports = [settlement_report(sid, data) for sid, data in settlements(store or "")]
    listed = [r for r in reports if since <= stamp(r["createdTime"]) <= until]
    return sp_answer("getReports", {"reports": listed[: int(args.get("pageSize", 10))]})


def settlement_report(settlement_id: str, data: bytes) -> dict:
    """The demo settlement as Amazon lists it: made the day after its period ends."""
    summary = data.decode().splitlines()[1].split("\t")
    end = datetime.strptime(summary[2], "%Y-%m-%d %H:%M:%S UTC").replace(tzinfo=timezone.utc)
    document_id = f"amzn1.spdoc.settlement.{settlement_id}"
    if document_id not in state().documents:
        state().documents[document_id] = gzipped(data)
    return {"reportId": settlement_id, "reportType": SETTLEMENT, "processingStatus": "DONE",
            "marketplaceIds": [], "dataStartTime": summary[1].replace(" UTC", "Z").replace(" ", "T"),
            "dataEndTime": summary[2].replace(" UTC", "Z").replace(" ", "T"),
            "createdTime": (end + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "reportDocumentId": document_id}


@bp.get("/reports/2021-06-30/documents/<document_id>")
def get_document(document_id):
    refused = sp_guard("getReportDocument")
    if refused:
        return refused
    if document_id not in state().documents:
        return sp_error(404, "NotFound", "The report document does not exist.")
    return sp_answer("getReportDocument", {"reportDocumentId": document_id, "url": presign(document_id),
                                           "compressionAlgorithm": "GZIP"})


def presign(document_id: str) -> str:
    key = secrets.token_urlsafe(16)
    state().urls[key] = (document_id, state().now())
    signature = secrets.token_hex(16)
    return f"{request.host_url}_fake/amazon/s3/{key}?X-Amz-Expires=300&X-Amz-Signature={signature}"


@bp.get("/_fake/amazon/s3/<key>")
def download(key):
    """The 'S3' side of a document URL: no second credential, and five minutes only."""
    record_call()
    document_id, issued = state().urls.get(key, (None, None))
    if document_id is None or state().now() - issued > URL_LIFETIME:
        return s3_denied("Request has expired")
    if request.headers.get("Authorization") or request.headers.get("x-amz-access-token"):
        return s3_denied("Only one auth mechanism allowed")
    return state().documents[document_id], 200, {"Content-Type": "application/octet-stream"}


def s3_denied(message):
    body = f"<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code><Message>{message}</Message></Error>"
    return body, 403, {"Content-Type": "application/xml"}


# ---- Ads API v3 reporting --------------------------------------------------------------------------

def ads_error(status, code, details):
    return jsonify(code=code, details=details), status


def ads_guard(scoped: bool = True):
    """Authorization, client id and scope as the Ads API checks them: a refusal, or None."""
    record_call()
    auth = request.headers.get("Authorization", "")
    client_id = request.headers.get("Amazon-Advertising-API-ClientId", "")
    if not auth.startswith("Bearer ") or client_id != ADS_CLIENT_ID:
        return ads_error(401, "UNAUTHORIZED", "Missing or invalid Authorization / ClientId header.")
    if token_problem(auth.removeprefix("Bearer "), ADS_CLIENT_ID):
        return ads_error(401, "UNAUTHORIZED", "The access token has expired or is invalid.")
    if scoped and request.headers.get("Amazon-Advertising-API-Scope") not in PROFILES:
        return ads_error(400, "INVALID_ARGUMENT",
                         "Amazon-Advertising-API-Scope is not a profile of this account.")
    if throttled("amazon_ads", "ads"):
        response = ads_error(429, "TOO_MANY_REQUESTS", "Too Many Requests")
        response[0].headers["Retry-After"] = "2"
        return response
    return None


@bp.get("/v2/profiles")
def profiles():
    refused = ads_guard(scoped=False)
    if refused:
        return refused
    return jsonify([{"profileId": int(pid), "countryCode": code[-2:], "currencyCode": currency(code),
                     "accountInfo": {"type": "seller", "name": code}} for pid, code in PROFILES.items()])


@bp.post("/reporting/reports")
def create_ads_report():
    refused = ads_guard()
    if refused:
        return refused
    if request.mimetype != ADS_CREATE_TYPE:
        return ads_error(415, "UNSUPPORTED_MEDIA_TYPE", "Use " + ADS_CREATE_TYPE)
    body = json.loads(request.get_data() or b"{}")
    problem = ads_request_problem(body)
    if problem:
        return ads_error(400, "INVALID_ARGUMENT", problem)
    report_id = "ads-" + secrets.token_hex(8)
    state().reports[report_id] = {
        "reportId": report_id, "status": "PENDING", "polls": 0, "fatal": failing("fatal", "amazon_ads"),
        "store": PROFILES[request.headers["Amazon-Advertising-API-Scope"]], "ads": True,
        "span": (date.fromisoformat(body["startDate"]), date.fromisoformat(body["endDate"])),
        "columns": body["configuration"]["columns"]}
    return jsonify(reportId=report_id, status="PENDING", name=body.get("name"))


def ads_request_problem(body: dict) -> str | None:
    config = body.get("configuration") or {}
    if config.get("reportTypeId") != "spCampaigns" or config.get("adProduct") != "SPONSORED_PRODUCTS":
        return "Only SPONSORED_PRODUCTS spCampaigns reports are served here."
    if config.get("format") != "GZIP_JSON" or config.get("timeUnit") not in ("DAILY", "SUMMARY"):
        return "format must be GZIP_JSON and timeUnit DAILY or SUMMARY."
    if config.get("timeUnit") == "DAILY" and "date" not in (config.get("columns") or []):
        return "A DAILY report needs the date column."
    try:
        first, last = date.fromisoformat(body["startDate"]), date.fromisoformat(body["endDate"])
    except (KeyError, TypeError, ValueError):
        return "startDate and endDate must be YYYY-MM-DD."
    if not 0 <= (last - first).days <= 30:
        return "The date range must be 1 to 31 days."
    return None


@bp.get("/reporting/reports/<report_id>")
def get_ads_report(report_id):
    refused = ads_guard()
    if refused:
        return refused
    report = state().reports.get(report_id)
    if report is None or not report.get("ads"):
        return ads_error(404, "NOT_FOUND", "Report not found.")
    report["polls"] += 1
    if report["status"] in ("PENDING", "PROCESSING"):
        ads_advance(report)
    return jsonify({k: report.get(k) for k in ("reportId", "status", "url", "urlExpiresAt", "fileSize",
                                               "failureReason")})


def ads_advance(report: dict) -> None:
    if report["polls"] < 2:
        report["status"] = "PROCESSING"
    elif report["fatal"]:
        report["status"], report["failureReason"] = "FAILED", "Internal error while generating the report."
    else:
        columns = report["columns"]
        rows = [{k: v for k, v in row.items() if k in columns}
                for row in ads_rows(report["store"], *report["span"])]
        document_id = save_document(json.dumps(rows).encode(), "amazon_ads")
        size = len(state().documents[document_id])
        report.update(status="COMPLETED", url=presign(document_id), fileSize=size,
                      urlExpiresAt=(state().now() + URL_LIFETIME).isoformat())
