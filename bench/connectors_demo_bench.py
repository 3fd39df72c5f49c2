"""The demo's seed-time pulls: connect the demo stores to the in-process stand-in and pull
--days days of every kind, on a scratch database with the demo organisation and stores.

    .venv/bin/python bench/connectors_demo_bench.py [--days 3]

Prints, per pull, the outcome, imports, facts and seconds, then the total: what the connector
part adds to `kpi seed-demo` (goal: under ~10 s). Only the platforms whose connectors are in
this checkout are connected (kpiapp/demo/connections.py); none: nothing to measure.
"""
import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("KPIAPP_ENV", "test")

from bench.scratch import scratch_app  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=3)
    args = parser.parse_args()
    from kpiapp import demo
    from kpiapp.audit import SYSTEM, set_actor
    from kpiapp.demo import connections
    from kpiapp.extensions import db

    with scratch_app("connectors_demo") as app, app.app_context():
        set_actor(SYSTEM)
        demo.seed_organisation()
        db.session.commit()
        started = time.perf_counter()
        made = connections.connect_demo_stores()
        pulls = connections.pull_demo_days(made, date(2026, 11, 26), days=args.days) if made else []
        total = time.perf_counter() - started
        for pull in pulls:
            seconds = (pull.finished_at - pull.started_at).total_seconds() if pull.started_at else 0
            print(f"{pull.connection.store.code:7} {pull.connection.platform:11} {pull.kind:11} {pull.status:7} "
                  f"{pull.failure or '':14} imports {len(pull.import_ids):2}  facts {pull.facts:6}  {seconds:6.2f} s")
        print(f"connections {len(made)}, pulls {len(pulls)}, {args.days} days: {total:.1f} s "
              f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
