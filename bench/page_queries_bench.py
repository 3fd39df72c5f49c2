"""SQL statements and time per page of issue 10 at two org sizes.

    .venv/bin/python bench/page_queries_bench.py [--small 20] [--large 200] [--repeat 5]

Builds a scratch database (SQLite, or PostgreSQL with DATABASE_URL) with the org of tests/web/test_page_queries.py
(people in departments of 3 under a manager, nested under a root department, a
started cycle with cards in every state, one import per store, one report per card)
at --small people, measures every page, adds a second org of --large people and
measures again (cycle pages on the large org's cycle). Prints, per page, the SQL
statements of one request and the median wall time over --repeat requests (noisy on a
loaded machine; the statement count is the stable figure).
"""

import argparse
import contextvars
import os
import sys
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("KPIAPP_ENV", "test")

from bench.page_timing import measure  # noqa: E402
from bench.scratch import scratch_app  # noqa: E402


def measure_all(app, db, users, cycle_id, repeat):
    from tests.helpers import signed_in_client
    from tests.web.test_page_queries import pages

    db.session.commit()  # SQLite: the logins write
    clients = {who: contextvars.Context().run(signed_in_client, app, user) for who, user in users.items()}
    return {name: measure(clients[who], db, path, repeat) for name, (who, path) in pages(cycle_id).items()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=20)
    parser.add_argument("--large", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from kpiapp.extensions import db
    from tests.appraisal.factories import AdminFactory, HRFactory
    from tests.factories import UserFactory
    from tests.web.test_page_queries import build_org

    with scratch_app("page-queries") as app:
        hr, admin, boss = HRFactory(), AdminFactory(), UserFactory(position=None)
        users = {"hr": SimpleNamespace(email=hr.email), "admin": SimpleNamespace(email=admin.email),
                 "boss": SimpleNamespace(email=boss.email)}
        small = build_org(args.small, hr, boss, "small").id
        before = measure_all(app, db, users, small, args.repeat)
        large = build_org(args.large, hr, boss, "large").id
        after = measure_all(app, db, users, large, args.repeat)
        total = args.small + args.large
        print(f"{'page':<32} {'SQL @' + str(args.small):>9} {'SQL @' + str(total):>9} "
              f"{'ms @' + str(args.small):>9} {'ms @' + str(total):>9}")
        for name, (count, median) in before.items():
            count2, median2 = after[name]
            print(f"{name:<32} {count:>9} {count2:>9} {median * 1000:>9.1f} {median2 * 1000:>9.1f}")
        print(f"load average: {', '.join(f'{v:.1f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
