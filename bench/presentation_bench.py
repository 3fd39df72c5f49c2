"""Cost of formatting through kpiapp.presentation (babel) against the f-string formatting
it replaced, per value; a scorecard page formats about 60 values.

    .venv/bin/python bench/presentation_bench.py [--n 20000]
"""
import argparse
import sys
import timeit
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kpiapp import presentation  # noqa: E402

VALUES = [Decimal("66466.945"), Decimal("0.2213"), Decimal("12000"), Decimal("36.5")]
UNITS = ["money", "fraction", "count", "hours"]


def old_style(value, unit):
    text = f"{value * 100 if unit == 'fraction' else value:,.2f}".rstrip("0").rstrip(".")
    return text + "%" if unit == "fraction" else text


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20000)
    n = parser.parse_args().n
    cases = list(zip(VALUES, UNITS, strict=True))
    timings = {
        "f-string (before)": lambda: [old_style(v, u) for v, u in cases],
        "presentation.in_unit en": lambda: [presentation.in_unit(v, u, "en") for v, u in cases],
        "presentation.in_unit zh_CN, USD": lambda: [
            presentation.in_unit(v, u, "zh_CN", "USD") for v, u in cases
        ],
    }
    for name, run in timings.items():
        seconds = timeit.timeit(run, number=n) / (n * len(cases))
        print(f"{name:34s} {seconds * 1e6:7.1f} µs per value, {seconds * 60 * 1e3:6.2f} ms per page")


if __name__ == "__main__":
    main()
