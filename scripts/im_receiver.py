"""A stand-in for the DingTalk, Feishu and WeCom group robots, for the demo (scripts/run.sh).

Listens on 127.0.0.1 only. Checks what the real platforms check first (INTEGRATIONS.md 9):
DingTalk: `timestamp` (ms, within 1 h) and `sign` recomputed from DINGTALK_SECRET; Feishu:
`timestamp` (s) and `sign` in the body, recomputed from FEISHU_SECRET; WeCom: the `key`. It answers
in each platform's shape ({"errcode": 0} / {"code": 0}, or the platform's error code) and
appends every message it accepts or refuses to a JSON-lines log, so the demo shows what would
have reached the groups.

    python scripts/im_receiver.py --port 5990 --log instance/im-receiver.jsonl
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

WINDOW_S = 3600


def dingtalk_ok(query, secret):
    timestamp, sign = query.get("timestamp", [""])[0], query.get("sign", [""])[0]
    if not secret:
        return True
    if not timestamp.isdigit() or abs(int(timestamp) / 1000 - time.time()) > WINDOW_S:
        return False
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(digest).decode(), sign)


def feishu_ok(body, secret):
    if not secret:
        return True
    timestamp, sign = str(body.get("timestamp", "")), str(body.get("sign", ""))
    if not timestamp.isdigit() or abs(int(timestamp) - time.time()) > WINDOW_S:
        return False
    digest = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(digest).decode(), sign)


class Receiver(BaseHTTPRequestHandler):
    settings = {}

    def do_POST(self):
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        except ValueError:
            return self.answer(400, {"errcode": 400, "errmsg": "not JSON"}, "?", None)
        if url.path.startswith("/dingtalk/"):
            ok = dingtalk_ok(query, self.settings.get("dingtalk_secret"))
            return self.answer(200, {"errcode": 0 if ok else 310000, "errmsg": "ok" if ok else "sign not match"},
                               "dingtalk", body if ok else None)
        if url.path.startswith("/feishu/"):
            ok = feishu_ok(body, self.settings.get("feishu_secret"))
            return self.answer(200, {"code": 0 if ok else 19021, "msg": "success" if ok else "sign match fail"},
                               "feishu", body if ok else None)
        if url.path.startswith("/wecom/"):
            ok = query.get("key", [""])[0] == self.settings.get("wecom_key")
            return self.answer(200, {"errcode": 0 if ok else 93000, "errmsg": "ok" if ok else "invalid webhook key"},
                               "wecom", body if ok else None)
        return self.answer(404, {"errcode": 404, "errmsg": "unknown robot"}, "?", None)

    def answer(self, status, payload, platform, accepted):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        line = {"at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "platform": platform,
                "accepted": accepted is not None, "answer": payload, "message": accepted}
        with open(self.settings["log"], "a", encoding="utf-8") as handle:
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")

    def log_message(self, format, *args):  # the request line carries the robot token: not logged
        return


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("IM_RECEIVER_PORT", 5990)))
    parser.add_argument("--log", default="instance/im-receiver.jsonl")
    args = parser.parse_args()
    Receiver.settings = {"log": args.log, "dingtalk_secret": os.environ.get("DINGTALK_SECRET"),
                         "feishu_secret": os.environ.get("FEISHU_SECRET"),
                         "wecom_key": os.environ.get("IM_RECEIVER_WECOM_KEY", "demo-wecom-key")}
    ThreadingHTTPServer(("127.0.0.1", args.port), Receiver).serve_forever()


if __name__ == "__main__":
    main()
