"""What keeping fact_pick_day costs its writers (issue 10, docs/dashboards.md "The days kept").

    KPIAPP_ENV=dev DATABASE_URL=postgresql://postgres@127.0.0.1:5432/COPY \\
        .venv/bin/python bench/fact_pick_day_bench.py [--rounds 5] [--day 2026-11-15]

On a copy of a seed (every round rolled back), times `fact_pick.refresh` with fact_pick_day's
steps (subtract, add, compact) and with them made no-ops, alternated in one connection: for
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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--day", default="2026-11-15")
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
        times = {(case, kept): [] for case in cases for kept in (True, False)}
        print(f"load average before {[round(v, 2) for v in os.getloadavg()]}")
        rows = None
        for _round in range(args.rounds):
            for case, (ids, first, last) in cases.items():
                for kept in (True, False):
                    for name, function in real.items():
                        setattr(fact_pick_day, name, function if kept else (lambda *_a, **_k: None))
                    conn = db.session.connection()
                    started = time.perf_counter()
                    fact_pick.refresh(conn, ids, first, last)
                    times[(case, kept)].append((time.perf_counter() - started) * 1000)
                    if kept:
                        rows = db.session.execute(select(func.count()).select_from(FactPickDay)).scalar()
                    db.session.rollback()
        for name, function in real.items():
            setattr(fact_pick_day, name, function)
        for case in cases:
            with_, without = times[(case, True)], times[(case, False)]
            print(f"{case}: with fact_pick_day {statistics.median(with_):8.1f} / {min(with_):8.1f} ms, "
                  f"without {statistics.median(without):8.1f} / {min(without):8.1f} ms (median / min), "
                  f"difference of medians {statistics.median(with_) - statistics.median(without):+.1f} ms")
        print(f"fact_pick_day rows after a refresh: {rows}")
        print(f"load average after {[round(v, 2) for v in os.getloadavg()]}")


if __name__ == "__main__":
    main()
