"""Test set-up: a fresh database per test, or one transaction rolled back per test.

Clone (the default): every test gets a database cloned from one migrated template.
SQLite copies a migrated file; PostgreSQL (DATABASE_URL set, as in CI) runs
`CREATE DATABASE ... TEMPLATE ...`.  Commits are real, so triggers, worker
processes and concurrent sessions see what a user would.

Rollback (`@pytest.mark.rollback`, for tests that need no second connection):
one database for the whole session, and each test runs inside a transaction on
one connection that is rolled back at the end.  The app's commits become
savepoint releases, so services, views and triggers behave as usual within the
test; what they cannot see is another connection (a worker process, a thread).
"""
import contextvars
import fcntl
import importlib.util
import itertools
import os
import shutil
import uuid
import weakref
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from types import FunctionType, ModuleType

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.util import LRUCache

from flask.testing import FlaskClient
from jinja2 import BytecodeCache
from redis import Redis

from config import TestConfig, database_url
from kpiapp.app import create_app
from kpiapp.extensions import db

pytest_plugins = ["tests.figures", "tests.demo_db"]

PG_URL = os.environ.get("DATABASE_URL")
_counter = itertools.count()


def remember_url_builders():
    """Each app the tests create (one per test using `app`) compiles its ~660 URL rules, and
    werkzeug writes two Python functions per rule (ast + compile): 85% of create_app's time.
    The functions are pure (the rule comes in as their first argument), so one compiled for
    the same rule, trace and defaults serves every later app of this process unchanged."""
    from werkzeug.routing.rules import Rule

    compile_builder, made = Rule._compile_builder, {}

    def remembered(self, append_unknown=True):
        defaults = self.defaults or {}
        resolved = tuple((data, self._converters[data].to_url(defaults[data]))
                         for dynamic, data in self._trace if dynamic and data in defaults)
        key = (append_unknown, self.rule, tuple(self._trace), tuple(map(str, defaults)), resolved)
        if key not in made:
            made[key] = compile_builder(self, append_unknown)
        return made[key]

    Rule._compile_builder = remembered


def remember_rule_parts():
    """The rest of create_app's time in the tests is werkzeug parsing each rule's text into
    matcher parts (a regex scan per rule: ~12 of create_app's ~34 CPU ms, SQLite, measured
    with time.process_time around Rule._parse_rule).  The parse depends only on the text and
    the map's converter classes; what it leaves on the rule is the parts, the build trace,
    the argument names and converter instances bound to the rule's map.  So the first parse
    of a text is kept (parts, trace, and the get_converter calls it made) and a later rule
    of another app with the same text gets the same parts and trace and converters made anew
    for its own map, by the same calls."""
    from werkzeug.routing.rules import Rule

    parse, made = Rule._parse_rule, {}

    def remembered(self, rule):
        key = (rule, tuple(self.map.converters.items()))
        if key not in made:
            made[key] = parse_recording(self, rule)
            return list(made[key][0])
        parts, trace, converters = made[key]
        self._trace.extend(trace)
        for variable, name, args, kwargs in converters:
            self._converters[variable] = self.get_converter(variable, name, args, kwargs)
            self.arguments.add(variable)
        return list(parts)

    def parse_recording(self, rule):
        start, calls, get_converter = len(self._trace), [], self.get_converter

        def recording(variable, name, args, kwargs):
            calls.append((variable, name, args, kwargs))
            return get_converter(variable, name, args, kwargs)

        self.get_converter = recording
        try:
            parts = tuple(parse(self, rule))
        finally:
            del self.get_converter
        return parts, tuple(self._trace[start:]), tuple(calls)

    Rule._parse_rule = remembered


class SharedTemplateCode(BytecodeCache):
    """Jinja's compiled templates, kept for every app of this process. Each app the tests create
    has its own Jinja environment, which parsed and compiled each template it rendered anew
    (test_permitted.py and test_hr_screens.py: 371 compiles, 3.9 s of CPU; shared: 43, 0.4 s).
    This bytecode cache hands a later environment the code compiled for the first; Jinja checks
    the template's source checksum on each load (a changed template compiles again), and the key
    holds the environment's compile settings, so only an environment set up the same way reuses it."""

    def __init__(self):
        self.code = {}

    def load_bytecode(self, bucket):
        found = self.code.get(self.key(bucket))
        if found is not None:
            bucket.bytecode_from_string(found)

    def dump_bytecode(self, bucket):
        self.code[self.key(bucket)] = bucket.bytecode_to_string()

    @staticmethod
    def key(bucket):
        env = bucket.environment
        settings = (env.block_start_string, env.block_end_string, env.variable_start_string,
                    env.variable_end_string, env.comment_start_string, env.comment_end_string,
                    env.line_statement_prefix, env.line_comment_prefix, env.trim_blocks, env.lstrip_blocks,
                    env.newline_sequence, env.keep_trailing_newline, env.optimized, env.is_async,
                    callable(env.autoescape) or env.autoescape, env.finalize is not None,
                    tuple(sorted(env.extensions)), getattr(env, "newstyle_gettext", None))
        return settings, bucket.key


