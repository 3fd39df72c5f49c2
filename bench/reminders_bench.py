"""Reminders: how long send_reminders takes, and how many SQL statements it runs, as the org grows.

    .venv/bin/python bench/reminders_bench.py [--teams 10 20 40] [--size 10]

For each size: a scratch SQLite database with one running cycle, `teams` managers with `size`
people each, every scorecard in self-review, self-review due on 31 Dec. It times
send_reminders on 28 Dec (3 days before: one message per person), again on the same day (the
log says it was sent: nothing), and on 3 Jan (3 days overdue: every person, plus one
escalation per manager), and prints messages, seconds and statements per run.
"""
import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("KPIAPP_ENV", "test")

from sqlalchemy import event  # noqa: E402

from bench.scratch import scratch_app  # noqa: E402


def build(db, teams, size):
    from kpiapp.appraisal.services import DEFAULT_GRADE_TABLE
    from kpiapp.appraisal.workflow import ScorecardState
    from kpiapp.models import Cycle, Role, Scorecard, User
    from kpiapp.models.appraisal import CycleStatus

    cycle = Cycle(name="2026 Q4", kind="quarterly", period_start=date(2026, 10, 1), period_end=date(2026, 12, 31),
                  status=CycleStatus.running, grade_table=DEFAULT_GRADE_TABLE, self_review_due=date(2026, 12, 31))
    hr = User(email="hr@bench.example", name="HR", role=Role.hr)
    db.session.add_all([cycle, hr])
    for t in range(teams):
        manager = User(email=f"m{t}@bench.example", name=f"Manager {t}", locale="zh_CN")
        db.session.add(manager)
        for p in range(size):
            person = User(email=f"p{t}-{p}@bench.example", name=f"Person {t}-{p}", manager=manager,
                          locale="en" if p % 2 else "zh_CN")
            db.session.add(Scorecard(cycle=cycle, person=person, state=ScorecardState.SELF_REVIEW))
    db.session.commit()


def timed(db, day):
    from kpiapp.reminders import services

    statements = []
    listener = lambda *args: statements.append(1)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    start = time.perf_counter()
    sent = services.send_reminders(day)
    db.session.commit()
    seconds = time.perf_counter() - start
    event.remove(db.engine, "before_cursor_execute", listener)
    return sent, seconds, len(statements)


def run(teams, size):
    from kpiapp.audit import SYSTEM, set_actor
    from kpiapp.extensions import db

    with scratch_app("reminders"):
        set_actor(SYSTEM)
        build(db, teams, size)
        for label, day in (("3 days before", date(2026, 12, 28)), ("same day again", date(2026, 12, 28)),
                           ("3 days overdue", date(2027, 1, 3))):
            sent, seconds, statements = timed(db, day)
            print(f"{teams * size:>5} people {teams:>3} managers  {label:<15} {sent:>5} messages "
                  f"{seconds:>7.2f} s {statements:>6} statements")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--teams", type=int, nargs="+", default=[10, 20, 40])
    parser.add_argument("--size", type=int, default=10)
    args = parser.parse_args()
    for teams in args.teams:
        run(teams, args.size)


if __name__ == "__main__":
    main()
