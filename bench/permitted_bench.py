"""What asking permitted() costs on the pages that ask it: SQL statements and time.

    .venv/bin/python bench/permitted_bench.py [--people 40] [--repeat 10]

Builds a scratch SQLite database with one team of --people scorecards (half submitted,
half draft), signs the manager in, then prints for the team page (one permitted() per
row), one scorecard page and one API scorecard: SQL statements per request and the
median wall time over --repeat requests (noisy on a loaded machine; the statement
count is the stable figure).
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


def build(people):
    from kpiapp.appraisal.workflow import ScorecardState as S
    from tests.appraisal.factories import make_team, walk_to

    team = make_team(size=people)
    for person in team.people[: people // 2]:
        walk_to(team, person, S.SUBMITTED)
    return team


def measure(client, db, path, repeat):
    statements = []

    def count(*_args):
        statements.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    timings = []
    for _ in range(repeat):
        db.session.commit()
        statements.clear()
        t0 = time.perf_counter()
        response = contextvars.Context().run(client.get, path)
        timings.append(time.perf_counter() - t0)
        assert response.status_code == 200, (path, response.status_code)
    event.remove(db.engine, "before_cursor_execute", count)
    return len(statements), statistics.median(timings)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()

    from flask_migrate import upgrade

    from kpiapp.app import create_app
    from kpiapp.extensions import db
    from tests.helpers import signed_in_client

    instance = Path(tempfile.mkdtemp(prefix="permitted-bench-"))
    config = type("BenchConfig", (TestConfig,), {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'bench.sqlite'}", "INSTANCE_DIR": instance,
        "SECRET_KEY": "bench"})
    app = create_app(config)
    with app.app_context():
        upgrade()
        team = build(args.people)
        db.session.commit()
        manager = SimpleNamespace(email=team.manager.email)  # read here: the login runs in a fresh context
        db.session.commit()  # SQLite: the login's write needs the lock our read took
        client = contextvars.Context().run(signed_in_client, app, manager)
        card = team.card(team.people[0])
        for label, path in (("team page", "/scorecards/team"), ("scorecard page", f"/scorecards/{card.id}"),
                            ("API scorecard", f"/api/v1/scorecards/{card.id}")):
            count, median = measure(client, db, path, args.repeat)
            print(f"{label} ({args.people} people): {count} SQL statements, median {median * 1000:.1f} ms")
        print(f"load average: {', '.join(f'{v:.1f}' for v in os.getloadavg())}")
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main()
