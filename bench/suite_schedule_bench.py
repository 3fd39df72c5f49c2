"""The suite's wall time on N xdist workers as the files are handed out, from tests/durations.json.

    .venv/bin/python bench/suite_schedule_bench.py [--workers 2]

Each worker takes the next unit when it is free.  Prints the simulated wall time of
xdist's own loadfile order (most tests first: the thousands of cheap parametrised unit cases
first, the few slow files last) and of tests/scheduling.py (heaviest unit first; a group of
tests/scheduling.py GROUPS, the demo readers, as one unit), and the heaviest unit, below which
no order can go.  The loadfile figure is flattered: there each worker that reads the demo
seeds it, but the weights (one run of tests/scheduling.py) hold one seed.  Test counts come
from pytest --collect-only.
"""

import argparse
import collections
import heapq
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.scheduling import GROUP_OF, file_weights  # noqa: E402


def tests_per_file():
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "--collect-only", "-n", "0", "-p", "no:randomly"],
                         cwd=ROOT, capture_output=True, text=True, env={"KPIAPP_ENV": "test", "PATH": "/usr/bin:/bin"})
    return collections.Counter(line.split("::")[0] for line in out.stdout.splitlines() if "::" in line)


def wall(units, workers):
    free = [(0.0, n) for n in range(workers)]
    for _name, seconds in units:
        at, n = heapq.heappop(free)
        heapq.heappush(free, (at + seconds, n))
    return max(at for at, _n in free)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    weights, counts = file_weights(), tests_per_file()
    by_count = sorted(weights.items(), key=lambda item: -counts.get(item[0], 0))
    units = collections.Counter()
    for path, seconds in weights.items():
        units[GROUP_OF.get(path, path)] += seconds
    heaviest = units.most_common()
    total = sum(weights.values())
    print(f"{len(weights)} files, {total:.0f} s of tests in all, {args.workers} workers")
    print(f"xdist loadfile order (most tests first): {wall(by_count, args.workers):7.0f} s")
    print(f"heaviest first, demo readers together:   {wall(heaviest, args.workers):7.0f} s")
    print(f"heaviest unit: {heaviest[0][1]:.0f} s ({heaviest[0][0]})")


if __name__ == "__main__":
    main()
