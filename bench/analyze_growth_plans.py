"""Plans of the statements that read metric_fact under the statistics an import left (PostgreSQL).

    BENCH_DB_PREFIX=hi5 DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/analyze_growth_plans.py [--days 15] [--new-store] [--plans FILE]

Imports --days one-day Business Reports into January 2025 (bench/import_bench.py's files,
17,000 facts a day), in a scratch database, under the checkout's rule for when an import
re-analyses its month. The last import's statements that read metric_fact (the overlap check,
counts, fact_day's sums, the tracking job's reads) and the metric statements over the last day
and the last week (`fact_groups`, with and without a SKU, and `describe_sources`) are recorded,
then replayed in one transaction rolled back: SELECTs under EXPLAIN (ANALYZE), the others under
EXPLAIN, the run-time settings the import set between them as they were. Once with January's
statistics as the imports left them ("as left"), once after a fresh ANALYZE ("fresh"). Prints
per statement the plan's nodes (costs and timings stripped) when they differ, its execution ms
under both, and what January's statistics counted. Run it in two checkouts to compare rules.
--new-store: the last day is a second store's first import (a store January's statistics have
not seen), and the metric reads are of that store.
--ads: instead, one import of the import bench's Ads report (--ads-rows file rows, 250 campaigns a
day from 2024-01-01: with the default 52,400, 209,600 facts over 7 fresh months, written once),
whose months are each first analysed by it; the metric reads are of its last day and week, and
"fresh" analyses every one of its months at the default sample.
"""
import argparse
import os
import re
import sys
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import event, text  # noqa: E402

TIMEOUT = "20s"  # a statement still running then is cut short (shown as inf ms)
JANUARY = "fact_partitions.metric_fact_2025_01"
ANALYZED = "store_id, family, business_date, period_end, sku, ref, measure, currency, import_id"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=15)
    parser.add_argument("--new-store", action="store_true",
                        help="the last day: a second store's first import")
    parser.add_argument("--plans", help="write every plan to this file")
    parser.add_argument("--ads", action="store_true", help="one Ads report over fresh months instead")
    parser.add_argument("--ads-rows", type=int, default=52_400)
    args = parser.parse_args()
    from import_bench import business_report
    from scratch import scratch_app

    from kpiapp.extensions import db
    from kpiapp.imports import services
    from kpiapp.models import Store

    with scratch_app("plans", MAX_CONTENT_LENGTH=500 * 2**20):
        store = Store(code="BENCH", name="Bench", platform="amazon", marketplace="US", currency="USD",
                      timezone="America/Los_Angeles")
        db.session.add(store)
        db.session.commit()
        if args.ads:
            return ads_plans(db, services, store, args.ads_rows, args.plans)
        days = [date(2025, 1, 1) + timedelta(days=d) for d in range(args.days)]
        for index, day in enumerate(days[:-1]):
            imported(services.start_import(business_report(index), f"BR-{day}.csv", store.id, None,
                                           date_from=day, date_to=day))
        last = days[-1]
        if args.new_store:
            store = Store(code="BENCH2", name="Bench 2", platform="amazon", marketplace="US", currency="USD",
                          timezone="America/Los_Angeles")
            db.session.add(store)
            db.session.commit()
        statements = recorded(db.engine, lambda: imported(services.start_import(
            business_report(len(days) - 1), f"BR-{last}.csv", store.id, None, date_from=last, date_to=last)))
        statements += recorded(db.engine, lambda: metric_reads(store.id, last))
        print(f"January: {statistics(db)}; load average {os.getloadavg()}")
        as_left = replayed(db, statements)
        db.session.execute(text(f"ANALYZE {JANUARY} ({ANALYZED})"))
        db.session.commit()
        print(f"January after a fresh ANALYZE: {statistics(db)}")
        fresh = replayed(db, statements)
    compare(statements, as_left, fresh, args.plans)


