"""What fsync per commit costs a SQLite test database on this machine's disk.

    .venv/bin/python bench/sqlite_fsync_bench.py [--commits 2789] [--dir /tmp]

--commits single-row commits (2,789: what seeding the demo commits) into a fresh file in
--dir with PRAGMA synchronous=FULL (SQLite's default) and OFF (tests/conftest.py
`without_fsync`); prints wall and CPU seconds of each.
"""

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path


def commits(path, synchronous, count):
    connection = sqlite3.connect(path)
    connection.execute(f"PRAGMA synchronous={synchronous}")
    connection.execute("CREATE TABLE t (x INTEGER)")
    wall, cpu = time.perf_counter(), time.process_time()
    for n in range(count):
        connection.execute("INSERT INTO t VALUES (?)", (n,))
        connection.commit()
    connection.close()
    return time.perf_counter() - wall, time.process_time() - cpu


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--commits", type=int, default=2789)
    parser.add_argument("--dir", default=tempfile.gettempdir())
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as directory:
        for synchronous in ("FULL", "OFF"):
            wall, cpu = commits(Path(directory) / f"{synchronous}.sqlite", synchronous, args.commits)
            print(f"synchronous={synchronous:4}  {args.commits} commits  wall {wall:6.1f} s  cpu {cpu:5.2f} s")


if __name__ == "__main__":
    main()
