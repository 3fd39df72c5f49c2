"""Where the company dashboard's cold build goes: every statement's ms and the Python CPU.

    KPIAPP_ENV=dev DATABASE_URL=postgresql://postgres@127.0.0.1:5432/DB \\
        .venv/bin/python bench/company_cold_profile.py [--cycle 1] [--rounds 5] [--profile FILE] [--top 40]

Builds `company.company_panels` (every panel, as HR sees them; the memo is not involved: the
builder is called directly) --rounds times in one app context, each in its own transaction
(rolled back). Prints per round the wall ms, the process CPU ms and the SQL ms (the time from
each statement's execute to its return, SQLAlchemy cursor events), then the median statement
ms per statement (by its order in the build) with its first line. --profile writes a cProfile
of one more build (pstats); --top prints its top functions by cumulative time.
"""
import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("KPIAPP_ENV", "dev")

from sqlalchemy import event  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cycle", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile")
    parser.add_argument("--top", type=int, default=0)
    args = parser.parse_args()

    from kpiapp.app import create_app
    from kpiapp.dashboards import company
    from kpiapp.dashboards.filters import Filters
    from kpiapp.extensions import db
    from kpiapp.models import Cycle

    app = create_app()
    with app.test_request_context("/dashboards/company"):
        seen, started = [], {}

        def before(_c, cursor, statement, _p, _x, _m):
            started[id(cursor)] = time.perf_counter()

        def after(_c, cursor, statement, _p, _x, _m):
            seen.append((statement, (time.perf_counter() - started.pop(id(cursor))) * 1000))

        event.listen(db.engine, "before_cursor_execute", before)
        event.listen(db.engine, "after_cursor_execute", after)

        def build():
            cycle = db.session.get(Cycle, args.cycle)
            filters = Filters(cycle=args.cycle)
            seen.clear()
            wall, cpu = time.perf_counter(), time.process_time()
            panels = company.company_panels(filters, cycle, company.PANELS)
            wall, cpu = (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000
            db.session.rollback()
            return panels, wall, cpu, list(seen)

        build()  # warm: imports, catalogue, formulas
        per_statement = []
        for n in range(args.rounds):
            _panels, wall, cpu, statements = build()
            sql = sum(ms for _s, ms in statements)
            print(f"round {n + 1}: wall {wall:.1f} ms, CPU {cpu:.1f} ms, SQL {sql:.1f} ms, "
                  f"{len(statements)} statements, load {os.getloadavg()[0]:.2f}")
            per_statement.append(statements)
        print("median ms per statement:")
        for i, group in enumerate(zip(*per_statement)):
            first = " ".join(group[0][0].split())[:150]
            print(f"  {i + 1:2d} {statistics.median(ms for _s, ms in group):8.1f}  {first}")
        if args.profile or args.top:
            profiler = cProfile.Profile()
            profiler.enable()
            build()
            profiler.disable()
            if args.profile:
                profiler.dump_stats(args.profile)
            if args.top:
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
