"""DingTalk: the custom group robot (加签) and work notifications to a person through an app.

Robot sign [Observed, INTEGRATIONS.md 6]: ts = unix millis; sign = urlencode(base64(
HMAC-SHA256(key=secret, msg=f"{ts}\\n{secret}"))); appended to the webhook URL as
&timestamp=&sign=. App: GET /gettoken?appkey=&appsecret= then POST
/topapi/message/corpconversation/asyncsend_v2?access_token= [Unverified: DingTalk's legacy
server API, kept for its one-request shape]."""
import base64
import hashlib
import hmac
from urllib.parse import quote_plus

from kpiapp.notifications.channels import Message, PlatformError, Request, markdown

API = "https://oapi.dingtalk.com"
THROTTLED = {130101}  # sending too fast: worth trying again later
TOKEN_INVALID = {40014, 42001}  # the app token is invalid or expired: fetch a new one


def sign(secret, timestamp_ms):
    """The URL-encoded robot signature for `timestamp_ms` (a str or int of unix milliseconds)."""
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode())


def robot_request(webhook_url, secret, message: Message, timestamp_ms, at_user_ids=()):
    url = webhook_url
    if secret:
        joiner = "&" if "?" in url else "?"
        url = f"{url}{joiner}timestamp={timestamp_ms}&sign={sign(secret, timestamp_ms)}"
    text = markdown(message)
    if at_user_ids:
        text += "\n\n" + " ".join(f"@{uid}" for uid in at_user_ids)
    body = {"msgtype": "markdown", "markdown": {"title": message.title, "text": text},
            "at": {"atUserIds": list(at_user_ids), "isAtAll": False}}
    return Request("POST", url, json=body)


def token_request(app_key, app_secret, api=API):
    return Request("GET", f"{api}/gettoken", params={"appkey": app_key, "appsecret": app_secret})


def work_notice_request(token, agent_id, user_id, message: Message, api=API):
    body = {"agent_id": agent_id, "userid_list": user_id,
            "msg": {"msgtype": "markdown", "markdown": {"title": message.title, "text": markdown(message)}}}
    return Request("POST", f"{api}/topapi/message/corpconversation/asyncsend_v2",
                   params={"access_token": token}, json=body)


def check(answer):
    """Raise PlatformError unless the JSON answer says ok (errcode 0)."""
    code = (answer or {}).get("errcode", -1)
    if code != 0:
        raise PlatformError(code, str((answer or {}).get("errmsg", ""))[:200], retryable=code in THROTTLED)
    return answer


def token_of(answer):
    """(token, lifetime in seconds) from the token answer."""
    answer = check(answer)
    return answer["access_token"], int(answer.get("expires_in") or 0)
