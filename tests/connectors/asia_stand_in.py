"""The stand-in app (kpiapp/connectors/fake) on an in-process requests session, with one frozen
clock shared by the connector and the stand-in, for the Shopee/TikTok/Lazada connector tests."""
from __future__ import annotations

from datetime import datetime, timezone

from kpiapp.connectors.base import Context, MemoryTokens
from kpiapp.connectors.fake import create_app
from kpiapp.connectors.fake.shopee import calls
from kpiapp.connectors.fake.transport import session_for
from kpiapp.connectors.http import Client

BASE = "http://stand-in.test"
START = datetime(2026, 11, 27, 3, 0, tzinfo=timezone.utc)


class Clock:
    """Unix seconds for the stand-in, an aware datetime for the connector; sleeping advances it."""

    def __init__(self, when: datetime = START):
        self.value = when.timestamp()

    def unix(self) -> float:
        return self.value

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.value, timezone.utc)

    def advance(self, seconds: float) -> None:
        self.value += seconds


class StandIn:
    def __init__(self, platform):
        self.platform = platform
        self.clock = Clock()
        self.app = create_app(now=self.clock.unix)
        self.session = session_for(self.app, BASE)

    def client(self, **kwargs) -> Client:
        return Client(session=self.session, sleep=self.clock.advance, rand=lambda: 0.5, **kwargs)

    def context(self, store_code, credentials, settings, tokens=None, client=None, base_url=BASE):
        return Context(store_code=store_code, credentials=dict(credentials), settings=dict(settings),
                       tokens=tokens or MemoryTokens(), base_url=base_url, http=client or self.client(),
                       now=self.clock.now)

    def fail(self, failure):
        answer = self.session.post(BASE + "/_fake/fail", json={"platform": self.platform, "failure": failure})
        assert answer.status_code == 200, answer.text

    def calls(self) -> list[str]:
        return calls(self.app, self.platform)
