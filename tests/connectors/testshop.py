"""A tiny connector and its stand-in blueprint, for testing the framework without the platform
connectors: LWA-like token refresh with rotation, an async report (IN_QUEUE → IN_PROGRESS →
DONE over polls) and a gzip document of the demo's sales-and-traffic JSON, served from
kpiapp/connectors/fake/data.py through the shared helpers of fake/common.py."""
import gzip
import json
import zlib
from datetime import date, timedelta

from flask import Blueprint, abort, jsonify, request

from kpiapp.connectors import base
from kpiapp.connectors.fake import common, data

PLATFORM = "testshop"
CLIENT = {"client_id": "test-client", "client_secret": "test-secret-XYZZY-4242"}
REFRESH = "test-refresh-PLANTED-9876"
AUTH_CODE = "auth-code-1"

bp = Blueprint("testshop", __name__, url_prefix="/testshop")


@bp.post("/token")
def token():
    body = request.form
    if (body.get("client_id"), body.get("client_secret")) != (CLIENT["client_id"], CLIENT["client_secret"]):
        return jsonify({"error": "invalid_client"}), 401
    if body.get("code") == AUTH_CODE:
        access, refresh = common.state().tokens.issue(PLATFORM, "authorised")
        return jsonify({"access_token": access, "refresh_token": refresh, "expires_in": 3600})
    if body.get("refresh_token") == REFRESH and REFRESH not in common.state().tokens.refresh:
        common.state().tokens.add_refresh(PLATFORM, "demo", REFRESH)
    pair = common.state().tokens.rotate(PLATFORM, body.get("refresh_token"))
    if pair is None:
        return jsonify({"error": "invalid_grant"}), 400
    return jsonify({"access_token": pair[0], "refresh_token": pair[1], "expires_in": 3600})


def authorised():
    limited = common.throttle(f"{PLATFORM}:api")
    if limited is not None:
        abort(limited)
    problem = common.state().tokens.check(PLATFORM, request.headers.get("x-access-token"))
    if problem:
        abort(401)


@bp.get("/ping")
def ping():
    authorised()
    return jsonify({"ok": True})


@bp.post("/reports")
def create_report():
    authorised()
    code, day = request.json["store"], date.fromisoformat(request.json["day"])
    content = json.dumps(data.sales_traffic(code, day, day)).encode()
    report = common.state().reports.create(PLATFORM, "sales", request.json, content)
    return jsonify({"reportId": report.id}), 202


@bp.get("/reports/<report_id>")
def get_report(report_id):
    authorised()
    report = common.state().reports.poll(report_id) or abort(404)
    return jsonify({"processingStatus": report.status, "reportDocumentId": f"doc-{report.id}"})


@bp.get("/documents/doc-<report_id>")
def document(report_id):
    authorised()
    report = common.state().reports.get(report_id) or abort(404)
    return common.document_bytes(PLATFORM, report.content), 200, {"Content-Type": "application/octet-stream"}


@base.register
class TestShop(base.Connector):
    platform = PLATFORM
    kinds = (base.DataKind.sales,)
    credential_fields = ("client_id", "client_secret", "refresh_token")
    setting_fields = ("stand_in_store",)
    default_base_url = "https://testshop.invalid"

    def test(self):
        self.call("GET", "/ping")

    def authorize_url(self, state):
        from urllib.parse import urlencode

        query = urlencode({"state": state, "redirect_uri": self.context.settings["redirect_uri"]})
        return f"{self.context.base_url}/testshop/authorize?{query}"

    def exchange_code(self, code):
        creds = self.context.credentials
        answer = self.context.http.post(f"{self.context.base_url}/testshop/token", data={
            "client_id": creds["client_id"], "client_secret": creds["client_secret"], "code": code})
        if answer.status_code != 200:
            raise base.ConnectorError(base.Failure.auth_failed, f"HTTP {answer.status_code}")
        body = answer.json()
        self.context.tokens.put(access_token=body["access_token"], refresh_token=body["refresh_token"])

    def access_token(self):
        tokens = self.context.tokens
        if tokens.get("access_token"):
            return tokens.get("access_token")
        creds = self.context.credentials
        refresh = tokens.get("refresh_token") or creds["refresh_token"]
        answer = self.context.http.post(f"{self.context.base_url}/testshop/token", data={
            "client_id": creds["client_id"], "client_secret": creds["client_secret"], "refresh_token": refresh})
        if answer.status_code == 401:
            raise base.ConnectorError(base.Failure.auth_failed, "invalid_client")
        if answer.status_code == 400:
            raise base.ConnectorError(base.Failure.auth_expired, "invalid_grant")
        body = answer.json()
        tokens.put(access_token=body["access_token"], refresh_token=body["refresh_token"])
        return body["access_token"]

    def call(self, method, path, **kwargs):
        answer = self.context.http.request(method, f"{self.context.base_url}/testshop{path}",
                                           headers={"x-access-token": self.access_token()}, **kwargs)
        if answer.status_code == 401:
            self.context.tokens.put(access_token=None)
            answer = self.context.http.request(method, f"{self.context.base_url}/testshop{path}",
                                               headers={"x-access-token": self.access_token()}, **kwargs)
        if answer.status_code >= 400:
            raise base.ConnectorError(base.Failure.bad_response, f"HTTP {answer.status_code}")
        return answer

    def pull(self, kind, date_from, date_to):
        code = self.context.settings.get("stand_in_store") or self.context.store_code
        day = date_from
        while day <= date_to:
            yield self.day_report(code, day)
            day += timedelta(days=1)

    def day_report(self, code, day):
        report_id = self.call("POST", "/reports", json={"store": code, "day": day.isoformat()}).json()["reportId"]
        for _poll in range(5):
            status = self.call("GET", f"/reports/{report_id}").json()
            if status["processingStatus"] in ("DONE", "FATAL", "CANCELLED"):
                break
        else:
            raise base.ConnectorError(base.Failure.report_timeout, report_id)
        if status["processingStatus"] != "DONE":
            raise base.ConnectorError(base.Failure.report_fatal, status["processingStatus"])
        content = self.call("GET", f"/documents/{status['reportDocumentId']}").content
        try:
            gzip.decompress(content)
        except (EOFError, OSError, zlib.error) as error:
            raise base.ConnectorError(base.Failure.truncated, str(error)) from error
        return base.Document(base.DataKind.sales, "amazon_sales_traffic_json",
                             f"{code}_sales_{day.isoformat()}.json.gz", content, day, day)
