"""What comparing an UPDATE's old and new rows costs the data token's triggers (issue 10, h-gaps2).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/COPY .venv/bin/python bench/token_update_bench.py \\
        [--rounds 3] [--variant old --variant new]

On a copy of a seed (PostgreSQL; every statement in its own transaction, rolled back, run once
untimed first so the trigger's function is compiled and its statements planned), times bulk
UPDATEs with each variant of the tracked table's UPDATE trigger installed in that transaction,
alternated (round 1: old, new, ...; round 2: the same order): "old" is migration 0037's (a
statement trigger that counts any row of its NEW TABLE), "new" this branch's
(`dbtriggers.track_data_version`: old and new rows joined on the key, only a row whose image
differs counts). Each statement runs under EXPLAIN ANALYZE, whose trigger lines give the token's
trigger's own time; the wall ms and the server backend's CPU ms (from /proc: utime + stime of the
connection's backend, same machine) are the whole statement's, every other trigger included. Says
whether the statement noted its transaction (data_touch), and prints the load average.
"""
import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

OPEN = "scorecard_id IN (SELECT id FROM scorecard WHERE state <> 'locked')"  # the lock triggers refuse the rest
# 5,000 items: the recompute's chunk (tracking.services.UPDATE_ROWS)
CHUNK = f"id >= (SELECT max(id) - 5050 FROM scorecard_item) AND {OPEN}"
LAST = f"(SELECT max(id) FROM scorecard_item WHERE {OPEN})"
STATEMENTS = {
    "scorecard_item, 5,000 rows, same values": ("scorecard_item",
                                                f"UPDATE scorecard_item SET actual = actual WHERE {CHUNK}"),
    "scorecard_item, 5,000 rows, all changed": ("scorecard_item", "UPDATE scorecard_item SET computed_points = "
                                                f"coalesce(computed_points, 0) + 1 WHERE {CHUNK}"),
    "scorecard_item, 5,000 rows, the last one changed": (
        "scorecard_item", f"UPDATE scorecard_item SET actual = CASE WHEN id = {LAST} THEN coalesce(actual, 0) + 1 "
                          f"ELSE actual END WHERE {CHUNK}"),
    "scorecard_total, 5,000 rows, same values (key scorecard_id)": (
        "scorecard_total", "UPDATE scorecard_total SET weighted = weighted"),
    "store, 1,250 rows, same values": ("store", "UPDATE store SET name = name"),
}
OLD_TRIGGER = ('CREATE TRIGGER {table}_data_version_update AFTER UPDATE ON "{table}" '
               "REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION kpi_data_changed()")


def backend_cpu_ms(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def install(conn, table, variant):
    """The variant's UPDATE trigger on `table`, inside the open transaction."""
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    from kpiapp import dbtriggers

    conn.exec_driver_sql(f'DROP TRIGGER IF EXISTS {table}_data_version_update ON "{table}"')
    if variant == "old":
        conn.exec_driver_sql(OLD_TRIGGER.format(table=table))
        return
    with Operations.context(MigrationContext.configure(conn)):
        dbtriggers.create_data_changed()
        dbtriggers.create_update_trigger(table)


def timed(engine, table, variant, statement):
    from sqlalchemy import text

    from kpiapp.dbtriggers import TOUCHED

    with engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        install(conn, table, variant)
        conn.exec_driver_sql(statement)  # a warm function: compiled, its statements planned, as in a session
        conn.exec_driver_sql(f"SELECT set_config('{TOUCHED}', 'off', true)")
        conn.exec_driver_sql("DELETE FROM data_touch")
        cpu, started = backend_cpu_ms(pid), time.perf_counter()
        plan = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}").scalar()
        wall = (time.perf_counter() - started) * 1000
        cpu = backend_cpu_ms(pid) - cpu
        plan = plan[0] if isinstance(plan, list) else json.loads(plan)[0]
        trigger = next(t["Time"] for t in plan["Triggers"] if t["Trigger Name"] == f"{table}_data_version_update")
        noted = conn.execute(text("SELECT count(*) FROM data_touch")).scalar() > 0
        conn.rollback()
    return wall, cpu, trigger, noted


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--variant", action="append", choices=("old", "new"))
    parser.add_argument("--only", help="a substring of the statements' names")
    args = parser.parse_args()
    from sqlalchemy import create_engine

    variants = args.variant or ["old", "new"]
    engine = create_engine(os.environ["DATABASE_URL"])
    chosen = {name: s for name, s in STATEMENTS.items() if not args.only or args.only in name}
    times = {(name, v): [] for name in chosen for v in variants}
    for round_ in range(args.rounds):
        for name, (table, statement) in chosen.items():
            for variant in variants:
                load = os.getloadavg()[0]
                wall, cpu, trigger, noted = timed(engine, table, variant, statement)
                times[(name, variant)].append((wall, cpu, trigger))
                print(f"round {round_ + 1} {name} [{variant}]: {wall:8.1f} ms wall, {cpu:6.0f} ms server CPU, "
                      f"the token's trigger {trigger:7.2f} ms, {'noted' if noted else 'not noted'} "
                      f"(load {load:.2f})", flush=True)
    for name in chosen:
        for variant in variants:
            walls, cpus, triggers = zip(*times[(name, variant)])
            print(f"{name} [{variant}]: wall median {statistics.median(walls):.1f} ms, "
                  f"server CPU median {statistics.median(cpus):.0f} ms, "
                  f"the token's trigger median {statistics.median(triggers):.2f} ms "
                  f"({' / '.join(f'{w:.0f}' for w in walls)} ms)")
    print(f"load average after {[round(v, 2) for v in os.getloadavg()]}")


if __name__ == "__main__":
    main()
