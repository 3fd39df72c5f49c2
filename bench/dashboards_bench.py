"""SQL statements and time of each dashboard page over the demo data.

    .venv/bin/python bench/dashboards_bench.py [--repeat 5]

Loads the demo into a scratch database (SQLite, or PostgreSQL with DATABASE_URL), signs in
as the role that uses each dashboard, and prints per page the SQL statements of one request
and the median wall time over --repeat requests (bench/page_timing.py; the time is noisy
on a loaded machine, the statement count is the stable figure).
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

PAGES = {
    "company (HR)": ("hr", "/dashboards/company"),
    "team (HR: everyone)": ("hr", "/dashboards/team"),
    "team (manager)": ("na.lead", "/dashboards/team"),
    "person (employee)": ("li.lei", "/dashboards/person"),
    "store list (HR)": ("hr", "/dashboards/stores"),
    "store AMZ-US (HR)": ("hr", "/dashboards/stores/{amz_us}"),
    "company, public panels (employee)": ("li.lei", "/dashboards/company"),
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from sqlalchemy import select

    from kpiapp import demo
    from kpiapp.audit import SYSTEM, set_actor
    from kpiapp.extensions import db
    from kpiapp.models import Store
    from tests.helpers import signed_in_client

    with scratch_app("dashboards") as app:
        set_actor(SYSTEM)
        demo.seed_demo()
        db.session.commit()
        amz_us = db.session.scalar(select(Store.id).where(Store.code == "AMZ-US"))
        clients = {}
        print(f"{'page':<36} {'SQL':>5} {'median ms':>10}")
        for name, (login, path) in PAGES.items():
            if login not in clients:
                who = SimpleNamespace(email=demo.email_of(login))
                db.session.commit()
                clients[login] = contextvars.Context().run(signed_in_client, app, who, demo.DEMO_PASSWORD)
            count, median = measure(clients[login], db, path.format(amz_us=amz_us), args.repeat)
            print(f"{name:<36} {count:>5} {median * 1000:>10.1f}")
        print(f"database: {db.engine.dialect.name}; load average: "
              f"{', '.join(f'{v:.1f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
