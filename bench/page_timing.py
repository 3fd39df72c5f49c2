"""SQL statements and wall time of one page request, for the page benchmarks.

A request runs in a fresh context (as tests/conftest.py's IsolatedClient does), after one
warm-up request (template and catalogue caches); the statement count is the stable
figure, the median time is noisy on a loaded machine."""
import contextvars
import statistics
import time
from contextlib import contextmanager
from types import SimpleNamespace

from sqlalchemy import event


@contextmanager
def statements_of(engine):
    """Yields a list that gets one entry per SQL statement the engine runs meanwhile."""
    seen = []

    def count(*_args):
        seen.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def measure(client, db, path, repeat=1):
    """(statements of one request, median seconds over `repeat` requests) of GET `path`."""
    db.session.commit()  # SQLite: release the lock our reads took (each request may write)
    contextvars.Context().run(client.get, path)
    timings, counts = [], []
    for _ in range(repeat):
        db.session.commit()
        with statements_of(db.engine) as seen:
            t0 = time.perf_counter()
            response = contextvars.Context().run(client.get, path)
            timings.append(time.perf_counter() - t0)
        assert response.status_code == 200, (path, response.status_code)
        counts.append(len(seen))
    return counts[-1], statistics.median(timings)


# ---- issue 10's pages on a seeded database, in-process ----------------------------------------
#
#     flask --app wsgi kpi seed-scale --people 2000 --facts 200000   # once, into an empty database
#     DATABASE_URL=postgresql://... .venv/bin/python bench/page_timing.py [--repeat 20] [--cycle 1] [--json]
#
# One test client per role of bench/scale_bench.py; each page is fetched once to warm up, then
# --repeat times. Prints per page: p50/p95 wall ms, median CPU ms of this process (Flask, SQLAlchemy,
# Jinja; the database's own time is the rest), statements, bytes, and the ratio of p50 to the
# floor /healthz measured the same way; the load average before and after.

def timings(client, db, path, repeat):
    """(wall ms, cpu ms) of `repeat` GETs of path (after one warm-up) and the last response."""
    db.session.commit()
    contextvars.Context().run(client.get, path)
    walls, cpus = [], []
    for _ in range(repeat):
        db.session.commit()
        wall, cpu = time.perf_counter(), time.process_time()
        response = contextvars.Context().run(client.get, path)
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    assert response.status_code == 200, (path, response.status_code)
    return walls, cpus, response


def page_row(client, db, path, repeat):
    walls, cpus, response = timings(client, db, path, repeat)
    cuts = statistics.quantiles(walls, n=20, method="inclusive")
    statements = measure(client, db, path)[0]
    return {"p50_ms": round(statistics.median(walls), 1), "p95_ms": round(cuts[18], 1),
            "cpu_ms": round(statistics.median(cpus), 1), "queries": statements, "bytes": len(response.data)}


def run_pages(app, cycle_id, repeat, only=None, dashboards=False):
    from bench.scale_bench import LOGINS, pages
    from kpiapp.demo import DEMO_PASSWORD
    from kpiapp.demo.scale import email_of
    from kpiapp.extensions import db
    from tests.helpers import signed_in_client

    clients = {who: contextvars.Context().run(signed_in_client, app, SimpleNamespace(email=email_of(login)),
                                              DEMO_PASSWORD) for who, login in LOGINS.items()}
    rows = {}
    for name, (who, path) in [*pages(cycle_id, dashboards).items(), ("healthz", ("hr", "/healthz"))]:
        if only and name not in only and name != "healthz":
            continue
        rows[name] = page_row(clients[who], db, path, repeat)
    return rows


def main():
    import argparse
    import json
    import os
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from kpiapp.app import create_app

    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--cycle", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--page", action="append", help="only this page (repeatable; /healthz always)")
    parser.add_argument("--dashboards", action="store_true", help="the dashboards too (slow: seconds each)")
    args = parser.parse_args()
    app = create_app()
    load_before = [round(v, 2) for v in os.getloadavg()]
    with app.app_context():
        rows = run_pages(app, args.cycle, args.repeat, args.page, args.dashboards)
    load_after = [round(v, 2) for v in os.getloadavg()]
    floor = rows["healthz"]["p50_ms"] or 1
    for name, row in rows.items():
        print(f"{name:<14} p50 {row['p50_ms']:>7.1f} ms p95 {row['p95_ms']:>7.1f} ms cpu {row['cpu_ms']:>6.1f} ms"
              f"  {row['queries']:>2} statements {row['bytes']:>8} B  p50/healthz {row['p50_ms'] / floor:5.1f}")
    print(f"load average before {load_before}, after {load_after}")
    if args.json:
        print(json.dumps({"pages": rows, "load_avg": [load_before, load_after]}))


if __name__ == "__main__":
    main()
