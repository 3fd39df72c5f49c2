"""Stand-in for the Lazada Open Platform (INTEGRATIONS.md §5 and §9), paths as the real API.

The REST gateway and the auth gateway share one port under /rest. It recomputes the
uppercase-hex sign over every parameter (access_token included), wants sign_method=sha256,
a 13-digit millisecond timestamp within 7200 s of its clock [Unverified window], an access
token it issued and that has not expired, refresh tokens used once, limit <= 100 on
/orders/get and at most 50 ids on /orders/items/get. Its orders are the demo's LZD-MY
orders (kpiapp/demo/marketplace.lazada_rows): that store has no upload and is filled by pulls.
Clock, bursts (429) and failure switch: fake/common.py (expired_token, truncated, throttle).
"""
from __future__ import annotations

import functools
import hmac
import json
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from urllib.parse import urlencode

from flask import Blueprint, Response, redirect, request

from kpiapp.connectors.fake.shopee import (access_usable, code_usable, cut, issue, memory, note, now,
                                           refresh_usable)
from kpiapp.connectors.lazada import CREATE_PATH, FINANCE_PATH, ITEMS_PATH, ORDERS_PATH, REFRESH_PATH, sign

PLATFORM = "lazada"
SUBJECT = "lzdmy"  # the one demo seller the tokens belong to
bp = Blueprint("fake_lazada", __name__)  # the gateways' paths start with /rest

DEMO = {"app_key": "500123", "app_secret": "kpi-demo-lazada-app-secret",
        "refresh_token": "kpi-demo-lazada-refresh-token"}
ACCESS_TTL, REFRESH_TTL = 7 * 86400, 30 * 86400
TZ = ZoneInfo("Asia/Kuala_Lumpur")
DEMO_CREDENTIALS = {PLATFORM: {k: DEMO[k] for k in ("app_key", "app_secret", "refresh_token")}}
DEMO_SETTINGS = {PLATFORM: {"country": "my", "timezone": "Asia/Kuala_Lumpur"}}


def reply(payload: dict, status: int = 200) -> Response:
    return Response(cut(PLATFORM, json.dumps(payload).encode()), status, mimetype="application/json")


def error(code: str, message: str, status: int = 200) -> Response:
    return reply({"type": "ISV", "code": code, "message": message, "request_id": "fake"}, status)


def ok(data) -> Response:
    return reply({"code": "0", "request_id": "fake", "data": data})


@bp.before_app_request
def lazada_consent_page():
    """/oauth/authorize is Lazada's page on auth.lazada.com and TikTok's on auth.tiktok-shops.com;
    on the stand-in's one host, Lazada's is the one asked with client_id (TikTok's has app_key)."""
    if request.path == "/oauth/authorize" and "client_id" in request.args:
        return authorise_seller()
    return None


def authorise_seller():
    """The seller says yes at once: back to redirect_uri with a code and the caller's state."""
    args = request.args
    if args.get("client_id") != DEMO["app_key"] or args.get("response_type") != "code":
        return error("InvalidParameter", "client_id and response_type=code are required.")
    target = args.get("redirect_uri", "")
    if not target.startswith(("http://", "https://")):
        return error("InvalidParameter", "redirect_uri is required.")
    query = urlencode({"code": issue(PLATFORM, "code", SUBJECT), "state": args.get("state", "")})
    return redirect(f"{target}{'&' if '?' in target else '?'}{query}")


@bp.before_request
def check_common():
    limited = note(PLATFORM)
    if limited is not None:
        return limited
    args = request.args.to_dict()
    if args.get("app_key") != DEMO["app_key"]:
        return error("InvalidAppKey", "Invalid app key.")
    if args.get("sign_method") != "sha256":
        return error("InvalidSignMethod", "sign_method must be sha256.")
    stamp = args.get("timestamp", "")
    if not stamp.isdigit() or len(stamp) != 13 or abs(int(stamp) / 1000 - now()) > 7200:
        return error("InvalidTimestamp", "Invalid timestamp: milliseconds, close to the server time.")
    api_path = request.path.removeprefix("/rest")
    if not hmac.compare_digest(sign(DEMO["app_secret"], api_path, args), args.get("sign", "")):
        return error("IncompleteSignature", "The request signature does not conform to platform standards.")
    if api_path in (REFRESH_PATH, CREATE_PATH):
        return None
    return check_access(args.get("access_token", ""))


