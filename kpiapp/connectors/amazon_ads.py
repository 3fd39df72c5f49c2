"""Amazon Ads API v3: Sponsored Products campaigns, daily, through async reports (INTEGRATIONS.md §2).

POST /reporting/reports (spCampaigns, DAILY, GZIP_JSON) -> poll GET /reporting/reports/{id}
until COMPLETED -> download the presigned URL without the Ads headers -> gzip JSON array,
parser `amazon_ads`. Every call carries Authorization (LWA bearer token),
Amazon-Advertising-API-ClientId and Amazon-Advertising-API-Scope (the store's profile id).

Attribution keeps changing for days after a click, so every run re-pulls the trailing
TRAILING_DAYS days as well as the asked range; the importer replaces a day's facts on their
natural key, so the re-pull is idempotent (the same day twice is one set of facts).

The columns are those of the console's campaign report (date, campaign name, currency,
impressions, clicks, spend, 7-day orders and sales): a campaign's facts are keyed by its
name (the console file has no id), so a day pulled here replaces that day uploaded from the
console instead of standing beside it.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Iterator
from urllib.parse import urlencode

from kpiapp.connectors import lwa
from kpiapp.connectors.amazon_sp import USER_AGENT, check_document
from kpiapp.connectors.base import Connector, ConnectorError, DataKind, Document, Failure, register

REGION_HOSTS = {
    "NA": "https://advertising-api.amazon.com",
    "EU": "https://advertising-api-eu.amazon.com",
    "FE": "https://advertising-api-fe.amazon.com",
}
CREATE_TYPE = "application/vnd.createasyncreportrequest.v3+json"
CONSENT_URLS = {"NA": "https://www.amazon.com/ap/oa", "EU": "https://eu.account.amazon.com/ap/oa",
                "FE": "https://apac.account.amazon.com/ap/oa"}
SCOPE = "advertising::campaign_management"
TRAILING_DAYS = 14
WINDOW_DAYS = 31  # the longest range one spCampaigns DAILY report takes
COLUMNS = ["date", "campaignName", "campaignBudgetCurrencyCode", "impressions", "clicks", "cost",
           "purchases7d", "sales7d"]
POLL_DELAYS = (15, 30, 60, 60, 120)  # Ads asks for no more than one poll every 30-60 s
POLL_BUDGET = 100  # about three hours, the longest Amazon says a report can take
COMPLETED, FAILED = "COMPLETED", "FAILED"


def pull_range(date_from: date, date_to: date) -> tuple[date, date]:
    """The asked range widened to the trailing TRAILING_DAYS days that end at date_to."""
    return min(date_from, date_to - timedelta(days=TRAILING_DAYS - 1)), date_to


def windows(first: date, last: date) -> Iterator[tuple[date, date]]:
    while first <= last:
        end = min(last, first + timedelta(days=WINDOW_DAYS - 1))
        yield first, end
        first = end + timedelta(days=1)


def report_request(first: date, last: date) -> dict:
    return {"name": f"kpiapp SP campaigns {first}..{last}", "startDate": first.isoformat(),
            "endDate": last.isoformat(),
            "configuration": {"adProduct": "SPONSORED_PRODUCTS", "reportTypeId": "spCampaigns",
                              "groupBy": ["campaign"], "columns": COLUMNS, "timeUnit": "DAILY",
                              "format": "GZIP_JSON"}}


@register
class AmazonAds(Connector):
    platform = "amazon_ads"
    kinds = (DataKind.ads,)
    credential_fields = ("client_id", "client_secret", "refresh_token")
    setting_fields = ("profile_id", "region")
    default_base_url = REGION_HOSTS["NA"]

    @classmethod
    def base_url_for(cls, settings: dict) -> str:
        """The Ads host of the profile's region (services.platform_base_url asks)."""
        return REGION_HOSTS.get((settings.get("region") or "NA").upper(), cls.default_base_url)

    @property
    def region(self) -> str:
        region = (self.context.settings.get("region") or "NA").upper()
        if region not in REGION_HOSTS:
            raise ConnectorError(Failure.not_supported, f"unknown Ads region {region}")
        return region

    @property
    def stand_in(self) -> bool:
        base = (self.context.base_url or "").rstrip("/")
        return bool(base) and base not in REGION_HOSTS.values()

    def api_base(self) -> str:
        return self.context.base_url.rstrip("/") if self.stand_in else REGION_HOSTS[self.region]

    def token_url(self) -> str:
        return self.api_base() + lwa.TOKEN_PATH if self.stand_in else lwa.TOKEN_URLS[self.region]

    def authorize_url(self, state: str) -> str:
        """The LWA consent page for the Ads scope; Amazon sends the seller back with `code`."""
        base = self.api_base() + "/ap/oa" if self.stand_in else CONSENT_URLS[self.region]
        query = urlencode({"client_id": self.context.credentials.get("client_id", ""), "scope": SCOPE,
                           "response_type": "code", "redirect_uri": self.context.settings["redirect_uri"],
                           "state": state})
        return f"{base}?{query}"

    def exchange_code(self, code: str) -> None:
        lwa.exchange_code(self.context, self.token_url(), code, self.context.settings["redirect_uri"])

    def test(self) -> None:
        """GET /v2/profiles: the token works and the store's profile is among the account's."""
        profiles = self.call("GET", "/v2/profiles")
        if not any(str(p.get("profileId")) == self.profile_id() for p in profiles):
            raise ConnectorError(Failure.auth_failed, "the profile is not one of this account's")

    def pull(self, kind, date_from, date_to) -> Iterator[Document]:
        if DataKind(kind) != DataKind.ads:
            raise ConnectorError(Failure.not_supported, f"{self.platform} has no {kind}")
        for first, last in windows(*pull_range(date_from, date_to)):
            yield self.report(first, last)

    def report(self, first: date, last: date) -> Document:
        created = self.call("POST", "/reporting/reports", json=report_request(first, last),
                            content_type=CREATE_TYPE)
        if not created.get("reportId"):
            raise ConnectorError(Failure.bad_response, "create report without reportId")
        url = self.wait_for(created["reportId"])
        content = self.download(url)
        check_document(content, True, True)
        name = f"{self.context.store_code}_ads_{first}_{last}.json.gz"
        return Document(DataKind.ads, "amazon_ads", name, content, first, last)

    def wait_for(self, report_id: str) -> str:
        for attempt in range(POLL_BUDGET):
            report = self.call("GET", f"/reporting/reports/{report_id}")
            if report.get("status") == COMPLETED and report.get("url"):
                return report["url"]
            if report.get("status") == FAILED:
                raise ConnectorError(Failure.report_fatal, str(report.get("failureReason") or "FAILED"))
            self.context.http.sleep(POLL_DELAYS[min(attempt, len(POLL_DELAYS) - 1)])
        raise ConnectorError(Failure.report_timeout, f"report {report_id} not COMPLETED")

    def download(self, url: str) -> bytes:
        """The presigned S3 URL with User-Agent only: S3 refuses a second auth mechanism."""
        response = self.context.http.get(url, headers={"User-Agent": USER_AGENT})
        if response.status_code != 200:
            raise ConnectorError(Failure.bad_response, f"report download HTTP {response.status_code}")
        return response.content

    def profile_id(self) -> str:
        profile = str(self.context.settings.get("profile_id") or "").strip()
        if not profile:
            raise ConnectorError(Failure.bad_response, "no profile_id in the connection settings")
        return profile

    def call(self, method: str, path: str, content_type: str = "application/json", **kwargs):
        """One Ads call; a 401 (token expired early) refreshes the token once."""
        for retry in (False, True):
            response = self.context.http.request(method, self.api_base() + path,
                                                 headers=self.headers(path, content_type), **kwargs)
            if response.status_code == 401 and not retry:
                lwa.forget(self.context)
                continue
            return self.answer(path, response)
        raise AssertionError("unreachable")

    def headers(self, path: str, content_type: str) -> dict:
        headers = {"Authorization": "Bearer " + lwa.access_token(self.context, self.token_url()),
                   "Amazon-Advertising-API-ClientId": self.context.credentials.get("client_id", ""),
                   "User-Agent": USER_AGENT, "Content-Type": content_type, "Accept": "application/json"}
        if path != "/v2/profiles":  # the profile list is the one call made before a scope is known
            headers["Amazon-Advertising-API-Scope"] = self.profile_id()
        return headers

    def answer(self, path: str, response):
        if response.status_code in (401, 403):
            raise ConnectorError(Failure.auth_failed, f"{path} HTTP {response.status_code}")
        if response.status_code not in (200, 202):
            raise ConnectorError(Failure.bad_response, f"{path} HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError as error:
            raise ConnectorError(Failure.bad_response, f"{path} answered no JSON") from error
