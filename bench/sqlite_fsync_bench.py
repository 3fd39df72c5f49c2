"""What fsync per commit costs a SQLite test database on this machine's disk (and PostgreSQL's
WAL flush per commit, when DATABASE_URL is set: synchronous_commit on vs off).

    .venv/bin/python bench/sqlite_fsync_bench.py [--commits 2789] [--dir /tmp]
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/st_db .venv/bin/python bench/sqlite_fsync_bench.py

--commits single-row commits (2,789: what seeding the demo commits) into a fresh file in
--dir with PRAGMA synchronous=FULL (SQLite's default) and OFF (tests/conftest.py
`without_fsync`); prints wall and CPU seconds of each.
"""

import argparse
import os
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


def pg_commits(url, synchronous_commit, count):
    import psycopg

    with psycopg.connect(url) as connection:
        table = f"fsync_bench_{os.getpid()}"  # a real table: a temporary one writes no WAL
        connection.execute(f"CREATE TABLE {table} (x INTEGER)")
        connection.execute(f"SET synchronous_commit TO {synchronous_commit}")
        connection.commit()
        wall = time.perf_counter()
        for n in range(count):
            connection.execute(f"INSERT INTO {table} VALUES (%s)", (n,))
            connection.commit()
        wall = time.perf_counter() - wall
        connection.execute(f"DROP TABLE {table}")
        return wall


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--commits", type=int, default=2789)
    parser.add_argument("--dir", default=tempfile.gettempdir())
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as directory:
        for synchronous in ("FULL", "OFF"):
            wall, cpu = commits(Path(directory) / f"{synchronous}.sqlite", synchronous, args.commits)
            print(f"synchronous={synchronous:4}  {args.commits} commits  wall {wall:6.1f} s  cpu {cpu:5.2f} s")
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        for mode in ("on", "off"):
            wall = pg_commits(os.environ["DATABASE_URL"], mode, args.commits)
            print(f"PostgreSQL synchronous_commit={mode:3}  {args.commits} commits  wall {wall:6.1f} s")


if __name__ == "__main__":
    main()
