"""How pytest-xdist hands out the suite's files: heaviest first, the demo readers together.

xdist's `--dist loadfile` keeps a file on one worker (module-scoped fixtures are set up
once) but hands files out by number of tests: the thousands of cheap parametrised unit
cases first, and the few slow files (the browser tests, the zh walk of the demo) last,
where one of them keeps one worker busy while the other has nothing left to do.

`HeaviestFirst` keeps the file as the unit and hands out the heaviest remaining one
each time a worker needs work (longest processing time first), weighed by the seconds in
tests/durations.json (`scripts/test_weights.py` writes it from a run's JUnit XML); a file
not listed there weighs the median.  The files that read the seeded demo
(`demo_template`, tests/demo_db.py) or its first steps (`marketplace_template`, which the demo
is seeded on) form one unit, so one worker seeds them, not each.
Only the order changes: every test still runs, once.
"""
import json
import statistics
from pathlib import Path

from xdist.scheduler import LoadFileScheduling

WEIGHTS = Path(__file__).with_name("durations.json")
# files that read a seeded session template (tests/demo_db.py): each group runs on one worker
# (demo_template is seeded on a copy of marketplace_template: one group, one seed of each)
GROUPS = {
    "demo readers (tests/demo_db.py)": frozenset({
        "tests/web/test_zh_everywhere.py",
        "tests/e2e/test_dashboards_browser.py",
        "tests/e2e/test_portal_browser.py",
        "tests/reminders/test_demo_reminders.py",
        "tests/tracking/test_demo_data.py",
        "tests/objectives/test_okr_demo.py",
    }),
}
GROUP_OF = {path: group for group, paths in GROUPS.items() for path in paths}


def file_weights():
    """{test file: seconds} from tests/durations.json; {} when it is missing."""
    return json.loads(WEIGHTS.read_text()) if WEIGHTS.exists() else {}


class HeaviestFirst(LoadFileScheduling):
    def __init__(self, config, log=None):
        super().__init__(config, log)
        self.weights = file_weights()
        self.unknown = statistics.median(self.weights.values()) if self.weights else 1.0

    def _split_scope(self, nodeid):
        path = nodeid.split("::", 1)[0]
        return GROUP_OF.get(path, path)

    def weight(self, scope):
        return sum(self.weights.get(path, self.unknown) for path in GROUPS.get(scope, (scope,)))

    def _assign_work_unit(self, node):
        heaviest = max(self.workqueue, key=self.weight)
        self.workqueue.move_to_end(heaviest, last=False)
        super()._assign_work_unit(node)
