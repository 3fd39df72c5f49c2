"""What keeping fact_month costs its writers (issue 10, docs/scaling.md "The months kept").

    KPIAPP_ENV=dev DATABASE_URL=postgresql://postgres@127.0.0.1:5432/COPY \\
        .venv/bin/python bench/fact_month_bench.py [--rounds 5] [--day 2026-11-15] [--month 2026-11-01]

On a copy of a seed (it writes, but every round is rolled back), prints the median and min
wall time of, each in its own transaction:
* `fact_pick.refresh` of every store for one day (what an import of that day into every store
  does after fact_day), and of that the part `fact_month.refresh` adds (the same stores' month
  rewritten from fact_pick);
* a rate import's part: `fact_month.refresh_rates` of one month (every store's rows of the
  month converted again), after a rate of that month was updated (the trigger's mark);
* `fact_month.rebuild` (the whole table, as `flask kpi rebuild-fact-day` and the migration).
The rounds alternate the steps; the load average is printed before and after.
"""
import argparse
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("KPIAPP_ENV", "dev")


def timed(step):
    start = time.perf_counter()
    step()
    return (time.perf_counter() - start) * 1000


def main():
    from sqlalchemy import select, text

    from kpiapp.app import create_app
    from kpiapp.extensions import db
    from kpiapp.metrics import fact_month, fact_pick
    from kpiapp.models import Store

    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--day", type=date.fromisoformat, default=date(2026, 11, 15))
    parser.add_argument("--month", type=date.fromisoformat, default=date(2026, 11, 1))
    args = parser.parse_args()
    app = create_app()
    with app.app_context():
        stores = db.session.execute(select(Store.id)).scalars().all()
        rows = db.session.execute(select(db.func.count()).select_from(fact_month.MONTHS)).scalar()
        print(f"{len(stores)} stores, {rows} fact_month rows; load {os.getloadavg()}")

        def in_transaction(step):
            def run():
                conn = db.session.connection()
                try:
                    return timed(lambda: step(conn))
                finally:
                    db.session.rollback()
            return run

        def rates(conn):
            conn.execute(text("UPDATE fx_rate SET rate = rate + 0.001 WHERE date >= :first AND date <= :last"),
                         {"first": args.month, "last": fact_month.month_bounds(args.month, args.month)[1]})
            return fact_month.refresh_rates(conn)

        steps = {
            "fact_pick.refresh, every store, one day (fact_month included)":
                lambda conn: fact_pick.refresh(conn, stores, args.day, args.day),
            "  of which fact_month.refresh (the stores' month rewritten)":
                lambda conn: fact_month.refresh(conn, stores, args.day, args.day),
            "a month's rates updated + fact_month.refresh_rates": rates,
            "fact_month.rebuild": fact_month.rebuild,
        }
        found = {name: [] for name in steps}
        for _round in range(args.rounds):
            for name, step in steps.items():
                found[name].append(in_transaction(step)())
        for name, times in found.items():
            print(f"{name:66} median {statistics.median(times):8.1f} ms  min {min(times):8.1f} ms")
        print(f"load after {os.getloadavg()}")


if __name__ == "__main__":
    main()