def share_compiled_templates():
    """Every Flask app of this process gets the same SharedTemplateCode."""
    from flask import Flask

    create, shared = Flask.create_jinja_environment, SharedTemplateCode()

    def with_shared_code(self):
        environment = create(self)
        environment.bytecode_cache = shared
        return environment

    Flask.create_jinja_environment = with_shared_code


class SharedCompiledSQL(LRUCache):
    """SQLAlchemy's compiled statements, kept for every engine of this process. SQLAlchemy keeps
    them per engine (and per mapper for the flush's INSERT/UPDATE), keyed by the engine's dialect
    object; each test's app has its own engine, so every test compiled each statement it ran
    again (tests/web/test_access.py under cProfile: 5,521 compiles for 12,240 statements, 11.5 of
    its 69.5 s). Compiled SQL depends on the statement and on the dialect's class and settings
    (server version, paramstyle, ...), not on which database the engine reaches, so here the
    dialect in the key stands for those: engines whose dialects are set up alike share what
    either compiled."""

    __slots__ = ()

    def get(self, key, default=None):
        return super().get(self.shared(key), default)

    def __getitem__(self, key):
        return super().__getitem__(self.shared(key))

    def __setitem__(self, key, value):
        super().__setitem__(self.shared(key), value)

    def __delitem__(self, key):
        super().__delitem__(self.shared(key))

    @staticmethod
    def shared(key):
        if isinstance(key, tuple) and key and isinstance(key[0], Dialect):
            return (dialect_settings(key[0]), *key[1:])
        return key


_settings_of = weakref.WeakKeyDictionary()


def dialect_settings(dialect):
    """The dialect's class and every setting on it: plain values as they are, modules and functions
    by identity, other objects (the per-instance type memos, identifier preparer, ...) by class.
    Remembered once the dialect has met its server (initialize() sets server_version_info and
    what depends on it)."""
    found = _settings_of.get(dialect)
    if found is None:
        plain = (str, int, float, bool, type(None), tuple, ModuleType, FunctionType, type)
        found = (type(dialect), tuple(sorted((name, value if isinstance(value, plain) else type(value))
                                             for name, value in vars(dialect).items())))
        if getattr(dialect, "server_version_info", None) is not None:
            _settings_of[dialect] = found
    return found


def share_compiled_sql():
    """Every engine of this process, and every mapper's flush statements, use SharedCompiledSQL."""
    from sqlalchemy.engine.base import Engine
    from sqlalchemy.orm import Mapper
    from sqlalchemy.util import HasMemoized

    shared = SharedCompiledSQL(5000)

    def engine_cache(self):  # None stays None: an engine made with query_cache_size=0 caches nothing
        return shared if self.__dict__.get("_own_compiled_cache") is not None else None

    def set_engine_cache(self, cache):
        self.__dict__["_own_compiled_cache"] = cache

    def _compiled_cache(self):
        return SharedCompiledSQL(self._compiled_cache_size)

    Engine._compiled_cache = property(engine_cache, set_engine_cache)
    Mapper._compiled_cache = HasMemoized.memoized_attribute(_compiled_cache)


remember_url_builders()
remember_rule_parts()
share_compiled_templates()
share_compiled_sql()


def pytest_xdist_make_scheduler(config, log):
    """--dist loadfile hands out the heaviest file first (tests/scheduling.py)."""
    if config.getoption("dist") == "loadfile":
        from tests.scheduling import HeaviestFirst

        return HeaviestFirst(config, log)
    return None


