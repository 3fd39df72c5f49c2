"""The connector contract (docs/connectors.md): what every platform connector gives the sync
service, and what the service gives it. No Flask, no database: a connector speaks HTTP and
returns bytes; kpiapp/connectors/services.py stores them as imports.

A connector is built with the store's credentials (plain, opened from the vault by the
service), a TokenStore for the tokens it refreshes (the service persists them atomically,
so a rotated refresh token is never lost), the base URL (the platform's, or a stand-in's
with `--endpoint`), an HTTP client (kpiapp/connectors/http.py) and a clock. It pulls one data
kind over a date range and yields Documents: the bytes the platform sent, named so the
parser registry reads them exactly like an uploaded file.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from enum import StrEnum
from typing import Callable, Iterator, Protocol


class DataKind(StrEnum):
    sales = "sales"
    ads = "ads"
    orders = "orders"
    settlement = "settlement"
    inventory = "inventory"
    health = "health"


class Failure(StrEnum):
    """Why a pull failed, in words the connections page translates."""

    auth_expired = "auth_expired"  # refresh token revoked/expired: the store must be reconnected
    auth_failed = "auth_failed"  # wrong app credentials or signature refused
    throttled = "throttled"  # still 429 after the backoff budget
    report_fatal = "report_fatal"  # the platform said FATAL / CANCELLED
    report_timeout = "report_timeout"  # not DONE within the polling budget
    truncated = "truncated"  # document shorter than announced, or gzip/JSON cut off
    bad_response = "bad_response"  # not the documented shape
    unreachable = "unreachable"  # DNS, connection refused, TLS, 5xx after retries
    not_supported = "not_supported"  # this platform has no API for this data kind


class ConnectorError(Exception):
    def __init__(self, failure: Failure, detail: str = ""):
        super().__init__(f"{failure}: {detail}" if detail else str(failure))
        self.failure = Failure(failure)
        self.detail = detail


@dataclass(frozen=True)
class Document:
    """One report as pulled, handed to imports.services.start_import like an upload."""

    kind: DataKind
    parser: str  # a kpiapp.parsers.PARSERS key
    filename: str  # e.g. "AMZ-US_sales_2026-11-20.json" (the extension the parser expects; .gz allowed)
    content: bytes  # exactly the bytes the platform sent (gzip stays gzip: the parsers gunzip)
    date_from: date | None = None
    date_to: date | None = None


class TokenStore(Protocol):
    """Tokens a connector obtains or refreshes; `put` is persisted by the service at once."""

    def get(self, name: str) -> str | None: ...

    def put(self, **values: str | None) -> None: ...


class MemoryTokens:
    """A TokenStore in memory (tests, `kpi sync --dry-run`)."""

    def __init__(self, **values):
        self.values = dict(values)
        self.saved = []

    def get(self, name):
        return self.values.get(name)

    def put(self, **values):
        self.values.update(values)
        self.saved.append(dict(values))


REFRESH_MARGIN = 300  # seconds: an access token is refreshed this long before it expires


def json_object(response) -> dict:
    """The response's JSON object; a body cut short is `truncated`, anything else not an object
    is `bad_response`."""
    try:
        doc = response.json()
    except ValueError as error:
        raise ConnectorError(Failure.truncated if response.content else Failure.bad_response,
                             f"HTTP {response.status_code}: not JSON") from error
    if not isinstance(doc, dict):
        raise ConnectorError(Failure.bad_response, "not a JSON object")
    return doc


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Context:
    """What a connector is built with."""

    store_code: str
    credentials: dict  # plain values, e.g. {"client_id": ..., "client_secret": ..., "refresh_token": ...}
    settings: dict  # non-secret: marketplace_id, region, profile_id, shop_id, shop_cipher...
    tokens: TokenStore
    base_url: str  # the platform's base URL for the store's region, or the stand-in's
    http: object  # kpiapp.connectors.http.Client
    now: Callable[[], datetime] = utc_now


class Connector:
    """Base class: subclasses set `platform`, `kinds`, `credential_fields`, `setting_fields`."""

    platform: str = ""
    kinds: tuple[DataKind, ...] = ()
    credential_fields: tuple[str, ...] = ()  # secrets: sealed at rest, never shown again
    setting_fields: tuple[str, ...] = ()  # plain settings shown on the connection form
    default_base_url: str = ""
    # seconds a pull of a kind may need per day of its range, beyond the usual job timeout (a kind
    # fetched as one report per day under a slow rate limit; services.pull_timeout)
    seconds_per_day: dict = {}

    def __init__(self, context: Context):
        self.context = context

    def access_token(self) -> str:
        """The stored access token while it has REFRESH_MARGIN left, else `refresh()`'s (tokens
        kept as `access_token` and `access_token_expires_at`, a POSIX timestamp)."""
        tokens = self.context.tokens
        token, expires = tokens.get("access_token"), tokens.get("access_token_expires_at")
        if token and expires and float(expires) - REFRESH_MARGIN > self.context.now().timestamp():
            return token
        return self.refresh()

    def refresh(self) -> str:
        raise NotImplementedError

    def test(self) -> None:
        """Check the credentials with one cheap call; raise ConnectorError if they do not work."""
        raise NotImplementedError

    def pull(self, kind: DataKind, date_from: date, date_to: date) -> Iterator[Document]:
        """Yield the documents of `kind` covering [date_from, date_to] (UTC dates of the store)."""
        raise NotImplementedError


REGISTRY: dict[str, type[Connector]] = {}


def register(cls: type[Connector]) -> type[Connector]:
    REGISTRY[cls.platform] = cls
    return cls
