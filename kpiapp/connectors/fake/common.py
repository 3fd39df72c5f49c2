"""What every platform stand-in shares (docs/connectors.md, "The stand-in").

The state of one stand-in app lives in `state()` (app.extensions["fake_marketplace"]), so each
`create_app()` starts clean: tests build their own. Helpers:

- `failure(platform)`: the failure a test switched on with `POST /_fake/fail`
  (`expired_token`, `fatal`, `truncated`, `throttle`), or None.
- `state().tokens`: access/refresh token issue, expiry and refresh-token rotation.
- `throttle(key)`: a burst counter; returns a 429 response (with `Retry-After` and
  `x-amzn-RateLimit-Limit`) when more than `limit` requests come within `window` seconds,
  or always while the `throttle` failure is on; None otherwise.
- `state().reports`: the report state machine, IN_QUEUE → IN_PROGRESS → DONE over polls
  (FATAL when the `fatal` failure is on at creation).
- `gzip_bytes(data)`, `document_bytes(platform, data)`: gzip, cut in half when `truncated`.
- `DEMO_CREDENTIALS` / `DEMO_SETTINGS`: what the demo stores are connected with; a platform's
  fake module may define its own dicts of the same names for its platform keys, which win.
"""
from __future__ import annotations

import gzip
import importlib
import secrets
import threading
import time
from dataclasses import dataclass, field

from flask import current_app, jsonify

FAILURES = ("expired_token", "fatal", "truncated", "throttle")
DEMO_BASE_URL = "http://127.0.0.1:5999"

# what the stand-in accepts and the demo stores carry (kpiapp/demo/connections.py)
DEMO_CREDENTIALS = {
    "amazon_sp": {"client_id": "amzn1.application-oa2-client.demo", "client_secret": "demo-lwa-secret",
                  "refresh_token": "Atzr|demo-refresh-token"},
    "amazon_ads": {"client_id": "amzn1.application-oa2-client.demo", "client_secret": "demo-lwa-secret",
                   "refresh_token": "Atzr|demo-refresh-token"},
    "shopee": {"partner_id": "2001887", "partner_key": "demo-shopee-partner-key",
               "refresh_token": "demo-shopee-refresh"},
    "tiktok": {"app_key": "6demoappkey", "app_secret": "demo-tiktok-secret",
               "refresh_token": "demo-tiktok-refresh"},
    "lazada": {"app_key": "100001", "app_secret": "demo-lazada-secret", "refresh_token": "demo-lazada-refresh"},
}
DEMO_SETTINGS = {
    "amazon_sp": {"region": "na", "marketplace_id": "ATVPDKIKX0DER"},
    "amazon_ads": {"region": "na", "profile_id": "3770001"},
    "shopee": {"shop_id": "880001"},
    "tiktok": {"shop_id": "7490001", "shop_cipher": "GCP_demo_cipher"},
    "lazada": {"country": "sg"},
}


def clock():
    """Seconds since the epoch; tests move time by replacing `state().now`."""
    return time.time()


@dataclass
class Token:
    platform: str
    subject: str  # whose token: a client id, a shop id...
    expires_at: float


class Tokens:
    """Access tokens with an expiry, refresh tokens that rotate (the old one stops working)."""

    def __init__(self, now):
        self.now = now
        self.access: dict[str, Token] = {}
        self.refresh: dict[str, Token] = {}
        self.lock = threading.Lock()

    def issue(self, platform, subject, lifetime=3600, refresh_lifetime=30 * 86400):
        """A new (access token, refresh token) pair for `subject`."""
        with self.lock:
            access, refresh = f"{platform}-at-{secrets.token_hex(12)}", f"{platform}-rt-{secrets.token_hex(12)}"
            self.access[access] = Token(platform, subject, self.now() + lifetime)
            self.refresh[refresh] = Token(platform, subject, self.now() + refresh_lifetime)
            return access, refresh

    def add_refresh(self, platform, subject, refresh, lifetime=30 * 86400):
        """Accept a known refresh token (the demo's) until it is rotated."""
        with self.lock:
            self.refresh[refresh] = Token(platform, subject, self.now() + lifetime)

    def check(self, platform, access):
        """None when `access` is a live token of `platform`, else "invalid" or "expired"."""
        token = self.access.get(access or "")
        if token is None or token.platform != platform:
            return "invalid"
        if token.expires_at <= self.now() or failure(platform) == "expired_token":
            return "expired"
        return None

    def subject(self, access):
        token = self.access.get(access or "")
        return token.subject if token else None

    def rotate(self, platform, refresh, lifetime=3600, rotate=True):
        """Exchange a refresh token: a new pair (the old refresh token dies when `rotate`),
        or None when it is unknown, expired or the `expired_token` failure is on."""
        with self.lock:
            token = self.refresh.get(refresh or "")
            if token is None or token.platform != platform or token.expires_at <= self.now():
                return None
            if failure(platform) == "expired_token":
                return None
            if rotate:
                del self.refresh[refresh]
        access, new_refresh = self.issue(platform, token.subject, lifetime)
        if not rotate:
            with self.lock:
                del self.refresh[new_refresh]
            new_refresh = refresh
        return access, new_refresh

    def expire_all(self, platform):
        with self.lock:
            for token in self.access.values():
                if token.platform == platform:
                    token.expires_at = 0