def check_access(token: str):
    if not access_usable(PLATFORM, token, SUBJECT, ACCESS_TTL):
        return error("IllegalAccessToken", "The specified access token is invalid or expired.")
    return None


@bp.get("/rest" + CREATE_PATH)
def create_token():
    code = request.args.get("code", "")
    if not code_usable(PLATFORM, code, SUBJECT):
        return error("InvalidCode", "The specified code is invalid or expired.")
    memory(PLATFORM).used_refresh.add(code)
    return token_pair()


@bp.get("/rest" + REFRESH_PATH)
def refresh():
    token = request.args.get("refresh_token", "")
    if not refresh_usable(PLATFORM, token, DEMO["refresh_token"], SUBJECT, REFRESH_TTL):
        return error("IllegalRefreshToken", "The specified refresh token is invalid or expired.")
    memory(PLATFORM).used_refresh.add(token)
    return token_pair()


def token_pair() -> Response:
    return reply({"code": "0", "request_id": "fake", "access_token": issue(PLATFORM, "at", SUBJECT),
                  "refresh_token": issue(PLATFORM, "rt", SUBJECT),
                  "expires_in": ACCESS_TTL, "refresh_expires_in": REFRESH_TTL, "country": "my",
                  "account_platform": "seller_center", "account": "demo@harbor-pine.example",
                  "country_user_info": [{"country": "my", "user_id": "100001", "seller_id": "200001",
                                         "short_code": "MY1ABCDE"}]})


@bp.get("/rest/seller/get")
def seller():
    return ok({"name": "Harbor & Pine Lazada MY", "seller_id": 200001, "location": "Kuala Lumpur",
               "short_code": "MY1ABCDE"})


@bp.get("/rest" + ORDERS_PATH)
def orders_get():
    args = request.args
    try:
        after = datetime.fromisoformat(args.get("created_after") or args["update_after"])
        before = datetime.fromisoformat(args["created_before"]) if args.get("created_before") else None
        offset, limit = int(args.get("offset", 0)), int(args.get("limit", 100))
    except (KeyError, ValueError):
        return error("MissingParameter", "created_after or update_after (ISO 8601) is required.")
    if not 1 <= limit <= 100 or offset < 0:
        return error("InvalidParameter", "limit must be 1..100.")
    chosen = [o for o in orders().values()
              if o["_created"] >= after and (before is None or o["_created"] < before)]
    page = [{k: v for k, v in o.items() if k not in ("_created", "order_items")}
            for o in chosen[offset:offset + limit]]
    return ok({"count": len(page), "countTotal": len(chosen), "orders": page})


@bp.get("/rest" + ITEMS_PATH)
def items_get():
    try:
        ids = json.loads(request.args.get("order_ids", ""))
    except ValueError:
        return error("InvalidParameter", "order_ids must be a JSON array.")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 50:
        return error("InvalidParameter", "order_ids must hold 1 to 50 ids.")
    by_id = {o["order_id"]: o for o in orders().values()}
    found = [by_id[i] for i in ids if i in by_id]
    return ok([{"order_id": o["order_id"], "order_number": o["order_number"], "order_items": o["order_items"]}
               for o in found])


