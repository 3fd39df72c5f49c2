"""Stand-in for Shopee Open Platform v2 (INTEGRATIONS.md §3 and §9), paths as the real API.

It checks what Shopee checks: partner_id known, timestamp within 300 s of its clock, sign
recomputed from the public or shop base string (chosen by path), the access token issued by
it and younger than 4 h, each refresh token used once, get_order_list windows of at most
15 days and page_size 1..100, order_sn_list of at most 50. Its orders are the demo's SHP-SG
orders (kpiapp/demo/marketplace.py), the very rows of the uploaded Seller Centre export.
A burst over BURST calls in one second gets HTTP 429. `state.failure` switches:
expired_token (the next access token shown is refused from then on), revoked (refresh refused), truncated
(bodies cut in half), throttle (every call 429).
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import json
import time
from collections import defaultdict, deque
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, request

from kpiapp.connectors.shopee import TOKEN_PATHS, sign

bp = Blueprint("fake_shopee", __name__)

DEMO = {"partner_id": "2001887", "partner_key": "kpi-demo-shopee-partner-key",
        "refresh_token": "kpi-demo-shopee-refresh-token", "shop_id": "14701711"}
SHOPS = {DEMO["shop_id"]: "SHP-SG"}
ACCESS_TTL, REFRESH_TTL = 4 * 3600, 30 * 86400
WINDOW_LIMIT = 15 * 86400
BURST = 60
TZ = ZoneInfo("Asia/Singapore")
PUBLIC_PATHS = TOKEN_PATHS + ("/api/v2/shop/auth_partner",)


class State:
    """The fake's memory: a clock tests can freeze, issued tokens, the failure switch."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.clock = time.time
        self.failure = None
        self.used_refresh: set[str] = set()
        self.refused: set[str] = set()  # access tokens refused although young
        self.hits: dict[str, deque] = defaultdict(deque)
        self.calls: list[str] = []
        self.serial = 0

    def now(self) -> float:
        return self.clock()


state = State()
SECRET = b"kpiapp-fake-shopee"


def issue(kind: str, shop_id: str) -> str:
    """A token the fake can check later without remembering it: kind-shop-issued_ms.serial-mac."""
    state.serial += 1
    issued = f"{int(state.now() * 1000)}.{state.serial}"
    return f"{kind}-{shop_id}-{issued}-{_mac(kind, shop_id, issued)}"


def _mac(kind, shop_id, issued) -> str:
    return hmac.new(SECRET, f"{kind}.{shop_id}.{issued}".encode(), hashlib.sha256).hexdigest()[:24]


def token_age(token: str, kind: str, shop_id: str) -> float | None:
    """Seconds since the fake issued `token` (of `kind`, for `shop_id`), or None if it did not."""
    parts = token.split("-")
    if len(parts) != 4 or parts[:2] != [kind, shop_id] or not parts[2].replace(".", "").isdigit():
        return None
    if not hmac.compare_digest(_mac(kind, shop_id, parts[2]), parts[3]):
        return None
    return state.now() - int(parts[2].split(".")[0]) / 1000


def reply(payload: dict, status: int = 200) -> Response:
    body = json.dumps(payload).encode()
    if state.failure == "truncated":
        body = body[: len(body) // 2]
    return Response(body, status, mimetype="application/json")


def error(name: str, message: str, status: int = 200) -> Response:
    return reply({"error": name, "message": message, "request_id": "fake"}, status)


@bp.before_request
def check_common():
    """Throttle, then partner_id, timestamp and sign as the gateway does."""
    state.calls.append(request.path)
    if throttled():
        return Response(json.dumps({"error": "error_too_many_request", "message": "Too many requests."}),
                        429, {"Retry-After": "1"}, mimetype="application/json")
    args = request.args
    if args.get("partner_id") != DEMO["partner_id"]:
        return error("error_param", "Invalid partner_id.")
    stamp = args.get("timestamp", "")
    if not stamp.isdigit() or len(stamp) != 10 or abs(int(stamp) - state.now()) > 300:
        return error("error_param", "Invalid timestamp")
    public = request.path in PUBLIC_PATHS
    expected = sign(DEMO["partner_key"], args["partner_id"], request.path, stamp,
                    "" if public else args.get("access_token", ""), "" if public else args.get("shop_id", ""))
    if not hmac.compare_digest(expected, args.get("sign", "")):
        return error("error_sign", "Wrong sign.")
    if not public:
        return check_access(args.get("access_token", ""), args.get("shop_id", ""))
    return None


def throttled() -> bool:
    if state.failure == "throttle":
        return True
    window = state.hits[request.args.get("partner_id", "")]
    now = state.now()
    while window and now - window[0] > 1:
        window.popleft()
    window.append(now)
    return len(window) > BURST


def check_access(token: str, shop_id: str):
    if shop_id not in SHOPS:
        return error("error_shop", "shopid is invalid")
    if state.failure == "expired_token":  # this token ran out early: refused from now on
        state.refused.add(token)
        state.failure = None
    age = None if token in state.refused else token_age(token, "sat", shop_id)
    if age is None or age > ACCESS_TTL:
        return error("invalid_access_token", "Invalid access_token.", 403)
    return None


@bp.post("/api/v2/auth/access_token/get")
def refresh_token():
    body = request.get_json(silent=True) or {}
    shop_id, token = str(body.get("shop_id", "")), str(body.get("refresh_token", ""))
    demo = token == DEMO["refresh_token"] and shop_id == DEMO["shop_id"]
    age = None if demo else token_age(token, "srt", shop_id)
    if state.failure == "revoked" or token in state.used_refresh or (not demo and (age is None or age > REFRESH_TTL)):
        return error("error_auth", "Invalid refresh_token.", 403)
    state.used_refresh.add(token)  # a refresh token works once
    return reply({"error": "", "message": "", "request_id": "fake", "access_token": issue("sat", shop_id),
                  "refresh_token": issue("srt", shop_id), "expire_in": ACCESS_TTL,
                  "partner_id": int(DEMO["partner_id"]), "shop_id": int(shop_id)})


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


@bp.get("/api/v2/payment/get_escrow_detail")
def escrow_detail():
    detail = escrows().get(request.args.get("order_sn", ""))
    if detail is None:
        return error("order_not_found", "Order SN provided is invalid or does not belong to you.")
    return ok({k: v for k, v in detail.items() if k != "escrow_release_time"})


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
