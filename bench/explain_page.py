"""Every SQL statement of one page request, timed, then EXPLAIN (ANALYZE, BUFFERS)-ed (PostgreSQL).

    KPIAPP_ENV=dev DATABASE_URL=postgresql://postgres@127.0.0.1:5432/DB \\
        .venv/bin/python bench/explain_page.py --page "team dashboard" [--cycle 1] [--plans FILE]

Signs in as the page's role of bench/scale_bench.py (a seed-scale database), fetches the page
once to warm up, then once with the statements recorded (SQLAlchemy before/after_cursor_execute:
text, parameters, ms until executed). Then replays them in order in one transaction that is
rolled back, each SELECT (and CREATE TEMPORARY TABLE … AS SELECT, which EXPLAIN ANALYZE runs,
so the table is there for what follows) under EXPLAIN (ANALYZE, BUFFERS) and the rest as they
are (so a SET LOCAL jit = off applies to what follows, as in the request). Prints per statement: its
ms in the request, the plan's execution ms, planning ms, JIT ms when any, the plan's top
node and its first line of SQL; --plans FILE writes every statement with its full plan.
"""
import argparse
import contextvars
import os
import re
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("KPIAPP_ENV", "dev")

from sqlalchemy import event  # noqa: E402


def recorded(engine, run):
    """[(statement, parameters, ms)] of what `run()` executes on the engine."""
    seen, started = [], {}

    def before(_conn, cursor, statement, parameters, _context, _many):
        started[id(cursor)] = time.perf_counter()

    def after(_conn, cursor, statement, parameters, _context, _many):
        seen.append((statement, parameters, (time.perf_counter() - started.pop(id(cursor))) * 1000))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    return seen


def explain_all(engine, statements):
    """[(plan lines or None, ms)] of each statement replayed in one rolled-back transaction."""
    out = []
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for statement, parameters, _ms in statements:
            if re.match(r"\s*(SELECT|WITH|CREATE TEMPORARY TABLE \S+ ON COMMIT DROP AS)\b", statement, re.I):
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                out.append([row[0] for row in cursor.fetchall()])
            else:
                cursor.execute(statement, parameters)
                out.append(None)
    finally:
        raw.rollback()
        raw.close()
    return out


def figure(plan, label):
    found = [line for line in plan if line.strip().startswith(label)]
    return found[0].split(":", 1)[1].strip() if found else ""


def main():
    from bench.scale_bench import LOGINS, pages
    from kpiapp.app import create_app
    from kpiapp.demo import DEMO_PASSWORD
    from kpiapp.demo.scale import email_of
    from kpiapp.extensions import db
    from tests.helpers import signed_in_client

    parser = argparse.ArgumentParser()
    parser.add_argument("--page", required=True)
    parser.add_argument("--cycle", type=int, default=1)
    parser.add_argument("--plans", help="write every statement and its full plan here")
    args = parser.parse_args()
    app = create_app()
    with app.app_context():
        who, path = pages(args.cycle, dashboards=True)[args.page]
        user = SimpleNamespace(email=email_of(LOGINS[who]))
        client = contextvars.Context().run(signed_in_client, app, user, DEMO_PASSWORD)
        db.session.commit()
        contextvars.Context().run(client.get, path)
        db.session.commit()
        statements = recorded(db.engine, lambda: contextvars.Context().run(client.get, path))
        plans = explain_all(db.engine, statements)
    total = sum(s[2] for s in statements)
    print(f"{args.page}: {path}, {len(statements)} statements, {total:.0f} ms in all, "
          f"load {[round(v, 2) for v in os.getloadavg()]}")
    for n, ((statement, _p, ms), plan) in enumerate(zip(statements, plans), 1):
        top = plan[0].split("  (")[0].strip() if plan else ""
        first = " ".join(statement.split())[:90]
        print(f"{n:>3} {ms:>8.1f} ms  exec {figure(plan or [], 'Execution Time'):>12}  "
              f"plan {figure(plan or [], 'Planning Time'):>10}  jit {figure(plan or [], 'Timing'):>8.8}  "
              f"{top[:40]:<40}  {first}")
    if args.plans:
        with open(args.plans, "w") as out:
            for n, ((statement, parameters, ms), plan) in enumerate(zip(statements, plans), 1):
                out.write(f"---- {n}: {ms:.1f} ms\n{statement}\n{parameters}\n")
                out.write("\n".join(plan or []) + "\n\n")


if __name__ == "__main__":
    main()
