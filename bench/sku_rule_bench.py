"""The SKU-under-total rule on SQLite: today's NOT EXISTS against single-scan forms (issue 10).

    .venv/bin/python bench/sku_rule_bench.py [--stores 20] [--days 60] [--skus 200] [--repeat 2]

A SKU fact counts only when no total fact (sku "") exists for its store, family, day, period
end, ref and measure (`metrics.services.fact_filter`). On SQLite that NOT EXISTS runs as one
probe of the natural-key index per fact (SQLite has no hash or merge anti join). This bench
builds a scratch SQLite database through the app's migrations (the real table and indexes):
--stores stores x --days days x 4 measures, each with --skus SKU facts and, for half of the
groups, a total fact. Then it times, over every store, measure and day at once:
  A. `fact_groups` as the app runs it (the NOT EXISTS form);
  F. the floor: the same GROUP BY with no SKU rule at all (wrong result; the cost of reading);
  W. single scan, window: max(sku = '') OVER (PARTITION BY the total's key) marks the groups
     that have a total, in one pass, and the kept ids feed the GROUP BY;
  P. single scan, pre-aggregate: one GROUP BY (..., ref) summing totals and SKU rows apart,
     then a window over that small result picks totals or SKU sums;
  N. NOT IN (row values of the period's totals), an uncorrelated list.
It prints each form's median seconds, the plan of A, and whether its rows equal A's (P's sums are
compared after rounding to the column's 6 decimals: it adds in another order).
"""
import argparse
import os
import random
import statistics
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("KPIAPP_ENV", "test")
os.environ.pop("DATABASE_URL", None)  # the question is SQLite's planner

from sqlalchemy import text  # noqa: E402

from bench.scratch import scratch_app  # noqa: E402

MEASURES = ("units_ordered", "ordered_sales", "sessions", "page_views")
START = date(2026, 9, 1)
G = "f.store_id, f.family, f.measure, f.business_date, f.period_end, f.currency"
K = "store_id, family, measure, business_date, period_end, currency"
TOTAL_KEY = "store_id, family, business_date, period_end, ref, measure"


def seed(db, args):
    from kpiapp.models import ImportRecord, Store

    rnd = random.Random(7)
    stores = [Store(code=f"S{n}", name=f"S{n}", platform="amazon", marketplace="US", currency="USD",
                    timezone="UTC") for n in range(args.stores)]
    record = ImportRecord(filename="bench.csv", sha256="0" * 64, size=1, dedupe_key="sku-bench",
                          status="committed")
    db.session.add_all([*stores, record])
    db.session.flush()
    rows = []
    for store in stores:
        for d in range(args.days):
            day = START + timedelta(days=d)
            for measure in MEASURES:
                if rnd.random() < 0.5:
                    rows.append((store.id, day, "", measure, "100.5"))
                rows += [(store.id, day, f"SKU{k}", measure, str(rnd.randint(1, 50))) for k in range(args.skus)]
    db.session.execute(text(
        "INSERT INTO metric_fact (store_id, family, business_date, period_end, sku, ref, measure, value, "
        "currency, import_id, source_line) VALUES (:s, 'amazon_business_report', :d, :d, :k, '', :m, :v, "
        "'USD', :i, 0)"), [{"s": s, "d": d, "k": k, "m": m, "v": v, "i": record.id} for s, d, k, m, v in rows])
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    return [s.id for s in stores], START + timedelta(days=args.days - 1), len(rows)


