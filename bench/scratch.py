"""A migrated scratch database and app for the benchmark scripts: SQLite in a temporary
folder, or a new PostgreSQL database when DATABASE_URL is set; both removed afterwards.
On a shared server, BENCH_DB_PREFIX names the scratch databases (default "kpi"). With
`template`, the PostgreSQL database is a copy of that one (`CREATE DATABASE ... TEMPLATE`, as
`createdb -T`: the template must have no open connections)."""
import os
import shutil
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from config import TestConfig, database_url


@contextmanager
def scratch_database(instance, label, template=None):
    """Yields the URI of an empty database (or a copy of `template`) for this run."""
    if not os.environ.get("DATABASE_URL"):
        yield f"sqlite:///{instance / 'bench.sqlite'}"
        return
    prefix = os.environ.get("BENCH_DB_PREFIX", "kpi")  # a shared server: each user keeps to a prefix
    name = f"{prefix}_{label}_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(database_url()).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        copy = f' TEMPLATE "{template}"' if template else ""
        conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    try:
        yield make_url(database_url()).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def scratch_app(label, template=None, **settings):
    """The app on a freshly migrated scratch database (or copy of `template`), inside its app context."""
    from flask_migrate import upgrade

    from kpiapp.app import create_app
    from kpiapp.extensions import db

    instance = Path(tempfile.mkdtemp(prefix=f"{label}-bench-"))
    try:
        with scratch_database(instance, label, template) as uri:
            config = type("BenchConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": uri, "INSTANCE_DIR": instance,
                                                         "SECRET_KEY": "bench", **settings})
            app = create_app(config)
            with app.app_context():
                upgrade()
                try:
                    yield app
                finally:
                    db.session.remove()
                    db.engine.dispose()
    finally:
        shutil.rmtree(instance, ignore_errors=True)
