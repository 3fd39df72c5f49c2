"""Amazon connectors against the in-process stand-in: time spent in our code per report, and
the waits a backfill owes to Amazon's usage plans (slept on a recorded clock, not for real).

    .venv/bin/python bench/amazon_pull_bench.py [--days 30]

Pulls --days of Sales and Traffic (one report a day) and the Ads window, with the connectors'
sleeps recorded instead of slept (the stand-in's clock moves by as much), then prints:
wall time, HTTP calls, our time per report, and the recorded waits split into polling and
rate-limit pacing, first at the stand-in's announced rates and then with the buckets pinned to
Amazon's default usage plans (createReport 0.0167/s burst 15 ...), i.e. what the same backfill
would wait against the real SP-API before Amazon's own processing time.
"""

import argparse
import os
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("KPIAPP_ENV", "test")

from kpiapp.connectors import amazon_ads, amazon_sp  # noqa: E402,F401 (registers the connectors)
from kpiapp.connectors.base import REGISTRY, Context, DataKind, MemoryTokens  # noqa: E402
from kpiapp.connectors.fake import amazon as fake  # noqa: E402
from kpiapp.connectors.fake import create_app  # noqa: E402
from kpiapp.connectors.fake.transport import session_for  # noqa: E402
from kpiapp.connectors.http import Client  # noqa: E402

BASE = "http://stand-in.bench"
LAST = date(2026, 11, 26)


class Clock:
    """Recorded sleeps that move the stand-in's and the buckets' clocks together."""

    def __init__(self, state):
        self.state, self.seconds, self.polls, self.pacing = state, 0.0, 0.0, 0.0
        self.kind = "pacing"

    def monotonic(self):
        return self.seconds

    def sleep(self, seconds):
        self.seconds += seconds
        self.state.advance(seconds)
        setattr(self, self.kind, getattr(self, self.kind) + seconds)


def connector(platform, app, clock, settings, amazon_plans):
    session = session_for(app, BASE)
    http = Client(session=session, sleep=clock.sleep)
    context = Context("AMZ-US", fake.DEMO_CREDENTIALS[platform], settings, MemoryTokens(), BASE, http,
                      now=app.extensions["fake_amazon"].now)
    made = REGISTRY[platform](context)
    if platform == "amazon_sp":
        made.buckets = {name: amazon_sp.Bucket(*plan, clock=clock.monotonic)
                        for name, plan in amazon_sp.USAGE_PLANS.items()}
        if amazon_plans:  # keep Amazon's rates whatever the stand-in announces
            for bucket in made.buckets.values():
                bucket.rerate = lambda _header: None
    return made


def run(days, amazon_plans):
    app = create_app(now=lambda: datetime(2026, 11, 27, 6, tzinfo=timezone.utc).timestamp())
    state = app.extensions["fake_amazon"]
    clock = Clock(state)
    sp = connector("amazon_sp", app, clock, fake.DEMO_SETTINGS["amazon_sp"], amazon_plans)
    ads = connector("amazon_ads", app, clock, fake.DEMO_SETTINGS["amazon_ads"], amazon_plans)
    polls = {"sp": amazon_sp.AmazonSP.wait_for, "ads": amazon_ads.AmazonAds.wait_for}

    def polling(method):
        def wrapped(self, report_id):
            clock.kind = "polls"
            try:
                return method(self, report_id)
            finally:
                clock.kind = "pacing"
        return wrapped

    amazon_sp.AmazonSP.wait_for, amazon_ads.AmazonAds.wait_for = polling(polls["sp"]), polling(polls["ads"])
    try:
        started = time.perf_counter()
        sales = list(sp.pull(DataKind.sales, LAST - timedelta(days=days - 1), LAST))
        ads_docs = list(ads.pull(DataKind.ads, LAST, LAST))
        wall = time.perf_counter() - started
    finally:
        amazon_sp.AmazonSP.wait_for, amazon_ads.AmazonAds.wait_for = polls["sp"], polls["ads"]
    reports = len(sales) + len(ads_docs)
    return {"reports": reports, "calls": len(state.calls), "wall": wall, "polls": clock.polls,
            "pacing": clock.pacing}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    run(1, False)  # warm-up: the demo generator's files are built once per process
    for label, amazon_plans in (("stand-in rates", False), ("Amazon default plans", True)):
        r = run(args.days, amazon_plans)
        per_report = 1000 * r["wall"] / r["reports"]
        print(f"{label}: {args.days} sales days + 14 ads days -> {r['reports']} reports, "
              f"{r['calls']} HTTP calls, our time {r['wall']:.2f} s ({per_report:.0f} ms/report); "
              f"recorded waits: polling {r['polls']:.0f} s, rate pacing {r['pacing']:.0f} s")


if __name__ == "__main__":
    main()
