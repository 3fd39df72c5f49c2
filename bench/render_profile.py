"""Where one warm request of a dashboard page spends its time, in-process (Flask test client).

    KPIAPP_ENV=dev DATABASE_URL=postgresql://postgres@127.0.0.1:5432/DB \\
        .venv/bin/python bench/render_profile.py [--page "company dashboard" ...] [--requests 20]
        [--cycle 1] [--top 25] [--fragment]

Signs in as the page's role of bench/scale_bench.py (a seed-scale database copy), fetches the
page 3 times to warm the memo, the template and catalogue caches, then runs --requests more and
prints per request: CPU ms (process time), SQL statements and their wall ms, the CPU ms spent in
each template rendered (flask's render_template, by template name: a page's time includes what it
includes), in JSON serialisation (the charts' specs: `tojson`), in the data token, the filters
and the session's user load; then the top functions (the app's, its templates',
JSON) of a cProfile run of the same requests by cumulative CPU time. --fragment sends
HX-Request (the body fragment, no page shell).
"""
import argparse
import contextvars
import cProfile
import os
import pstats
import sys
import time
from collections import defaultdict
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("KPIAPP_ENV", "dev")

from sqlalchemy import event  # noqa: E402

SPENT = defaultdict(float)
ROOT = Path(__file__).resolve().parents[1]


def timed(owner, name, label):
    """Wrap owner.name so that its CPU time (process time) adds to SPENT[label] (outermost call only)."""
    original = getattr(owner, name)
    depth = {"n": 0}

    def wrapper(*args, **kwargs):
        depth["n"] += 1
        t0 = time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            depth["n"] -= 1
            if not depth["n"]:
                key = label(args) if callable(label) else label
                SPENT[key] += time.process_time() - t0
    setattr(owner, name, wrapper)


def instrument():
    import flask.templating
    import flask_login.utils
    import markupsafe  # noqa: F401

    import kpiapp.dashboards.memo as memo
    import kpiapp.dashboards.routes.common as common

    timed(flask.templating, "_render", lambda args: f"template {args[1].name}")
    timed(memo, "data_token", "data token")
    timed(common, "read_filters", "read_filters (choices, cycle)")
    timed(flask_login.utils, "_get_user", "current_user (session, user row)")
    import flask.json.provider as provider
    timed(provider.DefaultJSONProvider, "dumps", "JSON dumps (tojson)")
    for module in ("company", "team", "stores", "person"):
        mod = __import__(f"kpiapp.dashboards.routes.{module}", fromlist=["x"])
        if getattr(mod, "data_token", None):
            mod.data_token = memo.data_token


def main():
    from bench.scale_bench import LOGINS, pages

    parser = argparse.ArgumentParser()
    parser.add_argument("--page", action="append")
    parser.add_argument("--cycle", type=int, default=1)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--fragment", action="store_true")
    args = parser.parse_args()
    instrument()
    from kpiapp.app import create_app
    from kpiapp.demo import DEMO_PASSWORD
    from kpiapp.demo.scale import email_of
    from kpiapp.extensions import db
    from tests.helpers import signed_in_client

    app = create_app()
    headers = {"HX-Request": "true"} if args.fragment else {}
    print(f"load average {[round(v, 2) for v in os.getloadavg()]}")
    with app.app_context():
        clients = {}
        for name, (who, path) in pages(args.cycle, dashboards=True).items():
            if name not in (args.page or ["team dashboard", "company dashboard", "company, all stores",
                                          "store dashboards", "person dashboard"]):
                continue
            if who not in clients:
                user = SimpleNamespace(email=email_of(LOGINS[who]))
                clients[who] = contextvars.Context().run(signed_in_client, app, user, DEMO_PASSWORD)
            client = clients[who]

            def get():
                db.session.commit()
                response = contextvars.Context().run(client.get, path, headers=headers)
                assert response.status_code == 200, response.status_code
                return response

            for _ in range(3):
                get()
            SPENT.clear()
            sql = {"n": 0, "ms": 0.0}
            started = {}

            def before(_c, cursor, *_a):
                started[id(cursor)] = time.perf_counter()

            def after(_c, cursor, *_a):
                sql["n"] += 1
                sql["ms"] += (time.perf_counter() - started.pop(id(cursor))) * 1000

            event.listen(db.engine, "before_cursor_execute", before)
            event.listen(db.engine, "after_cursor_execute", after)
            cpu0, wall0 = time.process_time(), time.perf_counter()
            for _ in range(args.requests):
                size = len(get().get_data())
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
            event.remove(db.engine, "before_cursor_execute", before)
            event.remove(db.engine, "after_cursor_execute", after)
            n = args.requests
            print(f"\n== {name}: {path}{' (fragment)' if args.fragment else ''}, {size} bytes; per request: "
                  f"CPU {cpu / n * 1000:.1f} ms, wall {wall / n * 1000:.1f} ms, "
                  f"{sql['n'] / n:.0f} statements {sql['ms'] / n:.1f} ms; of the CPU:")
            for label, seconds in sorted(SPENT.items(), key=lambda kv: -kv[1]):
                print(f"   {seconds / n * 1000:7.2f} ms CPU  {label}")
            profile = cProfile.Profile(time.process_time)  # CPU, not waits
            cpu0 = time.process_time()
            profile.enable()
            for _ in range(args.requests):
                get()
            profile.disable()
            profiled = (time.process_time() - cpu0) / n * 1000
            print(f"   cProfile run (inflates small calls): CPU {profiled:.1f} ms "
                  f"a request; cumulative CPU ms a request:")
            stats = pstats.Stats(profile)
            stats.sort_stats("cumulative")
            rows = []
            for (filename, line, func), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():
                short = filename.split("site-packages/")[-1].replace(str(ROOT) + "/", "")
                rows.append((ct, f"{short}:{line}({func})"))
            mine = [r for r in rows if "templates/" in r[1] or "kpiapp/" in r[1] or "json" in r[1]]
            for ct, where in sorted(mine, reverse=True)[:args.top]:
                print(f"   {ct / n * 1000:7.2f} ms cum  {where}")


if __name__ == "__main__":
    main()
