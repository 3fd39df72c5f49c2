"""The dashboards' next request after a write that changed no row (issue 10, the data token's gaps).

    DATABASE_URL=postgresql://.../hg_new .venv/bin/python bench/zero_row_bench.py [--port 5921] [--rounds 10]

On a seeded database (a `createdb -T` copy of a seed-scale one), starts `gunicorn wsgi:app` with one
worker (so the memo asked is the one filled), signs in as HR, warms the company dashboard, then
per round: commits one zero-row UPDATE on `department` from another connection (what a lost
compare-and-set, or a job that found nothing, does) and times the next GET of the dashboard.
Before migration 0037 (PostgreSQL) such a statement changed the data token, so that request built
its page again; after, the memo serves it. Prints p50/p95 ms of the request after the write and
of a request after no write, and the load average."""
import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.scale_bench import LOGINS, get, gunicorn, percentiles, sign_in  # noqa: E402

ZERO_ROWS = "UPDATE department SET name = name WHERE id = -1"


def timed(conn, path, cookie):
    start = time.perf_counter()
    status, _body, _response = get(conn, path, cookie)
    assert status == 200, status
    return (time.perf_counter() - start) * 1000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=5921)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--cycle", type=int, default=1)
    args = parser.parse_args()
    import http.client

    import psycopg

    from kpiapp.demo import DEMO_PASSWORD
    from kpiapp.demo.scale import email_of

    uri = os.environ["DATABASE_URL"]
    path = f"/dashboards/company?cycle={args.cycle}"
    print(f"load average before {[round(v, 2) for v in os.getloadavg()]}", flush=True)
    instance = Path(tempfile.mkdtemp(prefix="zero-row-"))
    with gunicorn(uri, args.port, 1, instance), psycopg.connect(uri.replace("+psycopg", ""),
                                                                   autocommit=True) as writer:
        cookie = sign_in(args.port, email_of(LOGINS["hr"]), DEMO_PASSWORD)
        conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=120)
        timed(conn, path, cookie)
        after_write, no_write = [], []
        for _ in range(args.rounds):
            no_write.append(timed(conn, path, cookie))
            writer.execute(ZERO_ROWS)
            after_write.append(timed(conn, path, cookie))
        for label, latencies in (("after a zero-row write", after_write), ("after no write", no_write)):
            found = percentiles(latencies)
            print(f"company dashboard {label:<24} {args.rounds} requests: p50 {found['p50_ms']:>7.1f} ms "
                  f"p95 {found['p95_ms']:>7.1f} ms", flush=True)
    print(f"load average after {[round(v, 2) for v in os.getloadavg()]}")


if __name__ == "__main__":
    main()