@dataclass
class Report:
    id: str
    platform: str
    kind: str
    params: dict
    content: bytes
    fatal: bool = False
    polls: int = 0
    created_at: float = 0.0

    @property
    def status(self):
        if self.polls < 1:
            return "IN_QUEUE"
        if self.polls < 2:
            return "IN_PROGRESS"
        return "FATAL" if self.fatal else "DONE"


class Reports:
    """Asynchronous reports: each poll moves one step, IN_QUEUE → IN_PROGRESS → DONE (or FATAL)."""

    def __init__(self, now):
        self.now = now
        self.items: dict[str, Report] = {}
        self.lock = threading.Lock()

    def create(self, platform, kind, params, content):
        with self.lock:
            report_id = str(50_000 + len(self.items) + 1)
            self.items[report_id] = Report(report_id, platform, kind, dict(params), content,
                                           fatal=failure(platform) == "fatal", created_at=self.now())
            return self.items[report_id]

    def poll(self, report_id):
        """The report after one more poll, or None when unknown."""
        with self.lock:
            report = self.items.get(str(report_id))
            if report is not None:
                report.polls += 1
            return report

    def get(self, report_id):
        return self.items.get(str(report_id))


@dataclass
class State:
    now: object = clock
    failures: dict = field(default_factory=dict)  # platform -> failure name
    hits: dict = field(default_factory=dict)  # throttle key -> [timestamps]
    limit: int = 40  # requests per window before 429
    window: float = 1.0
    requests: list = field(default_factory=list)  # (platform, method, path) for tests
    tokens: Tokens = None
    reports: Reports = None

    def __post_init__(self):
        self.tokens = Tokens(lambda: self.now())
        self.reports = Reports(lambda: self.now())


def state() -> State:
    return current_app.extensions["fake_marketplace"]


def failure(platform):
    return state().failures.get(platform)


def set_failure(platform, name):
    if name and name not in FAILURES:
        raise ValueError(name)
    if name:
        state().failures[platform] = name
    else:
        state().failures.pop(platform, None)


def throttle(key, rate_limit="0.0167"):
    """A 429 response when `key` is over its burst or the `throttle` failure is on, else None."""
    st = state()
    now = st.now()
    recent = [t for t in st.hits.get(key, []) if t > now - st.window]
    recent.append(now)
    st.hits[key] = recent
    platform = key.split(":", 1)[0]
    if len(recent) <= st.limit and failure(platform) != "throttle":
        return None
    response = jsonify({"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource."}]})
    response.status_code = 429
    response.headers["Retry-After"] = "1"
    response.headers["x-amzn-RateLimit-Limit"] = rate_limit
    return response


def gzip_bytes(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def document_bytes(platform, data: bytes, compress=True) -> bytes:
    """The document as served: gzipped (when `compress`), cut short while `truncated` is on."""
    body = gzip_bytes(data) if compress else data
    if failure(platform) == "truncated":
        return body[: max(1, len(body) // 2)]
    return body


def demo_credentials(platform):
    return dict(_override("DEMO_CREDENTIALS", platform) or DEMO_CREDENTIALS.get(platform) or {})


def demo_settings(platform):
    return dict(_override("DEMO_SETTINGS", platform) or DEMO_SETTINGS.get(platform) or {})


PLATFORM_MODULES = ("amazon", "shopee", "tiktok", "lazada")


def platform_modules():
    """The platform stand-in modules present in this checkout (each exposes a Blueprint `bp`)."""
    found = []
    for name in PLATFORM_MODULES:
        try:
            found.append(importlib.import_module(f"kpiapp.connectors.fake.{name}"))
        except ModuleNotFoundError as error:
            if error.name != f"kpiapp.connectors.fake.{name}":
                raise
    return found


def _override(name, platform):
    for module in platform_modules():
        values = getattr(module, name, {})
        if platform in values:
            return values[platform]
    return None
