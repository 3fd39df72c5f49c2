"""Bulk issue on RQ workers: the same batch of --people signed reports with 1, then 2 workers.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/<db> REDIS_URL=redis://127.0.0.1:6379/<n> \\
        .venv/bin/python bench/report_workers_bench.py [--people 200] [--workers 1 2] [--lang zh_CN]

For each worker count: a fresh scratch database (bench/scratch.py) with one cycle of --people
locked scorecards, start_batch + launch_batch (REPORT_BATCH_JOBS RQ jobs on a queue of its own),
then that many `flask --app wsgi kpi worker --burst` processes, timed until the last one exits.
Prints wall time, reports per second, the workers' CPU (work-horses included) and the load average.
"""

import argparse
import os
import resource
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("KPIAPP_ENV", "test")

from bench.report_bench import build_cycle  # noqa: E402
from bench.scratch import scratch_app  # noqa: E402


def start_workers(count, app, queue):
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "RQ_QUEUE": queue,
           "KPIAPP_ENV": "dev", "KPIAPP_INSTANCE": str(app.config["INSTANCE_DIR"]), "SECRET_KEY": "bench"}
    flask = str(Path(sys.executable).with_name("flask"))
    return [subprocess.Popen([flask, "--app", "wsgi", "kpi", "worker", "--burst"], cwd=ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(count)]


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(args, workers, redis_url):
    from kpiapp.extensions import db
    from kpiapp.reports import services

    queue = f"bench-{uuid.uuid4().hex[:8]}"
    settings = {"REDIS_URL": redis_url, "RQ_QUEUE": queue, "REPORT_BATCH_JOBS": args.jobs}
    with scratch_app("reportw", **settings) as app:
        team = build_cycle(args.people)
        services.signing_material()  # the demo CA, made once before the workers share it
        batch, _created = services.start_batch(team.cycle.id, team.hr, args.lang)
        db.session.commit()
        services.launch_batch(batch)
        db.session.commit()
        t0, c0 = time.perf_counter(), children_cpu()
        processes = start_workers(workers, app, queue)
        errors = [p.communicate()[1].decode()[-2000:] for p in processes]
        elapsed, cpu = time.perf_counter() - t0, children_cpu() - c0
        db.session.expire_all()
        batch = db.session.get(services.ReportBatch, batch.id)
        load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
        print(f"{workers} worker(s), {batch.total} reports ({args.lang}, {args.jobs} jobs), status {batch.status}: "
              f"{elapsed:.1f} s, {batch.done / elapsed:.2f} reports/s, {elapsed / max(batch.done, 1):.3f} s per "
              f"report; workers' CPU {cpu:.1f} s ({cpu / max(batch.done, 1):.3f} s per report); load {load}")
        if batch.status != "done":
            print("\n".join(errors))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--jobs", type=int, default=4, help="REPORT_BATCH_JOBS")
    parser.add_argument("--lang", default="zh_CN")
    args = parser.parse_args()
    redis_url = os.environ.get("REDIS_URL")
    if not os.environ.get("DATABASE_URL") or not redis_url:
        sys.exit("set DATABASE_URL (PostgreSQL) and REDIS_URL")
    for workers in args.workers:
        run(args, workers, redis_url)


if __name__ == "__main__":
    main()
