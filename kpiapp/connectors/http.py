"""HTTP for connectors: one requests.Session, timeouts, and the platforms' throttling rules.

429 and 5xx are retried with exponential backoff and full jitter (AWS Architecture Blog,
"Exponential Backoff And Jitter"), honouring `Retry-After` when the platform sends it and
never sleeping less than the documented rate (`x-amzn-RateLimit-Limit`, requests per second)
allows. Connection errors are retried the same way. After `attempts` tries a 429 becomes
ConnectorError(throttled) and the rest ConnectorError(unreachable). The sleep and random
functions are injectable so tests run on a frozen clock.
"""
from __future__ import annotations

import random
import time

import requests

from kpiapp.connectors.base import ConnectorError, Failure

RETRY_STATUSES = {429, 500, 502, 503, 504}


class Client:
    def __init__(self, session=None, attempts=6, base_delay=1.0, max_delay=60.0, timeout=(5, 60),
                 sleep=time.sleep, rand=random.random):
        self.session = session or requests.Session()
        self.attempts, self.base_delay, self.max_delay = attempts, base_delay, max_delay
        self.timeout, self.sleep, self.rand = timeout, sleep, rand
        self.waits = []  # seconds slept, for tests and the pull log

    def request(self, method, url, **kwargs):
        """The response of the first try that is not 429/5xx; raises ConnectorError otherwise."""
        kwargs.setdefault("timeout", self.timeout)
        for attempt in range(self.attempts):
            try:
                response = self.session.request(method, url, **kwargs)
            except requests.RequestException as error:
                if attempt == self.attempts - 1:
                    raise ConnectorError(Failure.unreachable, type(error).__name__) from error
                self.wait(attempt, None)
                continue
            if response.status_code not in RETRY_STATUSES:
                return response
            if attempt == self.attempts - 1:
                failure = Failure.throttled if response.status_code == 429 else Failure.unreachable
                raise ConnectorError(failure, f"HTTP {response.status_code} after {self.attempts} tries")
            self.wait(attempt, response)
        raise AssertionError("unreachable")

    def get(self, url, **kwargs):
        return self.request("GET", url, **kwargs)

    def post(self, url, **kwargs):
        return self.request("POST", url, **kwargs)

    def wait(self, attempt, response):
        seconds = self.delay(attempt, response)
        self.waits.append(seconds)
        self.sleep(seconds)

    def delay(self, attempt, response):
        ceiling = min(self.max_delay, self.base_delay * 2 ** attempt)
        seconds = ceiling * self.rand()  # full jitter
        return max(seconds, floor_from_headers(response))


def floor_from_headers(response):
    """The least wait the platform asks for: Retry-After seconds, or 1 / x-amzn-RateLimit-Limit."""
    if response is None:
        return 0.0
    retry_after = response.headers.get("Retry-After")
    if retry_after and retry_after.strip().isdigit():
        return float(retry_after)
    rate = response.headers.get("x-amzn-RateLimit-Limit")
    try:
        return 1.0 / float(rate) if rate and float(rate) > 0 else 0.0
    except ValueError:
        return 0.0
