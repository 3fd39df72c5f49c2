"""Cost of the job pattern: the durable job_run row, the enqueue, and a refused enqueue.

    .venv/bin/python bench/jobs_bench.py [--jobs 200] [--redis redis://127.0.0.1:6379/5]
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python bench/jobs_bench.py

On a scratch database (SQLite in a temp dir, or a scratch PostgreSQL database):
  1. in-process: --jobs `recompute_cycle` jobs on an empty cycle (a body that does almost
     nothing) through jobs.create + jobs.launch, against calling the body directly: the
     difference is the row's cost (insert, running, done: three commits).
  2. with --redis (a db this script may FLUSH): jobs.launch into RQ, per enqueue.
  3. Redis down (a closed port): time until QueueUnavailable, row marked failed.
"""

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("KPIAPP_ENV", "test")

from bench.scratch import scratch_app  # noqa: E402


def timed(action, count):
    samples = []
    for n in range(count):
        t0 = time.perf_counter()
        action(n)
        samples.append(time.perf_counter() - t0)
    return samples


def describe(label, samples):
    ms = [s * 1000 for s in samples]
    print(f"{label}: median {statistics.median(ms):.2f} ms, max {max(ms):.2f} ms ({len(ms)} runs)")
    return statistics.median(ms)


def run(args, app):
    from kpiapp import jobs
    from kpiapp.extensions import db
    from kpiapp.tracking import services as tracking

    print(f"database: {db.engine.dialect.name}")
    direct = describe("body called directly", timed(lambda n: tracking.recompute_cycle(10**6 + n), args.jobs))
    launch = describe("in-process job (create + launch: row queued, running, done)",
                      timed(lambda n: jobs.launch(jobs.create("recompute_cycle", "cycle", 10**6 + n)),
                            args.jobs))
    print(f"job row overhead: {launch - direct:.2f} ms per job")
    if args.redis:
        from redis import Redis

        Redis.from_url(args.redis).flushdb()
        app.config.update(REDIS_URL=args.redis, RQ_QUEUE=f"bench-{uuid.uuid4().hex[:6]}")
        describe("jobs.launch into RQ (row + enqueue with Retry)",
                 timed(lambda n: jobs.launch(jobs.create("recompute_cycle", "cycle", n)), args.jobs))
        Redis.from_url(args.redis).flushdb()
    app.config.update(REDIS_URL="redis://127.0.0.1:1/0")

    def refused(n):
        try:
            jobs.launch(jobs.create("recompute_cycle", "cycle", n))
        except jobs.QueueUnavailable as error:
            assert error.run.reason == "queue_unavailable"
        else:
            raise AssertionError("the closed port took the job")

    describe("Redis down: launch until QueueUnavailable (row failed)", timed(refused, min(args.jobs, 50)))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--redis", help="Redis URL whose db this script flushes")
    args = parser.parse_args()

    with scratch_app("jobs") as app:
        app.logger.setLevel("CRITICAL")  # the refused enqueues log one error each
        run(args, app)


if __name__ == "__main__":
    main()
