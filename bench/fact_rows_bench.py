"""CPU time of an import's fact bookkeeping (`imports.fact_rows.FactRows`: stores, date ranges,
first/last day, count) over --facts facts shaped like a month of Business Reports.

    .venv/bin/python bench/fact_rows_bench.py [--facts 500000] [--repeat 3] [--against FILE]

--against FILE: also time another version of fact_rows.py (e.g. `git show REV:kpiapp/imports/
fact_rows.py > /tmp/old.py`), on the same facts, and check it gives the same summaries.
"""
import argparse
import importlib.util
import statistics
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kpiapp.imports import fact_rows  # noqa: E402
from kpiapp.parsers.base import Fact  # noqa: E402

MEASURES = ("sessions", "page_views", "units_ordered", "ordered_sales", "total_order_items")


def made(count):
    """5 facts a SKU-day, 3,400 SKUs a day, one store (the Business Report shape of import_bench)."""
    return [Fact(2 + n // 5 % 3400, date(2026, 10, 1) + timedelta(days=n // 17000), MEASURES[n % 5],
                 Decimal(n % 97), "USD", f"B0{n // 5 % 3400:08d}") for n in range(count)]


def summaries(rows):
    return rows.count, rows.stores, rows.ranges, rows.first_day, rows.last_day, rows.last_end, rows.bad_lines


def cpu(module, facts, repeat):
    times = []
    for _ in range(repeat):
        started = time.process_time()
        rows = module.FactRows(facts, {"": 1}, "amazon_business_report", 1)
        times.append(time.process_time() - started)
    return statistics.median(times), summaries(rows)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--facts", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--against")
    args = parser.parse_args()
    facts = made(args.facts)
    ours, reference = cpu(fact_rows, facts, args.repeat)
    print(f"FactRows over {args.facts:,} facts: {ours:.3f} CPU s (median of {args.repeat})")
    if args.against:
        spec = importlib.util.spec_from_file_location("other_fact_rows", args.against)
        other = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(other)
        seconds, theirs = cpu(other, facts, args.repeat)
        same = "same summaries" if theirs == reference else "DIFFERENT summaries"
        print(f"{args.against}: {seconds:.3f} CPU s ({seconds / ours:.1f}x ours), {same}")


if __name__ == "__main__":
    main()
