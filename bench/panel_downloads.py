"""Every company-dashboard panel's CSV download, saved to files, to compare two checkouts.

    KPIAPP_ENV=dev DATABASE_URL=postgresql://postgres@127.0.0.1:5432/DB \\
        .venv/bin/python bench/panel_downloads.py --out DIR [--cycle 1] [--filter all ...]

Signs in as HR of bench/scale_bench.py (a seed-scale database) in-process and saves
`/dashboards/company?…&download=<panel>&format=csv` for every panel and the all-stores
download, under a few filter sets (none, a month of the cycle, a platform, a department, a
store). Run it from each checkout on the same database and `diff -r` the two directories.
"""
import argparse
import contextvars
import os
import sys
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("KPIAPP_ENV", "dev")


def main():
    from sqlalchemy import func, select

    from bench.scale_bench import LOGINS
    from kpiapp.app import create_app
    from kpiapp.dashboards.company import PANELS
    from kpiapp.demo import DEMO_PASSWORD
    from kpiapp.demo.scale import email_of
    from kpiapp.extensions import db
    from kpiapp.models import Cycle, Store, User
    from tests.helpers import signed_in_client

    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--cycle", type=int, default=1)
    parser.add_argument("--filter", action="append", help="only this filter set (repeatable): all, month, "
                                                              "platform, department, store")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    app = create_app()
    with app.app_context():
        cycle = db.session.get(Cycle, args.cycle)
        store = db.session.execute(select(Store.id, Store.platform).order_by(Store.code).limit(1)).one()
        department = db.session.execute(select(func.min(User.department_id))).scalar()
        filters = {"all": "", "month": f"&period={cycle.period_start:%Y-%m}",
                   "platform": f"&platform={store.platform}", "department": f"&department={department}",
                   "store": f"&store={store.id}"}
        user = SimpleNamespace(email=email_of(LOGINS["hr"]))
        client = contextvars.Context().run(signed_in_client, app, user, DEMO_PASSWORD)
        db.session.commit()
        filters = {name: query for name, query in filters.items() if not args.filter or name in args.filter}
        for name, query in filters.items():
            paths = {panel: f"/dashboards/company?cycle={args.cycle}{query}&download={panel}&format=csv"
                     for panel in PANELS}
            paths["all_stores"] = f"/dashboards/company/stores?cycle={args.cycle}{query}&download=stores&format=csv"
            for panel, path in paths.items():
                response = contextvars.Context().run(client.get, path)
                assert response.status_code == 200, (path, response.status_code)
                (out / f"{name}-{panel}.csv").write_bytes(response.get_data())
                db.session.commit()
    print(f"{len(filters) * (len(PANELS) + 1)} downloads in {out}")


if __name__ == "__main__":
    main()
