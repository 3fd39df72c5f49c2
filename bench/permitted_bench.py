"""What asking permitted() costs on the pages that ask it: SQL statements and time.

    .venv/bin/python bench/permitted_bench.py [--people 40] [--repeat 10]

Builds a scratch database (SQLite, or PostgreSQL with DATABASE_URL) with one team of --people scorecards (half submitted,
half draft), signs the manager in, then prints for the team page (one permitted() per
row), one scorecard page and one API scorecard: SQL statements per request and the
median wall time over --repeat requests (noisy on a loaded machine; the statement
count is the stable figure).
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


def build(people):
    from kpiapp.appraisal.workflow import ScorecardState as S
    from tests.appraisal.factories import make_team, walk_to

    team = make_team(size=people)
    for person in team.people[: people // 2]:
        walk_to(team, person, S.SUBMITTED)
    return team


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()

    from kpiapp.extensions import db
    from tests.helpers import signed_in_client

    with scratch_app("permitted") as app:
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


if __name__ == "__main__":
    main()
