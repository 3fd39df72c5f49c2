"""Feishu / Lark: the custom bot webhook and messages to a person through the Open API.

Bot sign [Observed, INTEGRATIONS.md 7.1]: unlike DingTalk the string f"{ts}\\n{secret}" is the
HMAC-SHA256 *key* and the message is empty; ts in seconds; `timestamp` and `sign` go in the
JSON body. App [Observed, 7.2]: POST /open-apis/auth/v3/tenant_access_token/internal, then
POST /open-apis/im/v1/messages?receive_id_type=... with `content` a JSON-encoded *string*."""
import base64
import hashlib
import hmac
import json

from kpiapp.notifications.channels import Message, PlatformError, Request, plain

API = "https://open.feishu.cn"
THROTTLED = {11232}
TOKEN_INVALID = {99991661, 99991663, 99991668}  # the app token is invalid or expired: fetch a new one


def sign(secret, timestamp_s):
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def post_content(message: Message, locale_tag="zh_cn"):
    """A rich-text "post": the text, then the deep link as a link."""
    lines = [[{"tag": "text", "text": message.text}]]
    if message.link:
        lines.append([{"tag": "a", "text": f"{message.link_label} →", "href": message.link}])
    return {"post": {locale_tag: {"title": message.title, "content": lines}}}


def robot_request(webhook_url, secret, message: Message, timestamp_s, at_user_id=None):
    content = post_content(message)
    if at_user_id:
        content["post"]["zh_cn"]["content"][0].append({"tag": "at", "user_id": at_user_id})
    body = {"msg_type": "post", "content": content}
    if secret:
        body = {"timestamp": str(timestamp_s), "sign": sign(secret, timestamp_s), **body}
    return Request("POST", webhook_url, json=body)


def token_request(app_id, app_secret, api=API):
    return Request("POST", f"{api}/open-apis/auth/v3/tenant_access_token/internal",
                   json={"app_id": app_id, "app_secret": app_secret})


def message_request(token, receive_id, message: Message, uuid, api=API, id_type="user_id"):
    body = {"receive_id": receive_id, "msg_type": "text",
            "content": json.dumps({"text": plain(message)}, ensure_ascii=False), "uuid": uuid}
    return Request("POST", f"{api}/open-apis/im/v1/messages", params={"receive_id_type": id_type}, json=body,
                   headers={"Authorization": f"Bearer {token}"})


def check(answer):
    code = (answer or {}).get("code", (answer or {}).get("StatusCode", -1))
    if code != 0:
        raise PlatformError(code, str((answer or {}).get("msg", ""))[:200], retryable=code in THROTTLED)
    return answer


def token_of(answer):
    """(token, lifetime in seconds) from the token answer."""
    answer = check(answer)
    return answer["tenant_access_token"], int(answer.get("expire") or 0)
