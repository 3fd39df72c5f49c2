"""`flask kpi seed-demo` timed on a fresh database, two trees alternated (A, B, A, B, ...).

    .venv/bin/python bench/seed_demo_bench.py --old /work/main --new . [--rounds 2] [--pg PREFIX]

Each run: a fresh instance directory (and, with --pg, a fresh PostgreSQL database PREFIX_seed_N
on 127.0.0.1:5432, dropped after), `flask db upgrade`, then `flask --app wsgi kpi seed-demo`
timed with its CPU (the child's user + system seconds). Prints wall, CPU and the load average
before each run; the machine is shared, so compare the two trees' runs of the same round.
"""

import argparse
import os
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

PG = "postgresql://postgres@127.0.0.1:5432/"


def load():
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def psql(sql):
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qAtc", sql], check=True)


def run(tree, env, *args):
    return subprocess.run([str(Path(tree) / ".venv/bin/flask"), "--app", "wsgi", *args], cwd=tree,
                          env=env, check=True, capture_output=True, text=True)


def seed_once(tree, prefix, n):
    instance = Path(tempfile.mkdtemp(prefix="seed_bench_"))
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(KPIAPP_ENV="dev", KPIAPP_INSTANCE=str(instance))
    name = None
    if prefix:
        name = f"{prefix}_seed_{n}"
        psql(f"DROP DATABASE IF EXISTS {name}")
        psql(f"CREATE DATABASE {name}")
        env["DATABASE_URL"] = PG + name
    try:
        run(tree, env, "db", "upgrade")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started, avg = time.perf_counter(), load()
        run(tree, env, "kpi", "seed-demo")
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return wall, cpu, avg
    finally:
        shutil.rmtree(instance, ignore_errors=True)
        if name:
            psql(f"DROP DATABASE IF EXISTS {name}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--old", required=True)
    parser.add_argument("--new", required=True)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--pg", help="database name prefix: seed PostgreSQL instead of SQLite")
    args = parser.parse_args()
    print(f"database: {'PostgreSQL' if args.pg else 'SQLite'}")
    print(f"{'round':>5} {'tree':>4} {'wall s':>7} {'CPU s':>7}  load before")
    n = 0
    for round_ in range(1, args.rounds + 1):
        for label, tree in (("old", args.old), ("new", args.new)):
            n += 1
            wall, cpu, avg = seed_once(tree, args.pg, n)
            print(f"{round_:>5} {label:>4} {wall:7.1f} {cpu:7.1f}  {avg}", flush=True)


if __name__ == "__main__":
    main()