def ads_plans(db, services, store, rows, path):
    """--ads: the Ads report's import and the metric reads of its last day and week, replayed under
    the statistics its months' first ANALYZE left, then after a whole one at the default sample."""
    from import_bench import CAMPAIGNS, ads_report

    last = date(2024, 1, 1) + timedelta(days=(rows - 1) // CAMPAIGNS)
    statements = recorded(db.engine, lambda: imported(services.start_import(ads_report(rows), "ads.csv",
                                                                            store.id, None)))
    statements += recorded(db.engine, lambda: metric_reads(store.id, last))
    months = list(db.session.execute(text(
        "SELECT c.oid::regclass::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'metric_fact'::regclass AND c.relname <> 'metric_fact_default' "
        "ORDER BY 1")).scalars())
    month = months[-1]
    print(f"{len(months)} months; the last, {month}: {statistics(db, month)}; load average {os.getloadavg()}")
    as_left = replayed(db, statements)
    for name in months:
        db.session.execute(text(f"ANALYZE {name} ({ANALYZED})"))
    db.session.commit()
    print(f"{month} after a fresh ANALYZE: {statistics(db, month)}")
    compare(statements, as_left, replayed(db, statements), path)


def imported(record):
    assert record.status == "committed", record.error
    return record


def metric_reads(store_id, last):
    """What a metric's value and its provenance read over the last day and the last week."""
    from kpiapp.extensions import db
    from kpiapp.metrics.services import describe_sources, fact_groups

    measures = list(db.session.execute(text("SELECT DISTINCT measure FROM metric_fact")).scalars())
    sku = db.session.execute(text("SELECT max(sku) FROM metric_fact")).scalar()
    db.session.commit()
    for first in (last, last - timedelta(days=6)):
        cut_after(TIMEOUT, fact_groups, [store_id], measures, first, last, None)
        cut_after(TIMEOUT, fact_groups, [store_id], measures, first, last, sku)
        cut_after(TIMEOUT, describe_sources, [store_id], measures, first, last, None,
                  SimpleNamespace(fx_notes=[]))


def cut_after(timeout, read, *args):
    """read(*args) in a transaction of its own, its statements cut after `timeout` (recorded all
    the same: the replay times them): a plan for one row over a day's facts runs for minutes."""
    from sqlalchemy.exc import OperationalError

    from kpiapp.extensions import db

    db.session.execute(text(f"SET LOCAL statement_timeout = '{timeout}'"))
    try:
        read(*args)
    except OperationalError:
        print(f"{read.__name__} cut after {timeout} while recording")
    db.session.rollback()


def recorded(engine, run):
    """[(statement, parameters)] that read metric_fact, and the settings between them, while `run` runs."""
    kept = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        head = statement.lstrip().split(None, 1)[0].upper()
        if "set_config" in statement or (head in ("SELECT", "WITH", "INSERT", "UPDATE", "DELETE")
                                         and "metric_fact" in statement and not executemany):
            kept.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    return kept


def replayed(db, statements):
    """[(plan nodes, execution ms)] per statement (None for a setting), in one transaction rolled back."""
    plans = []
    with db.engine.connect() as conn:
        raw = conn.connection.driver_connection
        with raw.transaction(force_rollback=True):
            for statement, parameters in statements:
                if "set_config" in statement and "metric_fact" not in statement:
                    raw.execute(statement, parameters)
                    plans.append(None)
                    continue
                plans.append(explained(raw, statement, parameters))
    return plans


def explained(raw, statement, parameters):
    """EXPLAIN (ANALYZE) of a SELECT, EXPLAIN of the rest; past TIMEOUT, the plan without the run."""
    import psycopg

    select = statement.lstrip().split(None, 1)[0].upper() in ("SELECT", "WITH")
    options = "ANALYZE, TIMING OFF" if select else "COSTS OFF"
    try:
        with raw.transaction():
            raw.execute(f"SET LOCAL statement_timeout = '{TIMEOUT}'")
            return shaped([r[0] for r in raw.execute(f"EXPLAIN ({options}) {statement}", parameters)])
    except psycopg.errors.QueryCanceled:
        nodes, _ = shaped([r[0] for r in raw.execute(f"EXPLAIN {statement}", parameters)])
        return nodes, float("inf")


def shaped(lines):
    """(node lines without costs or actual figures but with the estimated rows, execution ms)."""
    nodes, ms = [], None
    for line in lines:
        if line.startswith("Execution Time"):
            ms = float(line.split(":")[1].split()[0])
        elif line.startswith("Planning Time"):
            continue
        else:
            estimate = re.search(r"\(cost=[^ ]+ rows=(\d+)", line)
            actual = re.search(r"\(actual rows=(\d+)", line)
            node = re.sub(r"\s*\((cost|actual)[^)]*\)", "", line).rstrip()
            if estimate:
                node += f"  [est {estimate[1]}" + (f", actual {actual[1]}]" if actual else "]")
            nodes.append(node)
    return nodes, ms


# what one execution shows, not the plan: left out when plans are compared
RUN_DETAILS = re.compile(r"^\s*(Rows Removed|Sort Method|Memory Usage|Worker \d|Workers Launched|Batches|"
                         r"Heap Blocks|Buffers|Pre-sorted|Full-sort|Buckets)")


def shape_only(nodes):
    return [re.sub(r"\s*\[est.*\]$", "", n) for n in nodes if not RUN_DETAILS.match(n)]


def compare(statements, as_left, fresh, path):
    out = open(path, "w") if path else None
    same = 0
    for index, ((statement, _), left, new) in enumerate(zip(statements, as_left, fresh)):
        if left is None:
            continue
        first = " ".join(statement.split())[:110]
        equal = shape_only(left[0]) == shape_only(new[0])
        same += equal
        times = f"{left[1]:.1f} ms as left, {new[1]:.1f} ms fresh" if left[1] is not None else "(EXPLAIN only)"
        print(f"#{index} {'same plan' if equal else 'PLAN DIFFERS'}; {times}: {first}")
        if not equal:
            print("  as left:\n    " + "\n    ".join(shown(left[0])) + "\n  fresh:\n    " + "\n    ".join(shown(new[0])))
        if out:
            out.write(f"#{index} {statement}\n-- as left ({left[1]} ms)\n" + "\n".join(left[0])
                      + f"\n-- fresh ({new[1]} ms)\n" + "\n".join(new[0]) + "\n\n")
    plans = sum(p is not None for p in as_left)
    print(f"{same} of {plans} statements plan the same under the statistics as left and fresh")


def shown(nodes):
    return [n for n in nodes if not RUN_DETAILS.match(n) and not n.lstrip().startswith(("Filter", "Hash Cond"))]


def statistics(db, month=JANUARY):
    rows, pages, now = db.session.execute(text(
        "SELECT reltuples::bigint, relpages, pg_relation_size(oid) / 8192 FROM pg_class "
        "WHERE oid = CAST(:t AS regclass)"), {"t": month}).one()
    bounds = db.session.execute(text(
        "SELECT histogram_bounds::text FROM pg_stats WHERE schemaname = 'fact_partitions' "
        "AND tablename = :n AND attname = 'business_date'"), {"n": month.split(".")[-1]}).scalar()
    last = bounds.strip("{}").split(",")[-1] if bounds else "no histogram"
    return f"statistics counted {rows} rows in {pages} pages, {now} pages now; business_date histogram ends {last}"


if __name__ == "__main__":
    main()
