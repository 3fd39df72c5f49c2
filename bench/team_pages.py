"""The team dashboard's pages and downloads, saved to files, to compare two checkouts; then the
first request after a write (the cold path) timed in process.

    cd CHECKOUT && DASHBOARD_MEMO_SIZE=0 KPIAPP_ENV=dev \\
        DATABASE_URL=postgresql://postgres@127.0.0.1:5432/DB \\
        .venv/bin/python /path/to/bench/team_pages.py --out DIR [--cycle 1] [--time 10]

Imports the app of the current directory (so one copy of this script serves both checkouts).
Signs in as the general manager of bench/scale_bench.py (a seed-scale database) in-process and
saves, with the CSRF token blanked: the first 4 keyset pages, the first page of the 3 largest
departments, `after=` a card not in the team, a platform and an unknown store code, and both
CSV downloads (people, at risk). Run it from each checkout on the same data and `diff -r` the
two directories. With --time N: N more
requests of the first page, each after a commit, printing CPU (process time) and wall ms.
"""
import argparse
import contextvars
import os
import re
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, os.getcwd())
os.environ.setdefault("KPIAPP_ENV", "dev")

CSRF = re.compile(rb'(csrf[-_]token"?\s*(?:content|value)=")[^"]*"|("X-CSRFToken":\s*")[^"]*"', re.I)


def main():
    from sqlalchemy import func, select

    from bench.scale_bench import LOGINS
    from kpiapp.app import create_app
    from kpiapp.demo import DEMO_PASSWORD
    from kpiapp.demo.scale import email_of
    from kpiapp.extensions import db
    from kpiapp.models import User
    from tests.helpers import signed_in_client

    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--cycle", type=int, default=1)
    parser.add_argument("--time", type=int, default=0)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    app = create_app()
    with app.app_context():
        user = SimpleNamespace(email=email_of(LOGINS["boss"]))
        client = contextvars.Context().run(signed_in_client, app, user, DEMO_PASSWORD)

        def get(path):
            db.session.commit()
            response = contextvars.Context().run(client.get, path)
            assert response.status_code == 200, (path, response.status_code)
            return response.get_data()

        base = f"/dashboards/team?cycle={args.cycle}"
        paths, page = {"page1": base}, get(base)
        for n in range(2, 5):
            found = re.search(rb'href="([^"]*after=\d+[^"]*)"', page)
            if not found:
                break
            paths[f"page{n}"] = found.group(1).decode().replace("&amp;", "&")
            page = get(paths[f"page{n}"])
        largest = db.session.execute(
            select(User.department_id).where(User.department_id.is_not(None)).group_by(User.department_id)
            .order_by(func.count().desc(), User.department_id).limit(3)).scalars()
        for department in largest:
            paths[f"department{department}"] = f"{base}&department={department}"
        paths["after_outside"] = f"{base}&after=999999999"
        paths["platform"] = f"{base}&platform=amazon"  # not in the team's bar: kept in the pager's links
        paths["store_code"] = f"{base}&store_code=NOPE"  # dropped and named
        for panel in ("people", "at_risk"):
            paths[f"download_{panel}"] = f"{base}&download={panel}&format=csv"
        for name, path in paths.items():
            (out / name).write_bytes(CSRF.sub(lambda m: (m.group(1) or m.group(2)) + b'"', get(path)))
        print(f"{len(paths)} files, {sum(f.stat().st_size for f in out.iterdir())} bytes in {out}")
        if args.time:
            cpu, wall = [], []
            for _ in range(args.time):
                c0, w0 = time.process_time(), time.perf_counter()
                get(base)
                cpu.append((time.process_time() - c0) * 1000)
                wall.append((time.perf_counter() - w0) * 1000)
            cpu.sort()
            wall.sort()
            print(f"load {[round(v, 2) for v in os.getloadavg()]}: {args.time} requests, CPU ms median "
                  f"{cpu[len(cpu) // 2]:.1f} min {cpu[0]:.1f}; wall ms median {wall[len(wall) // 2]:.1f} "
                  f"min {wall[0]:.1f}")


if __name__ == "__main__":
    main()
