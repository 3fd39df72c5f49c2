"""TikTok Shop Open API 202309 (INTEGRATIONS.md §4, DATA-FORMATS.md §6).

Every call carries app_key, timestamp (Unix seconds, within 5 min) and sign =
hex(HMAC-SHA256(app_secret, app_secret + path + sorted "key"+"value" (no sign, no
access_token) + body + app_secret)); shop calls add shop_cipher; the access token goes in
the `x-tts-access-token` header, never the query. The JSON body is serialised once and those
exact bytes are both signed and sent.

Tokens come from the auth host (`/api/v2/token/refresh`, app_secret in the query, not signed);
`*_expire_in` are absolute Unix times (read a value under 10^9 as a duration). The new
refresh token is handed to the TokenStore at once.

orders: POST /order/202309/orders/search (create_time window in the body, page_token paging)
for the ids, then GET /order/202309/orders?ids= in batches of at most 50: one Document per
batch, the exact response bytes, read by parsers/tiktok_orders.py.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import date
from urllib.parse import urlencode

from kpiapp.connectors.base import (Connector, ConnectorError, DataKind, Document, Failure,
                                    json_object, register)
from kpiapp.connectors.shopee import day_bounds

API_HOST = "https://open-api.tiktokglobalshop.com"
AUTH_HOST = "https://auth.tiktok-shops.com"
SEARCH_PATH = "/order/202309/orders/search"
DETAIL_PATH = "/order/202309/orders"
REFRESH_PATH = "/api/v2/token/refresh"
TOKEN_PATH = "/api/v2/token/get"
AUTHORIZE_PATH = "/oauth/authorize"
SHOPS_PATH = "/authorization/202309/shops"
PAGE_SIZE = 100
DETAIL_BATCH = 50
EXPIRED_CODES = (105002, 105001)  # access token expired / invalid [Unverified codes]
UNSIGNED = ("sign", "access_token")


def string_to_sign(path: str, params: dict, body: bytes = b"",
                   content_type: str = "application/json") -> bytes:
    """path + sorted key+value pairs (without sign and access_token) + the body bytes."""
    pairs = "".join(f"{k}{params[k]}" for k in sorted(params) if k not in UNSIGNED)
    text = (path + pairs).encode()
    if body and not content_type.startswith("multipart/form-data"):
        text += body
    return text


def sign(app_secret: str, path: str, params: dict, body: bytes = b"",
         content_type: str = "application/json") -> str:
    secret = app_secret.encode()
    message = secret + string_to_sign(path, params, body, content_type) + secret
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def epoch(value, now: float) -> float:
    """An *_expire_in value as a Unix time (clients disagree whether it is one)."""
    value = float(value or 0)
    return value if value > 1e9 else now + value


@register
class TikTok(Connector):
    platform = "tiktok"
    kinds = (DataKind.orders,)
    credential_fields = ("app_key", "app_secret", "refresh_token")
    setting_fields = ("shop_cipher", "timezone")
    default_base_url = API_HOST

    def auth_url(self) -> str:
        base = self.context.base_url.rstrip("/")
        return AUTH_HOST if base == API_HOST else base  # a stand-in serves both hosts

    # ---- the calls ---------------------------------------------------------------------

    def call(self, method: str, path: str, params: dict, body: dict | None = None) -> tuple[dict, bytes]:
        """One signed shop call; an expired token is refreshed once and the call retried once."""
        for attempt in (0, 1):
            response = self._send(method, path, params, body, self.access_token())
            doc = json_object(response)
            code = doc.get("code")
            if code == 0:
                return doc, response.content
            if attempt == 0 and code in EXPIRED_CODES:
                self.refresh()
                continue
            raise self._failure(code, doc.get("message", ""))
        raise AssertionError("unreachable")

    def _send(self, method, path, params, body, token):
        ctx = self.context
        query = {"app_key": ctx.credentials["app_key"], "timestamp": int(ctx.now().timestamp()), **params}
        if path != SHOPS_PATH:  # the shop list is the one call made before a shop is chosen
            query["shop_cipher"] = ctx.settings.get("shop_cipher") or ctx.tokens.get("shop_cipher") or ""
        raw = json.dumps(body, separators=(",", ":")).encode() if body is not None else b""
        query["sign"] = sign(ctx.credentials["app_secret"], path, query, raw)
        headers = {"x-tts-access-token": token, "content-type": "application/json"}
        url = ctx.base_url.rstrip("/") + path
        if method == "GET":
            return ctx.http.get(url, params=query, headers=headers)
        return ctx.http.post(url, params=query, data=raw, headers=headers)

    @staticmethod
    def _failure(code, message) -> ConnectorError:
        if code in (106001, 105001, 105002, 105005):
            return ConnectorError(Failure.auth_failed, f"{code}: {message}"[:200])
        return ConnectorError(Failure.bad_response, f"{code}: {message}"[:200])

    # ---- tokens --------------------------------------------------------------------------

    def refresh(self) -> str:
        ctx = self.context
        refresh_token = ctx.tokens.get("refresh_token") or ctx.credentials.get("refresh_token")
        if not refresh_token:
            raise ConnectorError(Failure.auth_expired, "no refresh token: authorise the shop")
        query = {"app_key": ctx.credentials["app_key"], "app_secret": ctx.credentials["app_secret"],
                 "refresh_token": refresh_token, "grant_type": "refresh_token"}
        return self.keep_tokens(json_object(ctx.http.get(self.auth_url() + REFRESH_PATH, params=query)),
                                Failure.auth_expired)

    def keep_tokens(self, doc: dict, failure: Failure) -> str:
        data = doc.get("data") or {}
        if doc.get("code") != 0 or not data.get("access_token") or not data.get("refresh_token"):
            raise ConnectorError(failure, f"token refused: {doc.get('code')}")
        expires = epoch(data.get("access_token_expire_in"), self.context.now().timestamp())
        self.context.tokens.put(access_token=data["access_token"], refresh_token=data["refresh_token"],
                                access_token_expires_at=str(int(expires)))
        return data["access_token"]

    # ---- authorisation (the connections page's link) ---------------------------------------

    def authorize_url(self, state: str) -> str:
        """The seller's consent page; TikTok sends the seller back to the app's registered
        redirect URL (redirect_uri is passed too, for the stand-in) with `code` and `state`."""
        query = {"app_key": self.context.credentials["app_key"], "state": state,
                 "redirect_uri": self.context.settings.get("redirect_uri", "")}
        return f"{self.auth_url()}{AUTHORIZE_PATH}?{urlencode(query)}"

    def exchange_code(self, code: str) -> None:
        """auth_code -> the first token pair (stored at once), then the shop's cipher."""
        ctx = self.context
        query = {"app_key": ctx.credentials["app_key"], "app_secret": ctx.credentials["app_secret"],
                 "auth_code": code, "grant_type": "authorized_code"}
        answer = ctx.http.get(self.auth_url() + TOKEN_PATH, params=query)
        self.keep_tokens(json_object(answer), Failure.auth_failed)
        doc, _raw = self.call("GET", SHOPS_PATH, {})
        shops = (doc.get("data") or {}).get("shops") or []
        if not shops or not shops[0].get("cipher"):
            raise ConnectorError(Failure.bad_response, "the authorisation names no shop")
        ctx.tokens.put(shop_cipher=shops[0]["cipher"])

    # ---- the contract --------------------------------------------------------------------

    def test(self) -> None:
        self.call("POST", SEARCH_PATH, {"page_size": 1}, {})

    def pull(self, kind, date_from: date, date_to: date):
        if DataKind(kind) != DataKind.orders:
            raise ConnectorError(Failure.not_supported, f"tiktok: {kind}")
        first, stop = day_bounds(date_from, date_to, self.context.settings.get("timezone"))
        ids = self.order_ids(int(first.timestamp()), int(stop.timestamp()))
        documents = []
        for n, start in enumerate(range(0, len(ids), DETAIL_BATCH), start=1):
            _doc, raw = self.call("GET", DETAIL_PATH, {"ids": ",".join(ids[start:start + DETAIL_BATCH])})
            documents.append(Document(DataKind.orders, "tiktok_orders",
                                      f"{self.context.store_code}_orders_{date_from}_{date_to}_{n:03d}.json",
                                      raw, date_from, date_to))
        return iter(documents)

    def order_ids(self, time_from: int, time_to: int) -> list[str]:
        ids, token = [], ""
        body = {"create_time_ge": time_from, "create_time_lt": time_to}
        while True:
            params = {"page_size": PAGE_SIZE, "sort_field": "create_time", "sort_order": "ASC"}
            if token:
                params["page_token"] = token
            doc, _raw = self.call("POST", SEARCH_PATH, params, body)
            data = doc.get("data") or {}
            ids += [str(o["id"]) for o in data.get("orders") or [] if o.get("id")]
            following = data.get("next_page_token") or ""
            if not following:
                return list(dict.fromkeys(ids))
            if following == token:
                raise ConnectorError(Failure.bad_response, "the same next_page_token twice")
            token = following
