"""WeCom (企业微信): the group robot webhook (the `key` in its URL is the only credential, no
signing) and app messages (GET /cgi-bin/gettoken?corpid=&corpsecret=, POST
/cgi-bin/message/send?access_token=). INTEGRATIONS.md 8. Markdown is at most 4096 bytes."""
from kpiapp.notifications.channels import Message, PlatformError, Request, markdown

API = "https://qyapi.weixin.qq.com"
THROTTLED = {45009}
TOKEN_INVALID = {40014, 42001}  # the app token is invalid or expired: fetch a new one
MARKDOWN_MAX_BYTES = 4096


def clip(text, limit=MARKDOWN_MAX_BYTES):
    data = text.encode()
    return text if len(data) <= limit else data[:limit - 3].decode(errors="ignore") + "..."


def robot_request(webhook_url, message: Message, at_user_id=None):
    text = markdown(message)
    if at_user_id:
        text += f"\n<@{at_user_id}>"
    return Request("POST", webhook_url, json={"msgtype": "markdown", "markdown": {"content": clip(text)}})


def token_request(corp_id, corp_secret, api=API):
    return Request("GET", f"{api}/cgi-bin/gettoken", params={"corpid": corp_id, "corpsecret": corp_secret})


def app_message_request(token, agent_id, user_id, message: Message, api=API):
    body = {"touser": user_id, "msgtype": "markdown", "agentid": int(agent_id) if str(agent_id).isdigit()
            else agent_id, "markdown": {"content": clip(markdown(message))}}
    return Request("POST", f"{api}/cgi-bin/message/send", params={"access_token": token}, json=body)


def check(answer):
    code = (answer or {}).get("errcode", -1)
    if code != 0:
        raise PlatformError(code, str((answer or {}).get("errmsg", ""))[:200], retryable=code in THROTTLED)
    return answer


def token_of(answer):
    """(token, lifetime in seconds) from the token answer."""
    answer = check(answer)
    return answer["access_token"], int(answer.get("expires_in") or 0)
