"""Login with Amazon (LWA): the refresh token -> access token exchange of SP-API and Ads API.

INTEGRATIONS.md §1.1: a form POST of grant_type, refresh_token, client_id and client_secret
to the regional token URL; the answer's access token lives `expires_in` seconds (3600). We
keep it in the connection's TokenStore until MARGIN seconds before it expires, so one pull of
thirty reports asks LWA once, and a token never reaches Amazon in its last minutes.
A refused refresh token (400 invalid_grant: revoked, expired, or the app was de-authorised)
means the seller must authorise again: Failure.auth_expired. A refused client id or secret
(401 invalid_client) is Failure.auth_failed.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from kpiapp.connectors.base import ConnectorError, Context, Failure

TOKEN_URLS = {  # Ads API token hosts per region; SP-API uses the NA one for every region
    "NA": "https://api.amazon.com/auth/o2/token",
    "EU": "https://api.amazon.co.uk/auth/o2/token",
    "FE": "https://api.amazon.co.jp/auth/o2/token",
}
TOKEN_PATH = "/auth/o2/token"
FORM_TYPE = "application/x-www-form-urlencoded;charset=UTF-8"
MARGIN = timedelta(minutes=5)
ACCESS, EXPIRES = "lwa_access_token", "lwa_expires_at"
AUTH_EXPIRED_ERRORS = {"invalid_grant", "unauthorized_client"}
AUTH_FAILED_ERRORS = {"invalid_client", "invalid_request", "invalid_scope"}


def token_form(credentials: dict) -> dict:
    """The form LWA expects for a seller-authorised call: exactly these four fields."""
    missing = [k for k in ("client_id", "client_secret", "refresh_token") if not credentials.get(k)]
    if missing:
        raise ConnectorError(Failure.auth_failed, "missing " + ", ".join(missing))
    return {"grant_type": "refresh_token", "refresh_token": credentials["refresh_token"],
            "client_id": credentials["client_id"], "client_secret": credentials["client_secret"]}


def access_token(context: Context, token_url: str) -> str:
    """A usable access token: the cached one while it has MARGIN left, else a fresh one."""
    token, expires = context.tokens.get(ACCESS), context.tokens.get(EXPIRES)
    if token and expires and datetime.fromisoformat(expires) - MARGIN > context.now():
        return token
    return refresh(context, token_url)


def forget(context: Context) -> None:
    """Drop the cached token (the API said it expired before we thought it would)."""
    context.tokens.put(**{ACCESS: None, EXPIRES: None})


def refresh(context: Context, token_url: str) -> str:
    """Exchange the refresh token for an access token and store it with its expiry time."""
    response = context.http.post(token_url, data=token_form(context.credentials),
                                 headers={"Content-Type": FORM_TYPE})
    body = json_or_empty(response)
    if response.status_code != 200:
        raise ConnectorError(refusal(response.status_code, body.get("error")),
                             f"LWA {response.status_code} {body.get('error', '')}".strip())
    token, lifetime = body.get("access_token"), body.get("expires_in")
    if not token or not isinstance(lifetime, int):
        raise ConnectorError(Failure.bad_response, "LWA answer without access_token/expires_in")
    expires = context.now() + timedelta(seconds=lifetime)
    context.tokens.put(**{ACCESS: token, EXPIRES: expires.isoformat()})
    return token


def refusal(status: int, error: str | None) -> Failure:
    if error in AUTH_EXPIRED_ERRORS:
        return Failure.auth_expired
    if error in AUTH_FAILED_ERRORS or status in (400, 401, 403):
        return Failure.auth_failed
    return Failure.unreachable


def json_or_empty(response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
