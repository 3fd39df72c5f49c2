"""Stand-in for Shopee Open Platform v2 (INTEGRATIONS.md §3 and §9), paths as the real API.

It checks what Shopee checks: partner_id known, timestamp within 300 s of its clock, sign
recomputed from the public or shop base string (chosen by path), the access token issued by
it and younger than 4 h, each refresh token used once, get_order_list windows of at most
15 days and page_size 1..100, order_sn_list of at most 50. Its orders are the demo's SHP-SG
orders (kpiapp/demo/marketplace.py), the very rows of the uploaded Seller Centre export.
The clock, the burst limit (429) and the failure switch are the shared ones of fake/common.py:
expired_token (every access token expired and refresh refused: the shop must be authorised
again), truncated (bodies cut in half), throttle (every call 429).
"""
from __future__ import annotations

import functools
import random
import hashlib
import hmac
import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, redirect, request

from kpiapp.connectors.fake import common
from kpiapp.connectors.shopee import ADS_PATH, AUTH_PATH, TOKEN_PATHS, sign

PLATFORM = "shopee"
bp = Blueprint("fake_shopee", __name__)

DEMO = {"partner_id": "2001887", "partner_key": "kpi-demo-shopee-partner-key",
        "refresh_token": "kpi-demo-shopee-refresh-token", "shop_id": "14701711"}
# what the demo's SHP-SG connection carries (fake/common.py reads these)
DEMO_CREDENTIALS = {PLATFORM: {k: DEMO[k] for k in ("partner_id", "partner_key", "refresh_token")}}
DEMO_SETTINGS = {PLATFORM: {"shop_id": DEMO["shop_id"], "timezone": "Asia/Singapore"}}
SHOPS = {DEMO["shop_id"]: "SHP-SG"}
ACCESS_TTL, REFRESH_TTL = 4 * 3600, 30 * 86400
WINDOW_LIMIT = 15 * 86400
TZ = ZoneInfo("Asia/Singapore")
PUBLIC_PATHS = TOKEN_PATHS + (AUTH_PATH,)
CODE_TTL = 600  # an authorisation code works once, for 10 minutes


class Memory:
    """What one stand-in app remembers for a platform: refresh tokens used, token serials."""

    def __init__(self):
        self.used_refresh: set[str] = set()
        self.serial = 0


def memory(platform: str) -> Memory:
    return current_app.extensions.setdefault(f"fake_{platform}_memory", Memory())


def now() -> float:
    return common.state().now()


def calls(app, platform: str) -> list[str]:
    """The paths `platform` was asked for in `app` (tests)."""
    return [path for name, _method, path in app.extensions["fake_marketplace"].requests if name == platform]


def note(platform: str):
    """Count the request, then a 429 if it is part of a burst (or the throttle switch is on)."""
    common.state().requests.append((platform, request.method, request.path))
    return common.throttle(f"{platform}:api")


SECRET = b"kpiapp-fake-marketplace"


def issue(platform: str, kind: str, subject: str) -> str:
    """A token the stand-in can check later without a list (so it survives a restart):
    kind-subject-issued_ms.serial-mac (subject without "-")."""
    assert "-" not in subject
    mem = memory(platform)
    mem.serial += 1
    issued = f"{int(now() * 1000)}.{mem.serial}"
    return f"{kind}-{subject}-{issued}-{token_mac(kind, subject, issued)}"


def token_mac(kind, subject, issued) -> str:
    return hmac.new(SECRET, f"{kind}.{subject}.{issued}".encode(), hashlib.sha256).hexdigest()[:24]


def token_age(token: str, kind: str, subject: str) -> float | None:
    """Seconds since the stand-in issued `token` (of `kind`, for `subject`), or None if it did not."""
    parts = (token or "").split("-")
    if len(parts) != 4 or parts[:2] != [kind, subject] or not parts[2].replace(".", "").isdigit():
        return None
    if not hmac.compare_digest(token_mac(kind, subject, parts[2]), parts[3]):
        return None
    return now() - int(parts[2].split(".")[0]) / 1000


def refresh_usable(platform: str, token: str, demo_token: str, subject: str, lifetime: float) -> bool:
    """A refresh token works once, while young, and not while the expired_token switch is on."""
    if common.failure(platform) == "expired_token" or token in memory(platform).used_refresh:
        return False
    age = 0 if token == demo_token else token_age(token, "rt", subject)
    return age is not None and age <= lifetime


def access_usable(platform: str, token: str, subject: str, lifetime: float) -> bool:
    if common.failure(platform) == "expired_token":
        return False
    age = token_age(token, "at", subject)
    return age is not None and age <= lifetime


