"""Recompute of a cycle on a database seeded once with `kpi seed-scale` (issue 10), kept between runs.

    createdb hrc_seed && DATABASE_URL=…/hrc_seed flask --app wsgi db upgrade
    DATABASE_URL=…/hrc_seed flask --app wsgi kpi seed-scale --people 5000 --facts 10000000
    createdb -T hrc_seed hrc_run      # a fresh copy per first run (the run writes its items)
    DATABASE_URL=…/hrc_run .venv/bin/python bench/recompute_scale_bench.py [--profile] [--runs 2]

Runs `tracking.recompute_cycle` on the seeded cycle --runs times (the first writes every item
that differs from the seed, the later ones find nothing changed) and prints for each the wall
seconds, this process's CPU, the database backends' CPU, the load average and the statements'
seconds by kind (time until executed, so fetching counts as Python); with --profile, the
kpiapp functions by cumulative time (cProfile). Seeding 5,000 people and 10M facts takes
~15 minutes here, so the database is not made by this script.
"""
import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("KPIAPP_ENV", "development")

from bench.recompute_bench import QueryCounter, load, timed_recompute  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=2, help="recompute_cycle calls, one after the other")
    parser.add_argument("--profile", action="store_true", help="cProfile every run")
    args = parser.parse_args()

    from kpiapp.app import create_app
    from kpiapp.extensions import db
    from kpiapp.models import Cycle, Scorecard
    from kpiapp.tracking import services as tracking

    app = create_app()
    with app.app_context():
        cycle = db.session.query(Cycle).order_by(Cycle.id).first()
        cards = db.session.query(Scorecard).filter_by(cycle_id=cycle.id).count()
        facts = db.session.execute(db.text("SELECT count(*) FROM fact_day")).scalar()
        print(f"database {db.engine.url.database}: cycle {cycle.id}, {cards} scorecards, "
              f"{facts} fact_day rows; load {load()}")
        counter = QueryCounter(db.engine)
        today = tracking.utc_today()
        for run in range(args.runs):
            timed_recompute(db, counter, cycle, today, f"recompute_cycle, run {run + 1}", args.profile)
        print(f"load average at the end: {load()}")


if __name__ == "__main__":
    main()
