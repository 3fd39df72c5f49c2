"""Extension objects, bound to the app in create_app()."""
from contextlib import contextmanager

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx
from sqlalchemy import MetaData, event, func, select
from sqlalchemy.engine import Engine

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

READ_ONLY = "kpiapp_read_only"  # execution option: this connection only reads

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING))
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
htmx = Htmx()


def dialect():
    """The name of the database the session talks to ("postgresql", "sqlite"), for the few
    statements written differently on each."""
    return db.session.get_bind().dialect.name


def set_local(conn, **settings):
    """PostgreSQL: run-time settings (planner, memory) for the rest of the transaction of the
    connection `conn`, in one statement (`set_config(name, value, true)`: a rollback puts them
    back too); nothing on SQLite, which has none of them."""
    if settings and conn.dialect.name == "postgresql":
        conn.execute(select(*(func.set_config(name, str(value), True) for name, value in settings.items())))


@contextmanager
def settings_for_one_statement(conn, **settings):
    """PostgreSQL: set_local(conn, **settings) for the statements inside the block, the settings
    as they were put back after it (a statement that fails aborts the transaction, whose
    rollback puts them back too); nothing on SQLite."""
    if not settings or conn.dialect.name != "postgresql":
        yield
        return
    were = conn.execute(select(*(func.current_setting(name) for name in settings))).one()
    set_local(conn, **settings)
    yield
    set_local(conn, **dict(zip(settings, were)))


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    # pysqlite's own transaction handling breaks SAVEPOINT and defers BEGIN;
    # take it over (SQLAlchemy docs, "Serializable isolation / Savepoints").
    # BEGIN IMMEDIATE takes the write lock up front: a read-then-write
    # transaction can then never deadlock against another one.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn):
    # A connection marked read-only (e.g. the audit anchor reading the committed chain head
    # while another connection of the same process holds the write lock) takes no write lock.
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")
