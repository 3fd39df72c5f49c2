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
ACCESS, EXPIRES, REFRESH = "lwa_access_token", "lwa_expires_at", "refresh_token"
AUTH_EXPIRED_ERRORS = {"invalid_grant", "unauthorized_client"}
AUTH_FAILED_ERRORS = {"invalid_client", "invalid_request", "invalid_scope"}


def token_form(credentials: dict, refresh_token: str | None = None) -> dict:
    """The form LWA expects for a seller-authorised call: exactly these four fields. A refresh
    token obtained through the authorisation link (`refresh_token`) wins over a typed one."""
    credentials = {**credentials, **({"refresh_token": refresh_token} if refresh_token else {})}
    missing = [k for k in ("client_id", "client_secret", "refresh_token") if not credentials.get(k)]
    if missing:
        raise ConnectorError(Failure.auth_failed, "missing " + ", ".join(missing))
    return {"grant_type": "refresh_token", "refresh_token": credentials["refresh_token"],
            "client_id": credentials["client_id"], "client_secret": credentials["client_secret"]}


def code_form(credentials: dict, code: str, redirect_uri: str) -> dict:
    """The form that exchanges an authorisation code (the seller's consent) for tokens."""
    return {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "client_id": credentials.get("client_id", ""),
            "client_secret": credentials.get("client_secret", "")}


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
    return obtain(context, token_url, token_form(context.credentials, context.tokens.get(REFRESH)))


def exchange_code(context: Context, token_url: str, code: str, redirect_uri: str) -> str:
    """The seller's consent code for a refresh token (kept with the tokens) and an access token."""
    return obtain(context, token_url, code_form(context.credentials, code, redirect_uri))


def obtain(context: Context, token_url: str, form: dict) -> str:
    response = context.http.post(token_url, data=form, headers={"Content-Type": FORM_TYPE})
    body = json_or_empty(response)
    if response.status_code != 200:
        raise ConnectorError(refusal(response.status_code, body.get("error")),
                             f"LWA {response.status_code} {body.get('error', '')}".strip())
    token, lifetime = body.get("access_token"), body.get("expires_in")
    if not token or not isinstance(lifetime, int):
        raise ConnectorError(Failure.bad_response, "LWA answer without access_token/expires_in")
    expires = context.now() + timedelta(seconds=lifetime)
    values = {ACCESS: token, EXPIRES: expires.isoformat()}
    if form["grant_type"] == "authorization_code" and body.get("refresh_token"):
        values[REFRESH] = body["refresh_token"]
    context.tokens.put(**values)
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
