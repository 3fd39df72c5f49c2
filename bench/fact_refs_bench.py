"""metric_fact's reference checks alone (issue 10; migration 0026, kpiapp/metrics/fact_refs.py).

    BENCH_DB_PREFIX=hfk DATABASE_URL=postgresql://postgres@127.0.0.1:5432/<db> \
        .venv/bin/python bench/fact_refs_bench.py [--rows 100000] [--rounds 3]

PostgreSQL only. The fact rows of bench/import_bench.py's files (--rows file rows) are written,
as the import writes them (COPY, and INSERT ... SELECT as the staged path does), into three
partitioned copies of metric_fact with the same indexes and month partitions:
no reference checks, metric_fact's two foreign keys (before migration 0026), and the
statement-level checks that replace them (after). Each round writes every table once, in a
rotating order; the median seconds per table and the ratios to "no checks" are printed with
the load average, as in the same process the machine's load moves all three alike.
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import text  # noqa: E402

KINDS = ("none", "keys", "checks")
LABELS = {"none": "no reference checks", "keys": "the two foreign keys (before 0026)",
          "checks": "the statement-level checks (after 0026)"}


def make_tables(conn, months):
    from kpiapp.metrics import fact_refs, partitions

    for kind in KINDS:
        table = f"bench_{kind}"
        conn.execute(text(f"CREATE TABLE {table} (LIKE metric_fact INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
                          "INCLUDING INDEXES) PARTITION BY RANGE (business_date)"))
        for month in months:
            conn.execute(text(f"CREATE TABLE {table}_{month:%Y_%m} PARTITION OF {table} FOR VALUES FROM "
                              f"('{month}') TO ('{partitions.next_month(month)}')"))
        if kind == "keys":
            conn.execute(text(f"ALTER TABLE {table} ADD FOREIGN KEY (store_id) REFERENCES store (id), "
                              "ADD FOREIGN KEY (import_id) REFERENCES import_record (id)"))
        if kind == "checks":
            fact_refs.guard_table(conn, table)
    conn.execute(text("CREATE UNLOGGED TABLE bench_source (LIKE metric_fact INCLUDING DEFAULTS)"))


def refill_copy(conn, table, rows):
    """Seconds to COPY rows into the emptied table (import_bench's timed plain COPY)."""
    from import_bench import timed_copy

    conn.execute(text(f"TRUNCATE {table}"))
    conn.commit()
    return timed_copy(conn, table, rows)


def timed_insert_select(conn, table):
    from import_bench import COLUMNS

    conn.execute(text(f"TRUNCATE {table}"))
    conn.commit()
    started = time.perf_counter()
    conn.execute(text(f"INSERT INTO {table} ({COLUMNS}) SELECT {COLUMNS} FROM bench_source ORDER BY id"))
    conn.commit()
    return time.perf_counter() - started


def explained(conn, table):
    """(execution seconds, trigger seconds, trigger calls) of one INSERT ... SELECT under EXPLAIN
    ANALYZE: the RI triggers' time (a call per row per key) or the statement check's (one call)."""
    from import_bench import COLUMNS

    conn.execute(text(f"TRUNCATE {table}"))
    plan = conn.execute(text(f"EXPLAIN (ANALYZE, FORMAT JSON) INSERT INTO {table} ({COLUMNS}) "
                             f"SELECT {COLUMNS} FROM bench_source ORDER BY id")).scalar()[0]
    conn.rollback()
    triggers = plan.get("Triggers", [])
    return (plan["Execution Time"] / 1000, sum(t["Time"] for t in triggers) / 1000,
            sum(t["Calls"] for t in triggers))


def fact_rows(db, file_rows):
    """(rows, months): the normalized fact rows of import_bench's files, for a real store and import."""
    from import_bench import bench_files, normalized_rows, parse_all

    from kpiapp.metrics import partitions
    from kpiapp.models import ImportRecord, Store

    store = Store(code="BENCH", name="Bench", platform="amazon", marketplace="US", currency="USD",
                  timezone="America/Los_Angeles")
    record = ImportRecord(filename="bench.csv", sha256="0" * 64, size=0, dedupe_key="bench")
    db.session.add_all([store, record])
    db.session.commit()
    results, _ = parse_all(bench_files(file_rows), store)
    rows = [(*row[:9], record.id, row[10]) for row in normalized_rows(results, store)]
    days = [row[2] for row in rows]
    return rows, list(partitions.months_between(min(days), max(days)))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000, help="file rows (import_bench's files)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from scratch import scratch_app

    from kpiapp.extensions import db

    with scratch_app("refs"):
        assert db.engine.dialect.name == "postgresql", "PostgreSQL only (DATABASE_URL)"
        rows, months = fact_rows(db, args.rows)
        print(f"{len(rows):,} fact rows over {len(months)} months; load average before: {os.getloadavg()}")
        seconds = {(kind, how): [] for kind in KINDS for how in ("COPY", "INSERT ... SELECT")}
        with db.engine.connect() as conn:
            make_tables(conn, months)
            conn.commit()
            refill_copy(conn, "bench_source", rows)
            for round_ in range(args.rounds):
                for kind in KINDS[round_ % 3:] + KINDS[:round_ % 3]:
                    seconds[kind, "COPY"].append(refill_copy(conn, f"bench_{kind}", rows))
                    seconds[kind, "INSERT ... SELECT"].append(timed_insert_select(conn, f"bench_{kind}"))
            plans = {kind: explained(conn, f"bench_{kind}") for kind in KINDS[1:]}
        report(seconds, len(rows))
        for kind, (total, triggers, calls) in plans.items():
            print(f"EXPLAIN ANALYZE of the INSERT ... SELECT, {LABELS[kind]}: {total:.2f} s, of which "
                  f"{triggers:.2f} s in triggers ({calls:,} calls)")
    print(f"load average after: {os.getloadavg()}")


def report(seconds, facts):
    for how in ("COPY", "INSERT ... SELECT"):
        floor = statistics.median(seconds["none", how])
        for kind in KINDS:
            each = seconds[kind, how]
            median = statistics.median(each)
            print(f"{how:<18} {LABELS[kind]:<42} median {median:7.2f} s ({facts / median:9,.0f} facts/s), "
                  f"{median / floor:.2f}x no checks; rounds {', '.join(f'{s:.2f}' for s in each)}")


if __name__ == "__main__":
    main()
