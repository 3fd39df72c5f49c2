"""Calibration's grade counts per team: graded in Python from one row per scorecard
(queries.cycle_point_sums + services.grade_from_sums, the page before issue 10's change) against
graded in SQL (queries.cycle_grade_counts: one row per team and grade), on a seeded database.

    flask --app wsgi kpi seed-scale --people 2000 --facts 200000   # once, into an empty database
    DATABASE_URL=postgresql://... .venv/bin/python bench/calibration_grades_bench.py [--repeat 30] [--cycle 1]

Checks that both give the same counts, then times them alternately (--repeat rounds): median and
p95 wall ms, median CPU ms of this process, rows read; the load average before and after."""
import argparse
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def in_python(cycle_id, bands):
    from kpiapp.appraisal import queries, services

    rows = queries.cycle_point_sums(cycle_id)
    counts = Counter()
    for row in rows:
        grade = services.grade_from_sums(row, bands)
        if grade is not None:
            counts[(row[0], grade)] += 1
    return counts, len(rows)


def in_sql(cycle_id, bands):
    from kpiapp.appraisal import queries

    rows = queries.cycle_grade_counts(cycle_id, bands)
    return Counter({(department_id, grade): n for department_id, _name, grade, n in rows}), len(rows)


def timed(fn, *args):
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn(*args)
    return result, (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--cycle", type=int, default=1)
    args = parser.parse_args()
    from kpiapp.app import create_app
    from kpiapp.appraisal import services
    from kpiapp.extensions import db
    from kpiapp.models import Cycle

    app = create_app()
    with app.app_context():
        bands = services.grade_bands(db.session.get(Cycle, args.cycle).grade_table)
        (python_counts, _), (sql_counts, _) = in_python(args.cycle, bands), in_sql(args.cycle, bands)
        assert python_counts == sql_counts, "the SQL grades differ from grade_from_sums"
        load_before = [round(v, 2) for v in os.getloadavg()]
        figures = {"python": [], "sql": []}
        rows = {}
        for _ in range(args.repeat):
            for name, fn in (("python", in_python), ("sql", in_sql)):
                db.session.commit()
                (_counts, rows[name]), wall, cpu = timed(fn, args.cycle, bands)
                figures[name].append((wall, cpu))
        load_after = [round(v, 2) for v in os.getloadavg()]
    print(f"cycle {args.cycle}: {sum(sql_counts.values())} graded cards, {len(sql_counts)} (team, grade) pairs")
    for name, runs in figures.items():
        walls = [w for w, _ in runs]
        p95 = statistics.quantiles(walls, n=20, method="inclusive")[18]
        print(f"{name:<7} wall p50 {statistics.median(walls):6.1f} ms p95 {p95:6.1f} ms"
              f"  cpu {statistics.median(c for _, c in runs):6.1f} ms  {rows[name]:>5} rows")
    print(f"load average before {load_before}, after {load_after}")


if __name__ == "__main__":
    main()