def migration_module(filename):
    """The module of migrations/versions/`filename`, loaded from its file (a migration is not a
    package module), for tests that run a migration's own statements."""
    path = Path(__file__).resolve().parents[1] / "migrations" / "versions" / filename
    spec = importlib.util.spec_from_file_location(f"migration_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_config(uri, instance_dir, **extra):
    attrs = {"SQLALCHEMY_DATABASE_URI": uri, "INSTANCE_DIR": instance_dir, "SECRET_KEY": "test-secret",
             "WTF_CSRF_ENABLED": True, **extra}
    return type("TestRunConfig", (TestConfig,), attrs)


def migrate_to_head(uri, instance_dir):
    from flask_migrate import upgrade

    app = create_app(make_config(uri, instance_dir))
    with app.app_context():
        without_fsync(db.engine)
        upgrade()
        db.engine.dispose()


def admin_engine():
    url = make_url(database_url()).set(database="postgres")
    return create_engine(url, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def template_db(tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    if not PG_URL:
        path = instance / "template.sqlite"
        migrate_to_head(f"sqlite:///{path}", instance)
        yield ("sqlite", path)
        return
    name = f"kpi_tpl_{uuid.uuid4().hex[:8]}"
    engine = admin_engine()
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    migrate_to_head(str(make_url(database_url()).set(database=name)), instance)
    yield ("postgresql", name)
    COPIES.close()
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


# DROP DATABASE on PostgreSQL 15 requests a checkpoint and waits for it: ~0.04 s of the backend's
# CPU, and 0.3-5 s of waiting for the shared disk under load.  One checkpoint answers every request
# made before it starts, so drops issued together share it (8 drops: 33-41 s one after the other,
# 3.3-3.6 s from 8 connections at once; load 13-15).
DROPPING_AT_ONCE = 8


class Copies:
    """PostgreSQL copies of a template for the tests, each made by `CREATE DATABASE ... TEMPLATE`
    and dropped after its test as before; the waiting moves off the test's path.  A copy is dropped
    in background threads once its test has ended (up to DROPPING_AT_ONCE at a time, so that they
    share checkpoints), and the next copy of the migrated template is made while the current test
    runs (`take(..., ahead=True)`).  A test still gets a database nobody has used; errors of the
    background work are raised, at the latest when the session closes (`close`)."""

    def __init__(self):
        self.making = ThreadPoolExecutor(1, thread_name_prefix="copy-ahead")
        self.dropping = ThreadPoolExecutor(DROPPING_AT_ONCE, thread_name_prefix="drop-behind")
        self.ahead = {}  # template -> Future of the name of a copy made ahead
        self.drops = {}  # name -> Future of its drop
        self.engine = None

    def connect(self):
        if self.engine is None:
            self.engine = admin_engine()

    def run(self, statement):
        with self.engine.connect() as conn:
            conn.execute(text(statement))

    def make(self, template, name):
        pending = self.drops.pop(name, None)
        if pending is not None:
            pending.result()  # a name used again (fixed names of tests/tracking/test_seed_scale.py)
        self.run(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return name

    def take(self, template, name, ahead=False):
        """The name of a fresh copy of `template`.  `ahead`: the copy made ahead for this template
        if there is one, and the next one started in the background; else `name`, made now."""
        self.connect()
        if not ahead:
            return self.make(template, name)
        made = self.ahead.pop(template, None)
        self.ahead[template] = self.making.submit(self.make, template, f"{name}_next")
        return made.result() if made is not None else self.make(template, name)

    def drop(self, name):
        self.connect()
        self.drops[name] = self.dropping.submit(self.run, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self):
        """Drop the copies made ahead, wait for every drop, and raise the first that failed."""
        for made in self.ahead.values():
            self.drop(made.result())
        self.ahead.clear()
        self.making.shutdown(wait=True)
        self.dropping.shutdown(wait=True)
        drops, self.drops = list(self.drops.values()), {}
        for drop in drops:
            drop.result()
        if self.engine is not None:
            self.engine.dispose()


COPIES = Copies()


@contextmanager
def cloned(template_db, directory, name, ahead=False):
    """A copy of the migrated template: a file copy on SQLite, CREATE DATABASE ... TEMPLATE on
    PostgreSQL (dropped afterwards, in the background: `Copies`); yields its URI.  `ahead`: make
    the next copy of this template while the caller uses this one (the per-test copies)."""
    kind, template = template_db
    if kind == "sqlite":
        path = directory / f"{name}.sqlite"
        shutil.copy(template, path)
        yield f"sqlite:///{path}"
        return
    name = COPIES.take(template, name, ahead)
    try:
        yield make_url(database_url()).set(database=name).render_as_string(hide_password=False)
    finally:
        COPIES.drop(name)


def as_template(template_db, directory, name):
    """The database `cloned(template_db, directory, name)` made, as a template for clones of its own."""
    kind, _template = template_db
    return (kind, directory / f"{name}.sqlite") if kind == "sqlite" else (kind, name)


@pytest.fixture(scope="session")
def shared_database(template_db, tmp_path_factory):
    """The one database the rollback tests share, cloned once per session."""
    with cloned(template_db, tmp_path_factory.mktemp("shared"), f"kpi_shared_{uuid.uuid4().hex[:8]}") as uri:
        yield uri


def rolls_back(request):
    """`rollback` on the test or its module; `rollback(False)` on a test that starts threads
    (each needs a connection of its own) overrides its module's mark."""
    marker = request.node.get_closest_marker("rollback")
    return marker is not None and (marker.args[0] if marker.args else True)


def uses_redis(item):
    """Marked `redis`, asks for the `redis` fixture, or its module points the app at the tests' Redis."""
    module = getattr(item, "module", None)
    return bool(item.get_closest_marker("redis") or "redis" in item.fixturenames or hasattr(module, "REDIS_URL"))


@pytest.fixture(autouse=True)
def redis_turn(request, tmp_path_factory):
    """Under pytest-xdist, the tests that use the tests' Redis (one db, flushed by each) take
    turns across workers: a lock file in the run's temporary directory, shared by its workers."""
    if not (hasattr(request.config, "workerinput") and uses_redis(request.node)):
        yield
        return
    with open(tmp_path_factory.getbasetemp().parent / "redis.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@pytest.fixture
def database_uri(request, template_db, tmp_path):
    if rolls_back(request):
        yield request.getfixturevalue("shared_database")
        return
    with cloned(template_db, tmp_path, f"kpi_t_{os.getpid()}_{next(_counter)}", ahead=True) as uri:
        yield uri


@pytest.fixture
def app_config():
    """Override in a test module to change settings."""
    return {}


class IsolatedClient(FlaskClient):
    """Each request runs in an empty contextvars context, as in production.

    The test body holds an app context (for factories and queries); without
    this, Flask would reuse it for every request, sharing `g` and the ORM
    session between requests and hiding bugs.  The test's own transaction
    is committed first and its session expired after, so each side sees what
    the other committed.
    """

    def open(self, *args, **kwargs):
        db.session.commit()  # end the test's transaction: SQLite takes the write lock at BEGIN
        response = contextvars.Context().run(super().open, *args, **kwargs)
        db.session.expire_all()
        return response


@pytest.fixture
def app(request, database_uri, tmp_path, app_config):
    app = create_app(make_config(database_uri, tmp_path, **app_config))
    app.test_client_class = IsolatedClient
    with app.app_context():
        without_fsync(db.engine)
        if rolls_back(request):
            yield from inside_one_transaction(app)
        else:
            yield app
        db.session.remove()
        db.engine.dispose()


def without_fsync(engine):
    """A throw-away test database needs no flush to disk per commit; keeps the suite fast under
    load.  SQLite: synchronous=OFF; PostgreSQL: synchronous_commit=off for this engine's sessions
    (a commit is seen by every other connection at once as before; only a server crash could lose
    the last ones).  Connections made from now on."""
    event.listen(engine, "connect", _no_fsync_sqlite if engine.dialect.name == "sqlite" else _no_wal_flush)
    engine.dispose()


def _no_fsync_sqlite(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.close()


def _no_wal_flush(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    cursor.execute("SET synchronous_commit TO off")
    cursor.close()
    dbapi_connection.commit()  # psycopg opened a transaction for the SET; the setting stays for the session


def inside_one_transaction(app):
    """Bind every session of this app to one connection whose transaction is rolled back.

    Flask-SQLAlchemy picks the bind from `db.engines`, so the connection stands
    in for the engine there; `create_savepoint` turns each session's commit
    and rollback into a savepoint of the outer transaction.
    """
    engines = db.engines
    engine = engines[None]
    connection = engine.connect()
    outer = connection.begin()
    db.session.remove()
    db.session.configure(join_transaction_mode="create_savepoint")
    engines[None] = connection
    try:
        yield app
    finally:
        db.session.remove()
        engines[None] = engine
        db.session.configure(join_transaction_mode="conditional_savepoint")
        outer.rollback()
        connection.close()


@pytest.fixture
def redis():
    """The tests' Redis (tests/workers.py), emptied before and after; unreachable is an error, never a skip."""
    from tests.workers import REDIS_URL

    connection = Redis.from_url(REDIS_URL)
    connection.ping()
    connection.flushdb()
    yield connection
    connection.flushdb()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def login(app):
    """login(user) -> a test client signed in through the real login form."""
    from tests.helpers import signed_in_client

    def sign_in(user, password=None):
        return signed_in_client(app, user, password)

    return sign_in
