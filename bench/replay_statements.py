"""A page's SQL statements from two (or more) checkouts, replayed alternately on one database (PostgreSQL).

    # in each checkout: record the page's statements (as bench/explain_page.py, one request)
    KPIAPP_ENV=dev DATABASE_URL=postgresql://postgres@127.0.0.1:5432/DB \\
        .venv/bin/python bench/replay_statements.py --page "team dashboard" --record /tmp/new.pkl
    # then, once: replay every recorded SELECT of each file in turn, --rounds times (A, B, A, B …)
    DATABASE_URL=… .venv/bin/python bench/replay_statements.py --replay /tmp/old.pkl /tmp/new.pkl

On a shared machine the wall time of a page moves with everyone else's load; replaying both
checkouts' statements alternately in one connection (JIT off, as the dashboards set it) puts
them under the same load. Prints per file: the median and minimum ms of the statement matching
--focus (default: the team dashboard's `card_rows`, the one with the "ordered" CTE) and of all
its SELECTs together, and the load average. The files hold the statements and their parameters
(pickle): record and replay on the same database.
"""
import argparse
import contextvars
import os
import pickle
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("KPIAPP_ENV", "dev")


def record(page, cycle, path):
    from bench.explain_page import recorded
    from bench.scale_bench import LOGINS, pages
    from kpiapp.app import create_app
    from kpiapp.demo import DEMO_PASSWORD
    from kpiapp.demo.scale import email_of
    from kpiapp.extensions import db
    from tests.helpers import signed_in_client

    app = create_app()
    with app.app_context():
        who, url = pages(cycle, dashboards=True)[page]
        user = SimpleNamespace(email=email_of(LOGINS[who]))
        client = contextvars.Context().run(signed_in_client, app, user, DEMO_PASSWORD)
        db.session.commit()
        contextvars.Context().run(client.get, url)  # warm
        db.session.commit()
        statements = recorded(db.engine, lambda: contextvars.Context().run(client.get, url))
    with open(path, "wb") as out:
        pickle.dump([(statement, parameters) for statement, parameters, _ms in statements], out)
    print(f"{page}: {len(statements)} statements recorded in {path}")


def replay(paths, rounds, focus):
    import psycopg

    url = os.environ["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    selects = {}
    for path in paths:
        with open(path, "rb") as source:
            recorded = pickle.load(source)
        selects[path] = [(s, p) for s, p in recorded if s.lstrip().upper().startswith(("SELECT", "WITH"))]
    focused = {path: [(s, p) for s, p in found if focus in s][:1] for path, found in selects.items()}
    times = {path: ([], []) for path in paths}
    with psycopg.connect(url) as connection:
        connection.execute("SET jit = off")
        for _ in range(rounds):
            for path in paths:
                for statements, spent in zip((focused[path], selects[path]), times[path]):
                    started = time.perf_counter()
                    for statement, parameters in statements:
                        connection.execute(statement, parameters).fetchall()
                    spent.append((time.perf_counter() - started) * 1000)
        connection.rollback()
    for path in paths:
        one, every = times[path]
        print(f"{path}: focused statement median {statistics.median(one):7.1f} ms (min {min(one):6.1f}); "
              f"all {len(selects[path])} SELECTs median {statistics.median(every):7.1f} ms "
              f"(min {min(every):6.1f})")
    print(f"load average {[round(v, 2) for v in os.getloadavg()]}, {rounds} rounds")


def replay_whole(paths, rounds, top):
    """Every recorded statement of each file (temporary tables and SET LOCAL included), in order,
    in a transaction rolled back after each file's turn, A, B, A, B …: the page's database time
    as its requests spend it, under the same load; prints the median and minimum of the whole
    and of the `top` slowest statements of each file."""
    import psycopg

    url = os.environ["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    recorded = {}
    for path in paths:
        with open(path, "rb") as source:
            recorded[path] = [(s, p) for s, p in pickle.load(source)
                              if not s.lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))]
    whole = {path: [] for path in paths}
    each = {path: [[] for _ in recorded[path]] for path in paths}
    load = [round(v, 2) for v in os.getloadavg()]
    with psycopg.connect(url) as connection:
        for _ in range(rounds):
            for path in paths:
                started = time.perf_counter()
                for n, (statement, parameters) in enumerate(recorded[path]):
                    one = time.perf_counter()
                    cursor = connection.execute(statement, parameters)
                    if cursor.description:
                        cursor.fetchall()
                    each[path][n].append((time.perf_counter() - one) * 1000)
                whole[path].append((time.perf_counter() - started) * 1000)
                connection.rollback()
    for path in paths:
        print(f"{path}: {len(recorded[path])} statements, median {statistics.median(whole[path]):7.1f} ms "
              f"(min {min(whole[path]):6.1f})")
        slowest = sorted(range(len(recorded[path])), key=lambda n: -statistics.median(each[path][n]))[:top]
        for n in sorted(slowest):
            text = " ".join(recorded[path][n][0].split())[:100]
            print(f"  {n + 1:>3} median {statistics.median(each[path][n]):7.1f} min {min(each[path][n]):7.1f}  {text}")
    print(f"load average {load} -> {[round(v, 2) for v in os.getloadavg()]}, {rounds} rounds")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--page", default="team dashboard")
    parser.add_argument("--cycle", type=int, default=1)
    parser.add_argument("--record", metavar="FILE")
    parser.add_argument("--replay", metavar="FILE", nargs="+")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--focus", default="ordered AS", help="text of the statement timed on its own")
    parser.add_argument("--whole", action="store_true",
                        help="replay every statement in order (temporary tables too), per-statement medians")
    parser.add_argument("--top", type=int, default=8, help="with --whole: show this many slowest statements")
    args = parser.parse_args()
    if args.record:
        record(args.page, args.cycle, args.record)
    if args.replay and args.whole:
        replay_whole(args.replay, args.rounds, args.top)
    elif args.replay:
        replay(args.replay, args.rounds, args.focus)


if __name__ == "__main__":
    main()
