"""What keeping fact_pick_day costs its writers (issue 10, docs/dashboards.md "The days kept").

    KPIAPP_ENV=dev DATABASE_URL=postgresql://postgres@127.0.0.1:5432/COPY \\
        .venv/bin/python bench/fact_pick_day_bench.py [--rounds 5] [--day 2026-11-15]

On a copy of a seed (every round rolled back), times `fact_pick.refresh` with fact_pick_day's
steps (subtract, add, compact), with 0038's fold (`--old-fold`: every key of the writer's days
deleted and inserted again, not only those with deltas) and with them made no-ops, alternated
in one connection: for
every store and one day (an import of that day into every store), and for one store and 30 days
(one store's import of a month). Prints the median and min ms of each, the difference, the rows
fact_pick_day holds after the with-steps rounds (one a key), and the load average.
"""
import argparse
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("KPIAPP_ENV", "dev")


# 0038's fold (PostgreSQL): every row of the days, whether its key had deltas or not
OLD_FOLD = """
WITH gone AS (
    DELETE FROM fact_pick_day WHERE id IN (
        SELECT id FROM fact_pick_day WHERE business_date BETWEEN :first AND :last FOR UPDATE SKIP LOCKED)
    RETURNING measure, business_date, currency, total, group_count)
INSERT INTO fact_pick_day (measure, business_date, currency, total, group_count)
SELECT measure, business_date, currency, SUM(total), SUM(group_count) FROM gone
GROUP BY measure, business_date, currency
HAVING SUM(group_count) <> 0 OR SUM(total) <> 0
"""


def old_compact(conn, first_day, last_day):
    from sqlalchemy import text

    conn.execute(text(OLD_FOLD), {"first": first_day, "last": last_day})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--day", default="2026-11-15")
    parser.add_argument("--old-fold", action="store_true", help="also time 0038's fold")
    args = parser.parse_args()
    from sqlalchemy import func, select

    from kpiapp.app import create_app
    from kpiapp.extensions import db
    from kpiapp.metrics import fact_pick, fact_pick_day
    from kpiapp.models import FactPickDay, Store

    day = date.fromisoformat(args.day)
    app = create_app()
    with app.app_context():
        stores = db.session.execute(select(Store.id).order_by(Store.id)).scalars().all()
        cases = {"every store, one day": (stores, day, day),
                 "one store, 30 days": (stores[:1], day - timedelta(days=29), day)}
        real = {name: getattr(fact_pick_day, name) for name in ("subtract", "add", "compact")}
        none = {name: (lambda *_a, **_k: None) for name in real}
        variants = {True: real, False: none}
        if args.old_fold:
            variants["old fold"] = {**real, "compact": old_compact}
        times = {(case, kept): [] for case in cases for kept in variants}
        print(f"load average before {[round(v, 2) for v in os.getloadavg()]}")
        rows = None
        for _round in range(args.rounds):
            for case, (ids, first, last) in cases.items():
                for kept, steps in variants.items():
                    for name, function in steps.items():
                        setattr(fact_pick_day, name, function)
                    conn = db.session.connection()
                    started = time.perf_counter()
                    fact_pick.refresh(conn, ids, first, last)
                    times[(case, kept)].append((time.perf_counter() - started) * 1000)
                    if kept is True:
                        rows = db.session.execute(select(func.count()).select_from(FactPickDay)).scalar()
                    db.session.rollback()
        for name, function in real.items():
            setattr(fact_pick_day, name, function)
        for case in cases:
            with_, without = times[(case, True)], times[(case, False)]
            print(f"{case}: with fact_pick_day {statistics.median(with_):8.1f} / {min(with_):8.1f} ms, "
                  f"without {statistics.median(without):8.1f} / {min(without):8.1f} ms (median / min), "
                  f"difference of medians {statistics.median(with_) - statistics.median(without):+.1f} ms")
            if args.old_fold:
                old = times[(case, "old fold")]
                print(f"{case}: with 0038's fold {statistics.median(old):8.1f} / {min(old):8.1f} ms, "
                      f"difference of medians {statistics.median(old) - statistics.median(without):+.1f} ms")
        print(f"fact_pick_day rows after a refresh: {rows}")
        print(f"load average after {[round(v, 2) for v in os.getloadavg()]}")


if __name__ == "__main__":
    main()
