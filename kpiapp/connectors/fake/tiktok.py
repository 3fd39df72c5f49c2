"""Stand-in for TikTok Shop API 202309 (INTEGRATIONS.md §4 and §9), paths as the real API.

It recomputes the sign over the query and the raw body bytes, wants the access token in the
`x-tts-access-token` header (never in the query), a 10-digit timestamp within 300 s of its
clock and shop_cipher on shop paths; it serves token refresh (refresh tokens work once)
on the same port as the auth host. Its orders are the demo's TTS-UK orders, the very rows of
the uploaded Seller Center export, one line item per unit (the API has no quantity).
Clock, bursts (429) and failure switch: fake/common.py (expired_token, truncated, throttle).
"""
from __future__ import annotations

import functools
import hmac
import json
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from urllib.parse import urlencode

from flask import Blueprint, Response, redirect, request

from kpiapp.connectors.fake.shopee import (access_usable, code_usable, cut, issue, memory, note, now,
                                           refresh_usable)
from kpiapp.connectors.tiktok import (AUTHORIZE_PATH, DETAIL_PATH, REFRESH_PATH, SEARCH_PATH, SHOPS_PATH,
                                     TOKEN_PATH, sign)

PLATFORM = "tiktok"
SUBJECT = "ttsuk"  # the one demo shop the tokens belong to
bp = Blueprint("fake_tiktok", __name__)

DEMO = {"app_key": "6a1demo2tts", "app_secret": "kpi-demo-tiktok-app-secret",
        "refresh_token": "kpi-demo-tiktok-refresh-token", "shop_cipher": "GCP_demo_TTS_UK_cipher"}
ACCESS_TTL, REFRESH_TTL = 7 * 86400, 30 * 86400
TZ = ZoneInfo("Europe/London")
DEMO_CREDENTIALS = {PLATFORM: {k: DEMO[k] for k in ("app_key", "app_secret", "refresh_token")}}
DEMO_SETTINGS = {PLATFORM: {"shop_cipher": DEMO["shop_cipher"], "timezone": "Europe/London"}}


def reply(payload: dict, status: int = 200) -> Response:
    return Response(cut(PLATFORM, json.dumps(payload).encode()), status, mimetype="application/json")


def error(code: int, message: str, status: int = 200) -> Response:
    return reply({"code": code, "message": message, "request_id": "fake", "data": None}, status)


def ok(data) -> Response:
    return reply({"code": 0, "message": "Success", "request_id": "fake", "data": data})


@bp.before_request
def check_common():
    limited = note(PLATFORM)
    if limited is not None:
        return limited
    if request.path in (REFRESH_PATH, TOKEN_PATH, AUTHORIZE_PATH):
        return None
    args = request.args
    if args.get("app_key") != DEMO["app_key"]:
        return error(106010, "Invalid app_key.", 401)
    stamp = args.get("timestamp", "")
    if not stamp.isdigit() or len(stamp) != 10 or abs(int(stamp) - now()) > 300:
        return error(106002, "Invalid timestamp.", 401)
    if "access_token" in args:
        return error(106001, "The access token must be sent in the x-tts-access-token header.", 401)
    expected = sign(DEMO["app_secret"], request.path, args.to_dict(), request.get_data(),
                    request.content_type or "")
    if not hmac.compare_digest(expected, args.get("sign", "")):
        return error(106001, "Invalid credentials. The 'sign' query parameter is invalid.", 401)
    if request.path != SHOPS_PATH and args.get("shop_cipher") != DEMO["shop_cipher"]:
        return error(106011, "Invalid shop_cipher.", 401)
    return check_access(request.headers.get("x-tts-access-token", ""))


def check_access(token: str):
    if not access_usable(PLATFORM, token, SUBJECT, ACCESS_TTL):
        return error(105002, "Access token is expired, please refresh it.", 401)
    return None


@bp.get(AUTHORIZE_PATH)
def authorise_seller():
    """The seller says yes at once: back to the redirect URL with a code and the caller's state."""
    args = request.args
    target = args.get("redirect_uri", "")
    if args.get("app_key") != DEMO["app_key"] or not target.startswith(("http://", "https://")):
        return error(36004004, "Unknown app_key or no redirect URL.")
    query = urlencode({"code": issue(PLATFORM, "code", SUBJECT), "state": args.get("state", "")})
    return redirect(f"{target}{'&' if '?' in target else '?'}{query}")


@bp.get(TOKEN_PATH)
def first_token():
    args = request.args
    if args.get("app_key") != DEMO["app_key"] or args.get("app_secret") != DEMO["app_secret"]:
        return error(36004004, "Invalid app_key or app_secret.")
    code = args.get("auth_code", "")
    if args.get("grant_type") != "authorized_code" or not code_usable(PLATFORM, code, SUBJECT):
        return error(36004012, "The auth code is invalid or expired.")
    memory(PLATFORM).used_refresh.add(code)
    return token_pair()


@bp.get(SHOPS_PATH)
def shops():
    return ok({"shops": [{"id": "7490001", "name": "Harbor & Pine TikTok UK", "region": "GB",
                          "seller_type": "CROSS_BORDER", "cipher": DEMO["shop_cipher"], "code": "GBLCTTSUK"}]})


