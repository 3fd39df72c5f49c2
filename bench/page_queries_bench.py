"""SQL statements and time per page of issue 10 at two org sizes.

    .venv/bin/python bench/page_queries_bench.py [--small 20] [--large 200] [--repeat 5]

Builds a scratch SQLite database with the org of tests/web/test_page_queries.py
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
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("KPIAPP_ENV", "test")

from sqlalchemy import event  # noqa: E402

from config import TestConfig  # noqa: E402


def measure(client, db, path, repeat):
    statements, timings = [], []

    def count(*_args):
        statements.append(1)

    contextvars.Context().run(client.get, path)  # warm the template and catalogue caches
    event.listen(db.engine, "before_cursor_execute", count)
    for _ in range(repeat):
        db.session.commit()
        statements.clear()
        t0 = time.perf_counter()
        response = contextvars.Context().run(client.get, path)
        timings.append(time.perf_counter() - t0)
        assert response.status_code == 200, (path, response.status_code)
    event.remove(db.engine, "before_cursor_execute", count)
    return len(statements), statistics.median(timings)


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

    from flask_migrate import upgrade

    from kpiapp.app import create_app
    from kpiapp.extensions import db
    from tests.appraisal.factories import AdminFactory, HRFactory
    from tests.factories import UserFactory
    from tests.web.test_page_queries import build_org

    instance = Path(tempfile.mkdtemp(prefix="page-queries-bench-"))
    config = type("BenchConfig", (TestConfig,), {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'bench.sqlite'}", "INSTANCE_DIR": instance,
        "SECRET_KEY": "bench"})
    app = create_app(config)
    with app.app_context():
        upgrade()
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
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main()
