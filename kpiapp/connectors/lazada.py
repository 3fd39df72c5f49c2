"""Lazada Open Platform (INTEGRATIONS.md §5).

System parameters app_key, sign_method=sha256, timestamp (Unix milliseconds) and
access_token (not on the token calls) go with the application parameters in the query;
sign = HEX_UPPER(HMAC-SHA256(app_secret, api_path + "".join(k + v for k in sorted(params)))),
computed over the values before URL encoding. The envelope is {code, type, message,
request_id, data}; code "0" is success. Tokens come from the auth gateway
(/auth/token/refresh); the lifetimes are the response's expires_in / refresh_expires_in,
and the new refresh token goes to the TokenStore at once.

orders:     /orders/get by created_after/created_before (ISO 8601 with offset), offset paging
            with limit 100 until a short page, then /orders/items/get with order_ids as a JSON
            array of at most 50: one Document per batch (exact bytes) -> parsers/lazada_orders.py.
settlement: /finance/transaction/details/get by transaction date (start_time/end_time
            YYYY-MM-DD, windows under 180 days), offset paging with limit 500 until a short page:
            one Document per page (exact bytes) -> parsers/lazada_finance.py.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import date, timedelta
from urllib.parse import urlencode

from kpiapp.connectors.base import (Connector, ConnectorError, DataKind, Document, Failure,
                                    json_object, register)
from kpiapp.connectors.shopee import day_bounds

API_GATEWAY = "https://api.lazada.com.my/rest"
GATEWAYS = {"my": "https://api.lazada.com.my/rest", "sg": "https://api.lazada.sg/rest",
            "th": "https://api.lazada.co.th/rest", "vn": "https://api.lazada.vn/rest",
            "ph": "https://api.lazada.com.ph/rest", "id": "https://api.lazada.co.id/rest"}
AUTH_GATEWAY = "https://auth.lazada.com/rest"
AUTHORIZE_PAGE = "https://auth.lazada.com/oauth/authorize"
CREATE_PATH = "/auth/token/create"
REFRESH_PATH = "/auth/token/refresh"
ORDERS_PATH = "/orders/get"
ITEMS_PATH = "/orders/items/get"
FINANCE_PATH = "/finance/transaction/details/get"
FINANCE_PAGE = 500
FINANCE_WINDOW_DAYS = 90
PAGE_SIZE = 100
ITEMS_BATCH = 50
TOKEN_ERRORS = ("IllegalAccessToken", "AccessTokenExpired")  # [Unverified code names]


def string_to_sign(api_path: str, params: dict) -> str:
    return api_path + "".join(f"{k}{params[k]}" for k in sorted(params) if k != "sign")


def sign(app_secret: str, api_path: str, params: dict) -> str:
    message = string_to_sign(api_path, params).encode()
    return hmac.new(app_secret.encode(), message, hashlib.sha256).hexdigest().upper()


@register
class Lazada(Connector):
    platform = "lazada"
    kinds = (DataKind.orders, DataKind.settlement)
    credential_fields = ("app_key", "app_secret", "refresh_token")
    setting_fields = ("country", "timezone")
    default_base_url = API_GATEWAY

    @staticmethod
    def base_url_for(settings: dict) -> str:
        """The seller country's REST gateway (MY when the country is not set)."""
        return GATEWAYS.get(str(settings.get("country") or "my").strip().lower(), API_GATEWAY)

    def gateway(self) -> str:
        """The REST gateway: every Lazada gateway ends in /rest (a bare stand-in URL gets it)."""
        base = self.context.base_url.rstrip("/")
        return base if base.endswith("/rest") else base + "/rest"

    def is_live(self) -> bool:
        return self.gateway().startswith("https://api.lazada.")

    def auth_url(self) -> str:
        return AUTH_GATEWAY if self.is_live() else self.gateway()

    # ---- authorisation (the connections page's link) ---------------------------------------

    def authorize_url(self, state: str) -> str:
        page = AUTHORIZE_PAGE if self.is_live() else self.gateway().removesuffix("/rest") + "/oauth/authorize"
        query = {"response_type": "code", "force_auth": "true",
                 "redirect_uri": self.context.settings["redirect_uri"],
                 "client_id": self.context.credentials["app_key"], "state": state}
        return f"{page}?{urlencode(query)}"

    def exchange_code(self, code: str) -> None:
        """/auth/token/create with the code: the first token pair, stored at once."""
        doc, _raw = self._get(self.auth_url(), CREATE_PATH, {"code": code})
        self.keep_tokens(doc, Failure.auth_failed)

    # ---- the calls ---------------------------------------------------------------------

    def call(self, path: str, params: dict) -> tuple[dict, bytes]:
        """One signed GET; an expired token is refreshed once and the call retried once."""
        for attempt in (0, 1):
            doc, raw = self._get(self.gateway(), path, {**params, "access_token": self.access_token()})
            code = str(doc.get("code", ""))
            if code == "0":
                return doc, raw
            if attempt == 0 and code in TOKEN_ERRORS:
                self.refresh()
                continue
            raise self._failure(code, doc.get("message", ""))
        raise AssertionError("unreachable")

    def _get(self, base: str, path: str, params: dict) -> tuple[dict, bytes]:
        ctx = self.context
        query = {"app_key": ctx.credentials["app_key"], "sign_method": "sha256",
                 "timestamp": str(int(ctx.now().timestamp() * 1000)),
                 **{k: str(v) for k, v in params.items()}}
        query["sign"] = sign(ctx.credentials["app_secret"], path, query)
        response = ctx.http.get(base.rstrip("/") + path, params=query)
        return json_object(response), response.content

    @staticmethod
    def _failure(code: str, message: str) -> ConnectorError:
        if code in TOKEN_ERRORS or code in ("IncompleteSignature", "InvalidAppKey", "AppWhiteIpLimit"):
            return ConnectorError(Failure.auth_failed, f"{code}: {message}"[:200])
        if code in ("ApiCallLimit", "AppCallLimit"):
            return ConnectorError(Failure.throttled, f"{code}: {message}"[:200])
        return ConnectorError(Failure.bad_response, f"{code}: {message}"[:200])

    # ---- tokens --------------------------------------------------------------------------

    def refresh(self) -> str:
        ctx = self.context
        refresh_token = ctx.tokens.get("refresh_token") or ctx.credentials.get("refresh_token")
        if not refresh_token:
            raise ConnectorError(Failure.auth_expired, "no refresh token: authorise the seller")
        doc, _raw = self._get(self.auth_url(), REFRESH_PATH, {"refresh_token": refresh_token})
        return self.keep_tokens(doc, Failure.auth_expired)

    def keep_tokens(self, doc: dict, failure: Failure) -> str:
        if str(doc.get("code")) != "0" or not doc.get("access_token") or not doc.get("refresh_token"):
            raise ConnectorError(failure, f"token refused: {doc.get('code')}")
        expires = self.context.now().timestamp() + float(doc.get("expires_in") or 0)
        self.context.tokens.put(access_token=doc["access_token"], refresh_token=doc["refresh_token"],
                                access_token_expires_at=str(int(expires)))
        return doc["access_token"]

    # ---- the contract --------------------------------------------------------------------

    def test(self) -> None:
        self.call("/seller/get", {})

    def pull(self, kind, date_from: date, date_to: date):
        kind = DataKind(kind)
        if kind == DataKind.settlement:
            return self.pull_finance(date_from, date_to)
        if kind != DataKind.orders:
            raise ConnectorError(Failure.not_supported, f"lazada: {kind}")
        first, stop = day_bounds(date_from, date_to, self.context.settings.get("timezone"))
        ids = self.order_ids(first.isoformat(), stop.isoformat())
        documents = []
        for n, start in enumerate(range(0, len(ids), ITEMS_BATCH), start=1):
            batch = json.dumps(ids[start:start + ITEMS_BATCH], separators=(",", ":"))
            _doc, raw = self.call(ITEMS_PATH, {"order_ids": batch})
            documents.append(Document(DataKind.orders, "lazada_orders",
                                      f"{self.context.store_code}_orders_{date_from}_{date_to}_{n:03d}.json",
                                      raw, date_from, date_to))
        return iter(documents)

    def order_ids(self, created_after: str, created_before: str) -> list[int]:
        ids, offset = [], 0
        while True:
            doc, _raw = self.call(ORDERS_PATH, {
                "created_after": created_after, "created_before": created_before, "offset": offset,
                "limit": PAGE_SIZE, "sort_by": "created_at", "sort_direction": "ASC"})
            page = (doc.get("data") or {}).get("orders") or []
            ids += [int(o["order_id"]) for o in page if o.get("order_id")]
            if len(page) < PAGE_SIZE:
                return list(dict.fromkeys(ids))
            offset += PAGE_SIZE

    def pull_finance(self, date_from: date, date_to: date):
        documents = []
        start = date_from
        while start <= date_to:
            end = min(date_to, start + timedelta(days=FINANCE_WINDOW_DAYS - 1))
            documents += self.finance_pages(start, end)
            start = end + timedelta(days=1)
        return iter(documents)

    def finance_pages(self, start: date, end: date) -> list[Document]:
        pages, offset = [], 0
        while True:
            doc, raw = self.call(FINANCE_PATH, {"start_time": start.isoformat(), "end_time": end.isoformat(),
                                                "offset": offset, "limit": FINANCE_PAGE})
            rows = doc.get("data") or []
            if rows:
                name = f"{self.context.store_code}_finance_{start}_{end}_{len(pages) + 1:03d}.json"
                pages.append(Document(DataKind.settlement, "lazada_finance", name, raw, start, end))
            if len(rows) < FINANCE_PAGE:
                return pages
            offset += FINANCE_PAGE
