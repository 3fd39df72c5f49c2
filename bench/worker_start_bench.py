"""How long an RQ worker process takes to start and stop with nothing to do (what each test
that runs a real worker pays, tests/workers.py), and what its imports cost.

    .venv/bin/python bench/worker_start_bench.py [--runs 5] [--against /path/to/other/checkout]

Runs `flask --app wsgi kpi worker --burst` on an empty queue of the Redis in
KPIAPP_TEST_REDIS_URL (default db 15) against a scratch SQLite database; prints the median
wall seconds, and with --against the same for another checkout (runs alternate, so both
see the same load), next to os.getloadavg().  Then the ten largest imports of one start
(python -X importtime), cumulative milliseconds.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REDIS_URL = os.environ.get("KPIAPP_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def worker_env(instance):
    return {**os.environ, "KPIAPP_ENV": "dev", "KPIAPP_INSTANCE": str(instance), "SECRET_KEY": "bench",
            "DATABASE_URL": f"sqlite:///{instance}/bench.sqlite", "REDIS_URL": REDIS_URL,
            "RQ_QUEUE": "bench-worker-start"}


def start_once(root, instance, *python_flags):
    flask = str(Path(sys.executable).with_name("flask"))
    command = [sys.executable, *python_flags, flask, "--app", "wsgi", "kpi", "worker", "--burst"]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=root, env=worker_env(instance), capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"the worker failed in {root}:\n{done.stdout}{done.stderr}")
    return time.perf_counter() - started, done.stderr


def largest_imports(stderr, count=10):
    rows = []
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line and "cumulative" not in line:
            _self, cumulative, name = line[len("import time:"):].split("|")
            rows.append((int(cumulative), name.rstrip()))
    return sorted(rows, reverse=True)[:count]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--against", type=Path, help="another checkout (its own wsgi.py), timed alternately")
    args = parser.parse_args()
    roots = [ROOT] + ([args.against.resolve()] if args.against else [])
    seconds = {root: [] for root in roots}
    with tempfile.TemporaryDirectory() as instance:
        for _ in range(args.runs):
            for root in roots:
                seconds[root].append(start_once(root, instance)[0])
        print(f"load average {os.getloadavg()}")
        for root in roots:
            runs = " ".join(f"{s:.2f}" for s in seconds[root])
            print(f"{root}: worker start to exit, median {statistics.median(seconds[root]):.2f} s ({runs})")
        _wall, stderr = start_once(ROOT, instance, "-X", "importtime")
    print(f"largest imports in {ROOT} (cumulative ms):")
    for cumulative, name in largest_imports(stderr):
        print(f"  {cumulative / 1000:8.0f}  {name}")


if __name__ == "__main__":
    main()
