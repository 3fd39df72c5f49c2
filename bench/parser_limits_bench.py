"""Cost of hostile headers before and after the header limits (issue 9, SECURITY F1).

    .venv/bin/python bench/parser_limits_bench.py [--columns 1000000]

Times detect+parse of a CSV whose first line has --columns columns (refused before sniffing:
too_many_columns / header_too_long), of a 2,000-column header (the widest accepted), and of
the malformed corpus and the Hypothesis rows, and prints the figures. CPU time, one run each.
"""
import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kpiapp.parsers import ParseError, parse_file, parse_fx  # noqa: E402

CORPUS = ROOT / "tests/unit/parsers/fixtures/malformed"


def cpu(fn):
    start = time.process_time()
    try:
        outcome = fn()
    except ParseError as exc:
        outcome = exc.code
    return time.process_time() - start, outcome


def wide(columns):
    return (",".join("c%d" % i for i in range(columns)) + "\n" + ",".join("1" * columns) + "\n").encode()


def corpus():
    manifest = json.loads((CORPUS / "MANIFEST.json").read_text())
    refused = 0
    for name, spec in manifest.items():
        data, opts = (CORPUS / name).read_bytes(), spec["options"]
        try:
            if opts.get("fx"):
                _, errors = parse_fx(data, name)
            else:
                kw = {"date_from": date.fromisoformat(opts["date_from"])} if "date_from" in opts else {}
                errors = parse_file(data, name, currency=opts.get("currency"), **kw).errors
            refused += bool(errors)
        except ParseError:
            refused += 1
    return "%d of %d files refused" % (refused, len(manifest))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--columns", type=int, default=1_000_000)
    args = parser.parse_args()
    data = wide(args.columns)
    seconds, outcome = cpu(lambda: parse_file(data, "wide.csv", date_from=date(2025, 3, 2)))
    print(f"{args.columns:,}-column header ({len(data) / 1e6:.1f} MB): {seconds:.3f} s CPU -> {outcome}")
    data = wide(2000)
    seconds, outcome = cpu(lambda: parse_file(data, "wide.csv", date_from=date(2025, 3, 2)))
    print(f"2,000-column header (accepted width): {seconds:.3f} s CPU -> {outcome}")
    seconds, outcome = cpu(corpus)
    print(f"malformed corpus: {seconds:.3f} s CPU -> {outcome}")


if __name__ == "__main__":
    main()