@bp.get(REFRESH_PATH)
def refresh():
    args = request.args
    token = args.get("refresh_token", "")
    if args.get("app_key") != DEMO["app_key"] or args.get("app_secret") != DEMO["app_secret"]:
        return error(36004004, "Invalid app_key or app_secret.")
    if args.get("grant_type") != "refresh_token":
        return error(36004004, "grant_type must be refresh_token.")
    if not refresh_usable(PLATFORM, token, DEMO["refresh_token"], SUBJECT, REFRESH_TTL):
        return error(36004013, "The refresh token is invalid or expired.")
    memory(PLATFORM).used_refresh.add(token)
    return token_pair()


def token_pair() -> Response:
    issued_at = int(now())
    return ok({"access_token": issue(PLATFORM, "at", SUBJECT), "access_token_expire_in": issued_at + ACCESS_TTL,
               "refresh_token": issue(PLATFORM, "rt", SUBJECT), "refresh_token_expire_in": issued_at + REFRESH_TTL,
               "open_id": "demo-open-id", "seller_name": "Harbor & Pine TikTok UK", "seller_base_region": "GB"})


@bp.post(SEARCH_PATH)
def search():
    try:
        size = int(request.args["page_size"])
        body = json.loads(request.get_data() or b"{}")
    except (KeyError, ValueError):
        return error(36009003, "page_size is required; the body must be JSON.")
    if not 1 <= size <= 100:
        return error(36009003, "page_size must be between 1 and 100.")
    low, high = int(body.get("create_time_ge", 0)), int(body.get("create_time_lt", 2 ** 40))
    chosen = [o for o in orders().values() if low <= o["create_time"] < high]
    offset = int(request.args.get("page_token") or 0)
    page = chosen[offset:offset + size]
    following = str(offset + size) if offset + size < len(chosen) else ""
    return ok({"orders": page, "next_page_token": following, "total_count": len(chosen)})


@bp.get(DETAIL_PATH)
def detail():
    ids = [i for i in request.args.get("ids", "").split(",") if i]
    if not 1 <= len(ids) <= 50:
        return error(36009003, "ids must hold 1 to 50 order ids.")
    known = orders()
    return ok({"orders": [known[i] for i in ids if i in known]})


@functools.lru_cache(maxsize=1)
def orders() -> dict[str, dict]:
    """TTS-UK demo export rows -> 202309 order objects (one line item per unit), by create_time."""
    from kpiapp.demo.marketplace import TIKTOK_HEADER, demo_uploads

    captured: dict = {}
    demo_uploads(captured)
    out: dict[str, dict] = {}
    for cells in captured["TTS-UK"]:
        row = dict(zip(TIKTOK_HEADER, cells))
        local = datetime.strptime(row["Created Time"], "%m/%d/%Y %I:%M:%S %p").replace(tzinfo=TZ)
        created = int(local.timestamp())
        cancelled = row["Order Status"] == "Cancelled"
        order = out.setdefault(row["Order ID"], {
            "id": row["Order ID"], "status": "CANCELLED" if cancelled else "COMPLETED",
            "create_time": created, "update_time": created + 86400, "paid_time": created + 30,
            "fulfillment_type": "FULFILLMENT_BY_SELLER", "is_cod": False, "is_sample_order": False,
            "is_replacement_order": False, "line_items": [],
            "payment": {"currency": "GBP", "sub_total": "0", "total_amount": "0", "seller_discount": "0",
                        "platform_discount": "0", "shipping_fee": "0", "tax": "0"}})
        add_lines(order, row)
    return dict(sorted(out.items(), key=lambda kv: kv[1]["create_time"]))


def add_lines(order: dict, row: dict) -> None:
    qty = int(row["Quantity"])
    after, seller = Decimal(row["SKU Subtotal After Discount"]), Decimal(row["SKU Seller Discount"])
    original = Decimal(row["SKU Unit Original Price"])
    for unit in range(qty):  # the last unit takes the rounding rest
        share = (after / qty).quantize(Decimal("0.01")) if unit < qty - 1 else \
            after - (after / qty).quantize(Decimal("0.01")) * (qty - 1)
        discount = (seller / qty).quantize(Decimal("0.01")) if unit < qty - 1 else \
            seller - (seller / qty).quantize(Decimal("0.01")) * (qty - 1)
        order["line_items"].append({
            "id": f"{order['id']}{len(order['line_items']):02d}", "sku_id": row["SKU ID"],
            "product_id": "1729000000000", "product_name": row["Product Name"], "seller_sku": row["Seller SKU"],
            "sku_name": row["Variation"], "sku_type": "NORMAL", "original_price": str(original),
            "sale_price": str(share), "seller_discount": str(discount), "platform_discount": "0",
            "is_gift": False})
    payment = order["payment"]
    for field, value in (("sub_total", after), ("total_amount", after), ("seller_discount", seller)):
        payment[field] = str(Decimal(payment[field]) + value)
