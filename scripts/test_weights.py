"""Write tests/durations.json (seconds per test file) from the JUnit XML of a whole run.

    KPIAPP_ENV=test .venv/bin/pytest -q --junitxml=/tmp/run.xml
    .venv/bin/python scripts/test_weights.py /tmp/run.xml

tests/scheduling.py hands the heaviest files out first under pytest-xdist; the weights
only order the files, so stale figures cost time, never tests.

Only this script writes the file from a whole run.  When a whole run could not be made, a
weight has at times been scaled by hand, and its commit says how (`git log tests/durations.json`:
0c21fa8 scaled test_access_matrix.py and test_permitted.py by the ratio of their user CPU alone
with `-n 0` on SQLite before and after a change); the next whole run's XML replaces them.
"""
import json
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "tests" / "durations.json"


def seconds_per_file(xml_path):
    totals = defaultdict(float)
    for case in ET.parse(xml_path).iter("testcase"):
        path = case.get("classname", "").split(".")
        while path and not path[-1].startswith("test_"):
            path.pop()  # a class name, not a module
        if path:
            totals["/".join(path) + ".py"] += float(case.get("time", 0))
    return totals


def main(xml_path):
    totals = seconds_per_file(xml_path)
    OUT.write_text(json.dumps({k: round(v, 1) for k, v in sorted(totals.items())}, indent=1) + "\n")
    print(f"{len(totals)} files, {sum(totals.values()):.0f} s in all -> {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
