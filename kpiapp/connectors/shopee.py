"""Shopee Open Platform v2 (INTEGRATIONS.md §3, DATA-FORMATS.md §5).

Every call carries partner_id, timestamp (Unix seconds, valid 5 min) and sign =
hex(HMAC-SHA256(partner_key, partner_id + api_path + timestamp [+ access_token + shop_id])).
The access token lives 4 hours; a refresh token works once, so the new one is handed to
the TokenStore (persisted at once by the service) before anything else is done with it.

orders:     get_order_list by create_time in windows of at most 15 days, cursor paging, then
            get_order_detail in batches of at most 50: one Document per batch, the exact
            response bytes, read by parsers/shopee_orders.py.
settlement: get_escrow_list by release time (page_no paging, 15-day windows), then the
            get_escrow_detail objects of each release day through get_escrow_detail_batch (20
            orders a call, as Shopee recommends, instead of one call per order): one Document per
            batch (exact bytes), read by parsers/shopee_escrow.py with that day as payout date.
ads:        ads/get_all_cpc_ads_daily_performance (DD-MM-YYYY, at most one month, start and end
            never the same day: a one-day pull asks from the day before), one Document per window
            -> parsers/shopee_ads.py.
Shop performance (late shipment, non-fulfilment, response rate) is not pulled: the API gives
rates, not the counts our health measures keep (docs/connectors.md).
"""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import date, datetime, time, timedelta, timezone
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from kpiapp.connectors.base import (Connector, ConnectorError, DataKind, Document, Failure,
                                    json_object, register)

WINDOW_DAYS = 15
PAGE_SIZE = 100
DETAIL_BATCH = 50
ORDER_FIELDS = ("buyer_user_id,item_list,cancel_by,cancel_reason,pay_time,pickup_done_time,"
                "shipping_carrier,payment_method,total_amount,actual_shipping_fee")
TOKEN_PATHS = ("/api/v2/auth/token/get", "/api/v2/auth/access_token/get")
AUTH_PATH = "/api/v2/shop/auth_partner"
ADS_PATH = "/api/v2/ads/get_all_cpc_ads_daily_performance"
ESCROW_BATCH_PATH = "/api/v2/payment/get_escrow_detail_batch"
ESCROW_BATCH = 20  # "limit [1,50]; the number of recommended requests ranges from 1 to 20 orders"
ADS_WINDOW_DAYS = 28  # "Date range can't be longer than 1 month"


def token_refused(error: str, message) -> bool:
    """The SDK's rule: invalid_access_token (or error_auth about the token) means refresh once."""
    return error == "invalid_access_token" or (error == "error_auth" and "access_token" in str(message or ""))


def base_string(partner_id, api_path, timestamp, access_token="", shop_id="") -> str:
    """The documented base string: public APIs omit access_token and shop_id."""
    return f"{partner_id}{api_path}{timestamp}{access_token or ''}{shop_id or ''}"


def sign(partner_key: str, partner_id, api_path, timestamp, access_token="", shop_id="") -> str:
    message = base_string(partner_id, api_path, timestamp, access_token, shop_id)
    return hmac.new(partner_key.encode(), message.encode(), hashlib.sha256).hexdigest()


def windows(start: datetime, end: datetime, days: int = WINDOW_DAYS):
    """[start, end) split into (time_from, time_to) Unix pairs no longer than `days`."""
    step = timedelta(days=days)
    while start < end:
        stop = min(start + step, end)
        yield int(start.timestamp()), int(stop.timestamp()) - (1 if stop == end else 0)
        start = stop


def ads_windows(date_from: date, date_to: date, days: int = ADS_WINDOW_DAYS):
    """(first, last) day pairs of at most `days` days; never first == last (the API refuses it)."""
    first = date_from
    while first <= date_to:
        last = min(date_to, first + timedelta(days=days - 1))
        yield (last - timedelta(days=1), last) if first == last else (first, last)
        first = last + timedelta(days=1)


def day_bounds(date_from: date, date_to: date, tz: str | None) -> tuple[datetime, datetime]:
    zone = ZoneInfo(tz) if tz else timezone.utc
    first = datetime.combine(date_from, time(), zone)
    return first, datetime.combine(date_to + timedelta(days=1), time(), zone)