def cut(platform: str, body: bytes) -> bytes:
    return body[: len(body) // 2] if common.failure(platform) == "truncated" else body


def reply(payload: dict, status: int = 200) -> Response:
    return Response(cut(PLATFORM, json.dumps(payload).encode()), status, mimetype="application/json")


def error(name: str, message: str, status: int = 200) -> Response:
    return reply({"error": name, "message": message, "request_id": "fake"}, status)


@bp.before_request
def check_common():
    """Throttle, then partner_id, timestamp and sign as the gateway does."""
    limited = note(PLATFORM)
    if limited is not None:
        return limited
    args = request.args
    if args.get("partner_id") != DEMO["partner_id"]:
        return error("error_param", "Invalid partner_id.")
    stamp = args.get("timestamp", "")
    if not stamp.isdigit() or len(stamp) != 10 or abs(int(stamp) - now()) > 300:
        return error("error_param", "Invalid timestamp")
    public = request.path in PUBLIC_PATHS
    expected = sign(DEMO["partner_key"], args["partner_id"], request.path, stamp,
                    "" if public else args.get("access_token", ""), "" if public else args.get("shop_id", ""))
    if not hmac.compare_digest(expected, args.get("sign", "")):
        return error("error_sign", "Wrong sign.")
    if not public:
        return check_access(args.get("access_token", ""), args.get("shop_id", ""))
    return None


def check_access(token: str, shop_id: str):
    if shop_id not in SHOPS:
        return error("error_shop", "shopid is invalid")
    if not access_usable(PLATFORM, token, shop_id, ACCESS_TTL):
        return error("invalid_access_token", "Invalid access_token.", 403)
    return None


def code_usable(platform: str, code: str, subject: str) -> bool:
    """An authorisation code the stand-in issued, younger than 10 minutes, not used before."""
    age = token_age(code, "code", subject)
    return age is not None and age <= CODE_TTL and code not in memory(platform).used_refresh


@bp.get(AUTH_PATH)
def authorise_shop():
    """The seller says yes at once: back to `redirect` with a code and the shop id."""
    target = request.args.get("redirect", "")
    if not target.startswith(("http://", "https://")):
        return error("error_param", "redirect is required.")
    query = urlencode({"code": issue(PLATFORM, "code", DEMO["shop_id"]), "shop_id": DEMO["shop_id"]})
    return redirect(f"{target}{'&' if '?' in target else '?'}{query}")


@bp.post("/api/v2/auth/token/get")
def first_token():
    body = request.get_json(silent=True) or {}
    shop_id, code = str(body.get("shop_id", "")), str(body.get("code", ""))
    if shop_id not in SHOPS or not code_usable(PLATFORM, code, shop_id):
        return error("error_auth", "Invalid code.", 403)
    memory(PLATFORM).used_refresh.add(code)
    return token_pair(shop_id)


def token_pair(shop_id: str) -> Response:
    return reply({"error": "", "message": "", "request_id": "fake", "access_token": issue(PLATFORM, "at", shop_id),
                  "refresh_token": issue(PLATFORM, "rt", shop_id), "expire_in": ACCESS_TTL,
                  "partner_id": int(DEMO["partner_id"]), "shop_id": int(shop_id), "shop_id_list": [int(shop_id)]})


@bp.post("/api/v2/auth/access_token/get")
def refresh_token():
    body = request.get_json(silent=True) or {}
    shop_id, token = str(body.get("shop_id", "")), str(body.get("refresh_token", ""))
    if shop_id not in SHOPS or not refresh_usable(PLATFORM, token, DEMO["refresh_token"], shop_id, REFRESH_TTL):
        return error("error_auth", "Invalid refresh_token.", 403)
    memory(PLATFORM).used_refresh.add(token)  # a refresh token works once
    return token_pair(shop_id)


@bp.get("/api/v2/shop/get_shop_info")
def shop_info():
    return ok({"shop_name": "Harbor & Pine Shopee SG", "region": "SG", "status": "NORMAL"}, flat=True)


def ok(response, flat=False) -> Response:
    payload = {"error": "", "message": "", "request_id": "fake"}
    payload.update(response if flat else {"response": response})
    return reply(payload)


@bp.get("/api/v2/order/get_order_list")
def order_list():
    args = request.args
    try:
        time_from, time_to, size = int(args["time_from"]), int(args["time_to"]), int(args["page_size"])
    except (KeyError, ValueError):
        return error("error_param", "time_from, time_to and page_size are required.")
    if args.get("time_range_field") not in ("create_time", "update_time"):
        return error("error_param", "time_range_field must be create_time or update_time.")
    if time_to < time_from or time_to - time_from > WINDOW_LIMIT:
        return error("order.order_list_invalid_time", "Start time must be earlier than end time and "
                     "diff in 15days.")
    if not 1 <= size <= 100:
        return error("error_param", "page_size should be between 1 and 100.")
    field = args["time_range_field"]
    chosen = [o for o in orders().values() if time_from <= o[field] <= time_to]
    offset = int(args.get("cursor") or 0)
    page = chosen[offset:offset + size]
    more = offset + size < len(chosen)
    return ok({"more": more, "next_cursor": str(offset + size) if more else "",
               "order_list": [{"order_sn": o["order_sn"], "order_status": o["order_status"]} for o in page]})


@bp.get("/api/v2/order/get_order_detail")
def order_detail():
    numbers = [n for n in request.args.get("order_sn_list", "").split(",") if n]
    if not 1 <= len(numbers) <= 50:
        return error("error_param", "order_sn_list should have 1 to 50 order_sn.")
    known = orders()
    return ok({"order_list": [known[n] for n in numbers if n in known]})


@bp.get("/api/v2/payment/get_escrow_list")
def escrow_list():
    args = request.args
    try:
        time_from, time_to = int(args["release_time_from"]), int(args["release_time_to"])
        size, page_no = int(args.get("page_size", 40)), int(args.get("page_no", 1))
    except (KeyError, ValueError):
        return error("error_param", "release_time_from and/or release_time_to parameter is missing or invalid.")
    if time_to < time_from or not 1 <= size <= 100 or page_no < 1:
        return error("error_param", "parameter invalid")
    chosen = [e for e in escrows().values() if time_from <= e["escrow_release_time"] <= time_to]
    start = (page_no - 1) * size
    page = chosen[start:start + size]
    return ok({"more": start + size < len(chosen),
               "escrow_list": [{"order_sn": e["order_sn"], "payout_amount": e["order_income"]["escrow_amount"],
                                "escrow_release_time": e["escrow_release_time"]} for e in page]})


@bp.post("/api/v2/payment/get_escrow_detail_batch")
def escrow_detail_batch():
    numbers = (request.get_json(silent=True) or {}).get("order_sn_list")
    if not isinstance(numbers, list) or not numbers:
        return error("error_param", "order_sn_list is required, format should be string[]")
    if len(numbers) > 50:
        return error("exceed_max_limit", "Your request exceeds the max limit of 50 orders.")
    known = escrows()
    return ok([{"escrow_detail": {k: v for k, v in known[n].items() if k != "escrow_release_time"}}
               for n in numbers if n in known])


@bp.get("/api/v2/payment/get_escrow_detail")
def escrow_detail():
    detail = escrows().get(request.args.get("order_sn", ""))
    if detail is None:
        return error("order_not_found", "Order SN provided is invalid or does not belong to you.")
    return ok({k: v for k, v in detail.items() if k != "escrow_release_time"})


@bp.get(ADS_PATH)
def ads_daily():
    try:
        first = datetime.strptime(request.args["start_date"], "%d-%m-%Y").date()
        last = datetime.strptime(request.args["end_date"], "%d-%m-%Y").date()
    except (KeyError, ValueError):
        return error("error_param", "Wrong parameters, detail: start_date and end_date are DD-MM-YYYY.")
    if first == last:
        return error("ads.performance.error_same_start_end_dates", "Start date can't be equal to end date.")
    if first > last:
        return error("ads.performance.error_start_later_than_end", "The start date can't be later than the end date.")
    if (last - first).days > 30:
        return error("ads.performance.error_date_range_too_long", "Date range can't be longer than 1 month.")
    return ok([ads_day(first + timedelta(days=n)) for n in range((last - first).days + 1)])


def ads_day(day: date) -> dict:
    """One day of shop CPC ads: spend about 8 % of the day's orders, from a stream seeded by the day."""
    rng = random.Random(f"shopee-ads:{day.isoformat()}")
    sales = sum((Decimal(str(o["total_amount"])) for o in orders().values()
                 if datetime.fromtimestamp(o["create_time"], TZ).date() == day), Decimal(0))
    gmv = (sales * Decimal(str(rng.uniform(0.25, 0.35)))).quantize(Decimal("0.01"))
    expense = (gmv * Decimal(str(rng.uniform(0.2, 0.3)))).quantize(Decimal("0.01"))
    clicks = int(expense / Decimal("0.3")) if expense else 0
    orders_n = int(gmv / 45)
    return {"date": f"{day:%d-%m-%Y}", "impression": clicks * 60, "clicks": clicks,
            "ctr": round(100 / 60, 2), "direct_order": int(orders_n * 0.7), "broad_order": orders_n,
            "direct_conversions": 0.0, "broad_conversions": 0.0, "direct_item_sold": int(orders_n * 0.7 * 1.5),
            "broad_item_sold": int(orders_n * 1.5), "direct_gmv": float((gmv * Decimal("0.7")).quantize(Decimal("0.01"))),
            "broad_gmv": float(gmv), "expense": float(expense), "cost_per_conversion": 0.0,
            "direct_roas": 0.0, "broad_roas": float(gmv / expense) if expense else 0.0}


# ---- the demo's orders as the API shows them ---------------------------------------------

@functools.lru_cache(maxsize=1)
def orders() -> dict[str, dict]:
    """SHP-SG demo export rows -> get_order_detail objects, in create_time order."""
    from kpiapp.demo.marketplace import SHOPEE_HEADER, demo_uploads

    captured: dict = {}
    demo_uploads(captured)
    out: dict[str, dict] = {}
    for cells in captured["SHP-SG"]:
        row = dict(zip(SHOPEE_HEADER, cells))
        created = int(datetime.fromisoformat(row["Order Creation Date"]).replace(tzinfo=TZ).timestamp())
        order = out.setdefault(row["Order ID"], {
            "order_sn": row["Order ID"], "region": "SG", "currency": "SGD", "cod": False,
            "order_status": "CANCELLED" if row["Order Status"] == "Cancelled" else "COMPLETED",
            "create_time": created, "update_time": created + 3 * 86400, "pay_time": created + 60,
            "total_amount": 0.0, "seller_voucher": row["Seller Voucher"], "service_fee": row["Service Fee"],
            "item_list": []})
        order["total_amount"] = float(Decimal(str(order["total_amount"])) + Decimal(row["Product Subtotal"]))
        order["item_list"].append({
            "item_id": 2300000000 + len(out), "item_name": row["Product Name"], "item_sku": row["Parent SKU Reference No."],
            "model_id": 0, "model_name": row["Variation Name"], "model_sku": row["SKU Reference No."],
            "model_quantity_purchased": int(row["Quantity"]), "model_original_price": float(row["Original Price"]),
            "model_discounted_price": float(row["Deal Price"]), "returned_qty": int(row["Returned quantity"]),
            "cancelled_qty": 0})
    for sn, order in out.items():
        voucher, fee = order.pop("seller_voucher"), order.pop("service_fee")
        INCOME[sn] = (Decimal(str(order["total_amount"])), Decimal(voucher), Decimal(fee))
    return dict(sorted(out.items(), key=lambda kv: kv[1]["create_time"]))


INCOME: dict[str, tuple] = {}  # order_sn -> (subtotal, seller voucher, service fee), filled by orders()


@functools.lru_cache(maxsize=1)
def escrows() -> dict[str, dict]:
    """Completed orders are paid out 7 days after creation, fees as the demo's export shows."""
    out = {}
    for sn, order in orders().items():
        if order["order_status"] != "COMPLETED":
            continue
        subtotal, voucher, service = INCOME[sn]
        commission = (subtotal * Decimal("0.05")).quantize(Decimal("0.01"))
        transaction = (subtotal * Decimal("0.02")).quantize(Decimal("0.01"))
        escrow = subtotal - voucher - commission - service - transaction
        release = datetime.fromtimestamp(order["create_time"], TZ) + timedelta(days=7)
        out[sn] = {"order_sn": sn, "buyer_user_name": "buyer", "return_order_sn_list": [],
                   "escrow_release_time": int(release.replace(hour=10, minute=0).timestamp()),
                   "order_income": {"escrow_amount": float(escrow), "buyer_total_amount": float(subtotal),
                                    "original_price": float(subtotal), "seller_discount": 0.0,
                                    "voucher_from_seller": float(voucher), "voucher_from_shopee": 0.0,
                                    "commission_fee": float(commission), "service_fee": float(service),
                                    "seller_transaction_fee": float(transaction), "actual_shipping_fee": 0.0,
                                    "shopee_shipping_rebate": 0.0, "reverse_shipping_fee": 0.0,
                                    "seller_return_refund": 0.0, "escrow_amount_after_adjustment": float(escrow)}}
    return dict(sorted(out.items(), key=lambda kv: kv[1]["escrow_release_time"]))