@bp.get("/rest" + FINANCE_PATH)
def finance():
    args = request.args
    try:
        start, end = date.fromisoformat(args["start_time"]), date.fromisoformat(args["end_time"])
        offset, limit = int(args.get("offset", 0)), int(args.get("limit", 500))
    except (KeyError, ValueError):
        return error("MissingParameter", "start_time and end_time (YYYY-MM-DD) are required.")
    if end < start or (end - start).days >= 180 or not 1 <= limit <= 500 or offset < 0:
        return error("InvalidParameter", "The range must be under 180 days and limit 1..500.")
    chosen = [t for t in transactions() if start <= t["_day"] <= end]
    return ok([{k: v for k, v in t.items() if k != "_day"} for t in chosen[offset:offset + limit]])


@functools.lru_cache(maxsize=1)
def transactions() -> list[dict]:
    """Per order item, 5 days after the order: the price credited, commission (4 %), payment fee
    (2 %), the seller voucher; a returned item's price and commission reversed 3 days later."""
    out = []
    for order in orders().values():
        for item in order["order_items"]:
            if item["status"] == "canceled":
                continue
            price = Decimal(str(item["item_price"]))
            lines = [("Item Price Credit", price, 5), ("Commission", -(price * Decimal("0.04")), 5),
                     ("Payment Fee", -(price * Decimal("0.02")), 5)]
            if item["voucher_seller"]:
                lines.append(("Promotional Charges Vouchers", -Decimal(str(item["voucher_seller"])), 5))
            if item["status"] == "returned":
                lines += [("Reversal Item Price", -price, 8), ("Reversal Commission", price * Decimal("0.04"), 8)]
            for fee_name, amount, after in lines:
                day = order["_created"].date() + timedelta(days=after)
                out.append({"_day": day, "transaction_date": day.strftime("%d %b %Y"),
                            "amount": f"{amount.quantize(Decimal('0.01'))}", "fee_name": fee_name,
                            "transaction_type": "Orders-Sales" if amount > 0 else "Orders-Lazada Fees",
                            "order_no": order["order_number"], "orderItem_no": str(item["order_item_id"]),
                            "seller_sku": item["sku"], "lazada_sku": item["shop_sku"], "paid_status": "Paid",
                            "transaction_number": f"T{item['order_item_id']}{len(out) % 100:02d}",
                            "WHT_amount": "0.00", "VAT_in_amount": "0.00", "statement": f"{day:%d %b %Y}"})
    return sorted(out, key=lambda t: t["_day"])


@functools.lru_cache(maxsize=1)
def orders() -> dict[str, dict]:
    """LZD-MY demo items -> /orders/get objects with their /orders/items/get items."""
    from kpiapp.demo.marketplace import lazada_rows

    out: dict[str, dict] = {}
    statuses = defaultdict(set)
    for number, item_id, sku, created, price, discount, status in lazada_rows():
        local = created.replace(tzinfo=TZ)
        stamp = local.strftime("%Y-%m-%d %H:%M:%S %z")
        order = out.setdefault(number, {"order_id": int(number), "order_number": number, "created_at": stamp,
                                        "updated_at": stamp, "price": "0.00", "items_count": 0, "statuses": [],
                                        "payment_method": "COD", "voucher_seller": "0.00",
                                        "voucher_platform": "0.00", "shipping_fee": "0.00",
                                        "_created": local, "order_items": []})
        order["items_count"] += 1
        order["price"] = f"{float(order['price']) + float(price - discount):.2f}"
        statuses[number].add(status)
        order["statuses"] = sorted(statuses[number])
        order["order_items"].append({
            "order_item_id": item_id, "order_id": int(number), "sku": sku, "shop_sku": f"{sku}_MY",
            "name": sku.replace("-", " ").title(), "variation": "", "item_price": float(price),
            "paid_price": float(price - discount), "voucher_seller": float(discount), "voucher_platform": 0.0,
            "voucher_amount": float(discount), "status": status, "currency": "MYR", "created_at": stamp,
            "updated_at": stamp, "shipping_type": "Dropshipping"})
    return dict(sorted(out.items(), key=lambda kv: kv[1]["_created"]))