@register
class Shopee(Connector):
    platform = "shopee"
    kinds = (DataKind.orders, DataKind.settlement, DataKind.ads)
    credential_fields = ("partner_id", "partner_key", "refresh_token")
    setting_fields = ("shop_id", "timezone")
    default_base_url = "https://partner.shopeemobile.com"

    # ---- the calls ---------------------------------------------------------------------

    def call(self, method: str, path: str, params=None, body=None, *, shop=True) -> tuple[dict, bytes]:
        """One signed call; on an expired access token, refresh once and retry once."""
        for attempt in (0, 1):
            token = self.access_token() if shop else ""
            response = self._send(method, path, params, body, token, shop)
            doc = json_object(response)
            error = doc.get("error") or ""
            if not error:
                return doc, response.content
            if shop and attempt == 0 and token_refused(error, doc.get("message")):
                self.refresh()
                continue
            raise self._failure(error, doc.get("message", ""))
        raise ConnectorError(Failure.auth_failed, "access token refused after refresh")

    def _send(self, method, path, params, body, token, shop):
        ctx = self.context
        partner_id, shop_id = ctx.credentials["partner_id"], ctx.settings.get("shop_id", "")
        ts = int(ctx.now().timestamp())
        query = {"partner_id": partner_id, "timestamp": ts,
                 "sign": sign(ctx.credentials["partner_key"], partner_id, path, ts,
                              token if shop else "", shop_id if shop else "")}
        if shop:
            query.update(access_token=token, shop_id=shop_id)
        query.update(params or {})
        url = ctx.base_url.rstrip("/") + path
        if method == "GET":
            return ctx.http.get(url, params=query)
        return ctx.http.post(url, params=query, data=json.dumps(body or {}),
                             headers={"Content-Type": "application/json"})

    @staticmethod
    def _failure(error: str, message: str) -> ConnectorError:
        if error in ("error_sign", "error_auth", "error_permission", "invalid_access_token"):
            return ConnectorError(Failure.auth_failed, f"{error}: {message}"[:200])
        return ConnectorError(Failure.bad_response, f"{error}: {message}"[:200])

    # ---- tokens --------------------------------------------------------------------------

    def refresh(self) -> str:
        """POST /api/v2/auth/access_token/get; the rotated refresh token is stored at once."""
        ctx = self.context
        refresh_token = ctx.tokens.get("refresh_token") or ctx.credentials.get("refresh_token")
        if not refresh_token:
            raise ConnectorError(Failure.auth_expired, "no refresh token: authorise the shop")
        body = {"refresh_token": refresh_token, "partner_id": int(ctx.credentials["partner_id"]),
                "shop_id": int(ctx.settings["shop_id"])}
        return self.keep_tokens(json_object(self._send("POST", TOKEN_PATHS[1], None, body, "", False)),
                                Failure.auth_expired)

    def keep_tokens(self, doc: dict, failure: Failure) -> str:
        """Store a token answer at once (the refresh token it replaces works no more)."""
        if doc.get("error") or not doc.get("access_token") or not doc.get("refresh_token"):
            raise ConnectorError(failure, f"token refused: {doc.get('error', '')}")
        expires = self.context.now().timestamp() + int(doc.get("expire_in") or 14400)
        self.context.tokens.put(access_token=doc["access_token"], refresh_token=doc["refresh_token"],
                                access_token_expires_at=str(int(expires)))
        return doc["access_token"]

    # ---- authorisation (the connections page's link; the redirect brings code and shop_id) ----

    def authorize_url(self, state: str) -> str:
        """The shop authorisation page, signed with the public base; `state` rides in the redirect."""
        ctx = self.context
        partner_id, ts = ctx.credentials["partner_id"], int(ctx.now().timestamp())
        redirect = ctx.settings["redirect_uri"] + "?" + urlencode({"state": state})
        query = {"partner_id": partner_id, "timestamp": ts, "redirect": redirect,
                 "sign": sign(ctx.credentials["partner_key"], partner_id, AUTH_PATH, ts)}
        return f"{ctx.base_url.rstrip('/')}{AUTH_PATH}?{urlencode(query)}"

    def exchange_code(self, code: str) -> None:
        """POST /api/v2/auth/token/get (public sign): the first token pair, stored at once."""
        ctx = self.context
        body = {"code": code, "partner_id": int(ctx.credentials["partner_id"]),
                "shop_id": int(ctx.settings["shop_id"])}
        answer = self._send("POST", TOKEN_PATHS[0], None, body, "", False)
        self.keep_tokens(json_object(answer), Failure.auth_failed)

    # ---- the contract --------------------------------------------------------------------

    def test(self) -> None:
        self.call("GET", "/api/v2/shop/get_shop_info")

    def pull(self, kind, date_from: date, date_to: date):
        kind = DataKind(kind)
        if kind == DataKind.orders:
            return self.pull_orders(date_from, date_to)
        if kind == DataKind.settlement:
            return self.pull_escrow(date_from, date_to)
        if kind == DataKind.ads:
            return self.pull_ads(date_from, date_to)
        raise ConnectorError(Failure.not_supported, f"shopee: {kind}")

    def bounds(self, date_from, date_to):
        return day_bounds(date_from, date_to, self.context.settings.get("timezone"))

    def pull_orders(self, date_from, date_to):
        documents = []
        for time_from, time_to in windows(*self.bounds(date_from, date_to)):
            numbers = self.order_numbers(time_from, time_to)
            first, last = self.local_day(time_from), self.local_day(time_to)
            for n, start in enumerate(range(0, len(numbers), DETAIL_BATCH), start=1):
                batch = numbers[start:start + DETAIL_BATCH]
                _doc, raw = self.call("GET", "/api/v2/order/get_order_detail",
                                      {"order_sn_list": ",".join(batch),
                                       "response_optional_fields": ORDER_FIELDS})
                documents.append(Document(DataKind.orders, "shopee_orders",
                                          f"{self.context.store_code}_orders_{first}_{last}_{n:03d}.json",
                                          raw, first, last))
        return iter(documents)

    def order_numbers(self, time_from: int, time_to: int) -> list[str]:
        numbers, cursor = [], ""
        while True:
            doc, _raw = self.call("GET", "/api/v2/order/get_order_list",
                                  {"time_range_field": "create_time", "time_from": time_from,
                                   "time_to": time_to, "page_size": PAGE_SIZE, "cursor": cursor})
            page = doc.get("response") or {}
            numbers += [o["order_sn"] for o in page.get("order_list") or [] if o.get("order_sn")]
            if not page.get("more"):
                return list(dict.fromkeys(numbers))
            if not page.get("next_cursor") or page["next_cursor"] == cursor:
                raise ConnectorError(Failure.bad_response, "more=true without a new next_cursor")
            cursor = page["next_cursor"]

    def pull_escrow(self, date_from, date_to):
        by_day: dict[date, list[str]] = {}
        for time_from, time_to in windows(*self.bounds(date_from, date_to)):
            for entry in self.escrow_list(time_from, time_to):
                day = self.local_day(int(entry["escrow_release_time"]))
                by_day.setdefault(day, []).append(entry["order_sn"])
        documents = []
        for day, numbers in sorted(by_day.items()):
            numbers = list(dict.fromkeys(numbers))
            for n, start in enumerate(range(0, len(numbers), ESCROW_BATCH), start=1):
                batch = {"order_sn_list": numbers[start:start + ESCROW_BATCH]}
                _doc, raw = self.call("POST", ESCROW_BATCH_PATH, body=batch)
                name = f"{self.context.store_code}_escrow_{day}_{n:03d}.json"
                documents.append(Document(DataKind.settlement, "shopee_escrow", name, raw, day, day))
        return iter(documents)

    def escrow_list(self, time_from: int, time_to: int) -> list[dict]:
        entries, page_no = [], 1
        while True:
            doc, _raw = self.call("GET", "/api/v2/payment/get_escrow_list",
                                  {"release_time_from": time_from, "release_time_to": time_to,
                                   "page_size": PAGE_SIZE, "page_no": page_no})
            page = doc.get("response") or {}
            entries += [e for e in page.get("escrow_list") or [] if e.get("order_sn")]
            if not page.get("more"):
                return entries
            page_no += 1

    def pull_ads(self, date_from, date_to):
        documents = []
        for first, last in ads_windows(date_from, date_to):
            dates = {"start_date": f"{first:%d-%m-%Y}", "end_date": f"{last:%d-%m-%Y}"}
            _doc, raw = self.call("GET", ADS_PATH, dates)
            name = f"{self.context.store_code}_ads_{first}_{last}.json"
            documents.append(Document(DataKind.ads, "shopee_ads", name, raw, first, last))
        return iter(documents)

    def local_day(self, unix: int) -> date:
        tz = self.context.settings.get("timezone")
        return datetime.fromtimestamp(unix, ZoneInfo(tz) if tz else timezone.utc).date()
