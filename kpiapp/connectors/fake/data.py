"""The stand-in's numbers: the demo generator's (kpiapp/demo/marketplace.py), so a day pulled
from the stand-in equals the same day uploaded by the demo seed.

Inside the demo's range (2026-10-01 .. DEMO_TODAY) the values come from the very files the
seed uploads (same random stream); after it, each day is simulated on its own from a seed of
(store code, day), so the stand-in has data for any later day, the same on every call.
"""
import csv
import io
import json
import random
from datetime import date
from functools import cache

from kpiapp.demo import marketplace as demo


@cache
def uploads():
    """The demo seed's uploads, generated once: [(store code, filename, bytes, options)]."""
    return tuple((u.store, u.filename, u.data, dict(u.options)) for u in demo.demo_uploads())


@cache
def simulated():
    return demo.simulate(random.Random(demo.SEED))


def in_demo_range(day):
    return demo.FIRST_DAY <= day <= demo.DEMO_TODAY


def stores():
    return tuple(demo.STORE_MODEL)


def day(code, when: date) -> demo.Day:
    """The simulated business of store `code` on `when`."""
    if in_demo_range(when):
        return simulated()[code][when]
    rng = random.Random(f"{code}:{when.isoformat()}")
    return demo.simulate(rng, {code: demo.STORE_MODEL[code]}, when, when)[code][when]


def days(first, last):
    return list(demo.days(first, last))


def sales_traffic(code, first, last) -> dict:
    """The GET_SALES_AND_TRAFFIC_REPORT document (as a dict) of `code` for first..last."""
    data = {d: day(code, d) for d in days(first, last)}
    return json.loads(demo.sales_traffic_json(code, data, first, last))


def ads_rows(code, first, last) -> list[dict]:
    """Sponsored Products campaign rows per day: {date, campaign, currency, impressions, clicks,
    spend, orders, sales}, the numbers of the demo's uploaded campaign reports."""
    return [row for d in days(first, last) for row in _ads_day(code, d)]


def _ads_day(code, when):
    if in_demo_range(when):
        return [row for row in _uploaded_ads(code) if row["date"] == when.isoformat()]
    rng = random.Random(f"ads:{code}:{when.isoformat()}")
    return _csv_rows(demo.ads_csv(code, {when: day(code, when)}, when, when, rng))


@cache
def _uploaded_ads(code):
    rows = []
    for store, filename, data, _options in uploads():
        if store == code and filename.startswith("sp_campaigns_"):
            rows += _csv_rows(data)
    return rows


ADS_KEYS = ("date", "campaign", "currency", "impressions", "clicks", "spend", "orders", "sales")


def _csv_rows(data):
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig")))
    next(reader)
    return [dict(zip(ADS_KEYS, row)) for row in reader]


def uploaded_file(code, prefix):
    """The bytes of the demo upload of store `code` whose name starts with `prefix`
    (e.g. "Order.all", "All order", "all_orders_", "settlement_"), or None."""
    for store, filename, data, _options in uploads():
        if store == code and filename.startswith(prefix):
            return data
    return None
