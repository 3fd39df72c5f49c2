"""Shopee / TikTok / Lazada pulls from the stand-in: calls, documents, bytes, 429 waits, time.

    .venv/bin/python bench/asia_pulls_bench.py [--first 2026-11-01] [--last 2026-11-26] [--burst 40]

The stand-in app (kpiapp/connectors/fake) answers in this process (fake/transport.py), on the
real clock, with its burst limit (--burst requests a second, then 429 + Retry-After: 1), so
the figures show what throttling costs a pull: waits are the connector's backoff sleeps
(full jitter, never under Retry-After). Nothing is written to a database.
"""

import argparse
import os
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("KPIAPP_ENV", "test")

from kpiapp.connectors import lazada, shopee, tiktok  # noqa: E402,F401  (register the connectors)
from kpiapp.connectors.base import REGISTRY, Context, MemoryTokens  # noqa: E402
from kpiapp.connectors.fake import create_app  # noqa: E402
from kpiapp.connectors.fake import lazada as fake_lazada  # noqa: E402
from kpiapp.connectors.fake import shopee as fake_shopee  # noqa: E402
from kpiapp.connectors.fake import tiktok as fake_tiktok  # noqa: E402
from kpiapp.connectors.fake.transport import session_for  # noqa: E402
from kpiapp.connectors.http import Client  # noqa: E402

BASE = "http://stand-in.bench"
CASES = [("shopee", "SHP-SG", "orders", fake_shopee), ("shopee", "SHP-SG", "settlement", fake_shopee),
         ("shopee", "SHP-SG", "ads", fake_shopee), ("tiktok", "TTS-UK", "orders", fake_tiktok),
         ("lazada", "LZD-MY", "orders", fake_lazada), ("lazada", "LZD-MY", "settlement", fake_lazada)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--first", type=date.fromisoformat, default=date(2026, 11, 1))
    parser.add_argument("--last", type=date.fromisoformat, default=date(2026, 11, 26))
    parser.add_argument("--burst", type=int, default=40)
    args = parser.parse_args()
    for module in (fake_shopee, fake_tiktok, fake_lazada):  # the demo data, generated once, not timed
        module.orders()
    print(f"{'platform':8} {'kind':10} {'calls':>6} {'429s':>5} {'docs':>5} {'bytes':>9} {'waited s':>9} {'total s':>8}")
    for platform, code, kind, module in CASES:
        app = create_app(limit=args.burst)
        client = Client(session=session_for(app, BASE))
        context = Context(code, module.DEMO_CREDENTIALS[platform], module.DEMO_SETTINGS[platform], MemoryTokens(),
                          BASE, client)
        started = time.perf_counter()
        docs = list(REGISTRY[platform](context).pull(kind, args.first, args.last))
        elapsed = time.perf_counter() - started
        calls = Counter(name for name, _method, _path in app.extensions["fake_marketplace"].requests)[platform]
        print(f"{platform:8} {kind:10} {calls:6d} {len(client.waits):5d} {len(docs):5d} "
              f"{sum(len(d.content) for d in docs):9d} {sum(client.waits):9.1f} {elapsed:8.1f}")


if __name__ == "__main__":
    main()
