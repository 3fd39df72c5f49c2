"""The zh walk's cost (tests/web/test_zh_everywhere.py): rendering the pages vs the English check.

    .venv/bin/python bench/zh_walk_bench.py [--roles admin,hr] [--demo-db seeded.sqlite --instance dir]

Seeds the demo into a scratch SQLite database (minutes; or reuse one with --demo-db and its
instance directory), makes every user read Chinese, and walks the test's targets as each role
in --roles (pages only, no htmx fragments).  Prints CPU seconds (time.process_time) of
client.get, of reading the visible text, and of the English check with and without the
per-part memory (english_runs vs english_runs.__wrapped__), with the number of text parts
and of different ones.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("KPIAPP_ENV", "test")

from sqlalchemy import select, update  # noqa: E402

from kpiapp import demo  # noqa: E402
from kpiapp.app import create_app  # noqa: E402
from kpiapp.audit import SYSTEM, set_actor  # noqa: E402
from kpiapp.extensions import db  # noqa: E402
from kpiapp.models import User  # noqa: E402
from tests.conftest import IsolatedClient, make_config, migrate_to_head, without_fsync  # noqa: E402
from tests.web import test_zh_everywhere as zh  # noqa: E402


def seeded(directory):
    instance = directory / "instance"
    instance.mkdir()
    path = directory / "demo.sqlite"
    migrate_to_head(f"sqlite:///{path}", instance)
    app = create_app(make_config(f"sqlite:///{path}", instance))
    with app.app_context():
        without_fsync(db.engine)
        set_actor(SYSTEM)
        demo.seed_demo()
        db.session.commit()
        db.engine.dispose()
    return path, instance


def walk(app, login, targets, allowed):
    user = db.session.execute(select(User).where(User.email == demo.email_of(login))).scalar_one()
    client = zh.signed_in_client(app, user, demo.DEMO_PASSWORD)
    cpu = dict.fromkeys(("get", "text", "check uncached", "check cached"), 0.0)
    parts_seen, different = 0, set()
    for _endpoint, path in targets:
        started = time.process_time()
        response = client.get(path)
        cpu["get"] += time.process_time() - started
        if response.mimetype != "text/html":
            continue
        started = time.process_time()
        parts = zh.visible_text(response.get_data(as_text=True))
        cpu["text"] += time.process_time() - started
        parts_seen += len(parts)
        different.update(parts)
        for name, check in (("check uncached", zh.english_runs.__wrapped__), ("check cached", zh.english_runs)):
            started = time.process_time()
            for part in parts:
                check(part, allowed.pattern)
            cpu[name] += time.process_time() - started
    figures = "  ".join(f"{name} {seconds:5.1f} s" for name, seconds in cpu.items())
    print(f"{login:8} {len(targets)} targets  {parts_seen} parts ({len(different)} different)  cpu: {figures}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--roles", default="admin,hr,manager")
    parser.add_argument("--demo-db")
    parser.add_argument("--instance")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        source, instance = (Path(args.demo_db), Path(args.instance)) if args.demo_db else seeded(scratch)
        copy = scratch / "walk.sqlite"
        shutil.copy(source, copy)
        app = create_app(make_config(f"sqlite:///{copy}", instance))
        app.test_client_class = IsolatedClient
        with app.app_context():
            without_fsync(db.engine)
            db.session.execute(update(User).values(locale="zh_CN"))
            db.session.commit()
            allowed = zh.users_data()
            targets = list(zh.urls(app, zh.sample_ids()))
            for role in args.roles.split(","):
                walk(app, zh.ROLES[role], targets, allowed)


if __name__ == "__main__":
    main()