def raw_forms(store_ids, last):
    ids, ms = ",".join(map(str, store_ids)), ",".join(f"'{m}'" for m in MEASURES)

    def bounds(a):
        return (f"{a}.store_id IN ({ids}) AND {a}.measure IN ({ms}) AND {a}.business_date >= '{START}' "
                f"AND {a}.business_date <= '{last}'")

    where = f"{bounds('f')} AND f.period_end <= '{last}'"
    return {
        "F": f"SELECT {G}, sum(f.value), count(*) FROM metric_fact f WHERE {where} GROUP BY {G} ORDER BY {G}",
        "W": f"""SELECT {G}, sum(f.value), count(*) FROM metric_fact f WHERE f.id IN (
                 SELECT id FROM (SELECT f.id, f.sku, max(f.sku = '') OVER (PARTITION BY {TOTAL_KEY}) AS has_total
                 FROM metric_fact f WHERE {where}) WHERE sku = '' OR has_total = 0) GROUP BY {G} ORDER BY {G}""",
        "P": f"""SELECT {K}, sum(part), sum(n) FROM (
                 SELECT {K}, CASE WHEN max(has_total) OVER w = 1 THEN tot ELSE skus END AS part,
                        CASE WHEN max(has_total) OVER w = 1 THEN ntot ELSE nsku END AS n
                 FROM (SELECT {G}, f.ref, sum(CASE WHEN f.sku = '' THEN f.value END) AS tot,
                         count(CASE WHEN f.sku = '' THEN 1 END) AS ntot,
                         sum(CASE WHEN f.sku != '' THEN f.value END) AS skus,
                         count(CASE WHEN f.sku != '' THEN 1 END) AS nsku, max(f.sku = '') AS has_total
                       FROM metric_fact f WHERE {where} GROUP BY {G}, f.ref)
                 WINDOW w AS (PARTITION BY {TOTAL_KEY}))
                 GROUP BY {K} HAVING sum(n) > 0 ORDER BY {K}""",
        "N": f"""SELECT {G}, sum(f.value), count(*) FROM metric_fact f WHERE {where} AND (f.sku = '' OR
                 ({TOTAL_KEY.replace('store_id', 'f.store_id').replace(', ', ', f.')}) NOT IN (
                 SELECT {TOTAL_KEY} FROM metric_fact t WHERE t.sku = '' AND {bounds('t')}))
                 GROUP BY {G} ORDER BY {G}""",
    }


def timed(run, repeat):
    times, rows = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        rows = run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), rows


def comparable(rows):
    """Rows with dates as text (raw SQL returns SQLite's text) and sums to the column's 6 decimals."""
    return [(*map(str, r[:6]), Decimal(str(r[6])).quantize(Decimal("0.000001")), r[7]) for r in rows]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--stores", type=int, default=20)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--skus", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--slow", action="store_true", help="also time N (tens of times slower)")
    args = parser.parse_args()
    from kpiapp.extensions import db
    from kpiapp.metrics.services import fact_groups

    with scratch_app("sku"):
        store_ids, last, facts = seed(db, args)
        print(f"SQLite {db.session.execute(text('select sqlite_version()')).scalar()}; {facts:,} facts; "
              f"load average before: {os.getloadavg()}")
        seconds, reference = timed(lambda: fact_groups(store_ids, list(MEASURES), START, last, None), args.repeat)
        reference = comparable(reference)
        print(f"A  fact_groups (NOT EXISTS, as the app runs it)   {seconds:7.2f} s  {len(reference)} groups")
        names = {"F": "floor: no SKU rule (wrong result)", "W": "single scan: window over the facts",
                 "P": "single scan: pre-aggregate, then window", "N": "NOT IN (row values of the totals)"}
        for key, sql in raw_forms(store_ids, last).items():
            if key == "N" and not args.slow:
                continue
            seconds, rows = timed(lambda: db.session.execute(text(sql)).all(), args.repeat)
            same = "same rows as A" if comparable(rows) == reference else "DIFFERENT rows"
            print(f"{key}  {names[key]:<46} {seconds:7.2f} s  {same}")
        sql = raw_forms(store_ids, last)["F"].replace("GROUP BY", "AND NOT EXISTS (SELECT 1 FROM metric_fact t "
              "WHERE f.sku != '' AND t.sku = '' AND t.store_id = f.store_id AND t.family = f.family AND "
              "t.business_date = f.business_date AND t.period_end = f.period_end AND t.ref = f.ref AND "
              "t.measure = f.measure) GROUP BY", 1)
        for row in db.session.execute(text("EXPLAIN QUERY PLAN " + sql)):
            print("   plan of A:", row[-1])
        print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
