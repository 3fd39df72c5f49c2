"""Connecting stores and pulling their data (issue 15, docs/connectors.md).

A pull fetches every document of one data kind first and only then hands each one to
imports.services.start_import, exactly like an upload: a ConnectorError (expired
authorisation, throttled, FATAL or truncated report) leaves nothing written. Pulls of one store
never overlap (a per-store lock). Rotated tokens are saved in a transaction of their own at
once, so a refresh token the platform has just replaced is never lost.
"""
from __future__ import annotations

import importlib
import json
import secrets
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, select, text, update
from sqlalchemy.orm import Session, aliased

from kpiapp import jobs
from kpiapp.connectors import base, http
from kpiapp.extensions import db
from kpiapp.models import ImportRecord, ImportStatus, Role, Store, User
from kpiapp.models.base import utcnow
from kpiapp.models.connectors import ConnectionPull, ConnectionStatus, PullStatus, StoreConnection
from kpiapp.vault import VaultError

ADS_TRAILING_DAYS = 14  # Ads attribution changes for two weeks: re-pulled every run
MAX_CATCH_UP_DAYS = 30  # sales/orders/...: yesterday back to the last pulled day, at most this
FIRST_PULL_DAYS = 7  # a new connection's first pull
LOCK_STALE = timedelta(hours=1)  # a SQLite lock older than this was left by a dead process
PULL_LOCK_NS = 15  # first key of the PostgreSQL advisory lock (issue 15)
PULL_JOB_TIMEOUT = 1800  # seconds; longer for a kind the connector says needs time per day
PULL_SLACK = 600  # seconds added to a per-day estimate

# plain words for a failure code (the connections page, the CLI shows the English)
FAILURE_WORDS = {
    base.Failure.auth_expired: _l("The authorisation has expired or was revoked: reconnect the store."),
    base.Failure.auth_failed: _l("The platform refused the credentials: check them and reconnect."),
    base.Failure.throttled: _l("The platform throttled the requests; the next run tries again."),
    base.Failure.report_fatal: _l("The platform could not produce the report (FATAL or cancelled)."),
    base.Failure.report_timeout: _l("The report was not ready in time; the next run tries again."),
    base.Failure.truncated: _l("The report arrived cut off; nothing was imported."),
    base.Failure.bad_response: _l("The platform answered in an unexpected form; nothing was imported."),
    base.Failure.unreachable: _l("The platform could not be reached."),
    base.Failure.not_supported: _l("This platform offers no API for this data."),
    "busy": _l("Another pull of this store was running; the next run tries again."),
    "import_failed": _l("The pulled report could not be imported; see the import."),
    "vault": _l("The stored credentials cannot be opened with the configured keys: reconnect the store."),
}
KIND_WORDS = {
    base.DataKind.sales: _l("Sales and traffic"), base.DataKind.ads: _l("Advertising"),
    base.DataKind.orders: _l("Orders"), base.DataKind.settlement: _l("Settlements"),
    base.DataKind.inventory: _l("Inventory"), base.DataKind.health: _l("Account health"),
}
# what the connect form calls the platforms' credential and setting fields
FIELD_WORDS = {
    "client_id": _l("Client ID"), "client_secret": _l("Client secret"), "refresh_token": _l("Refresh token"),
    "partner_id": _l("Partner ID"), "partner_key": _l("Partner key"), "app_key": _l("App key"),
    "app_secret": _l("App secret"), "access_token": _l("Access token"), "region": _l("Region"),
    "marketplace_id": _l("Marketplace ID"), "profile_id": _l("Advertising profile ID"), "shop_id": _l("Shop ID"),
    "shop_cipher": _l("Shop cipher"), "country": _l("Country"), "base_url": _l("API address"),
    "seller_id": _l("Seller ID"), "timezone": _l("Time zone"), "application_id": _l("Application ID"),
    "selling_partner_id": _l("Selling partner ID"),
}
# brand names, the same in every language
PLATFORM_NAMES = {"amazon_sp": "Amazon SP-API", "amazon_ads": "Amazon Ads", "shopee": "Shopee",
                  "tiktok": "TikTok Shop", "lazada": "Lazada"}
NEEDS_RECONNECT = {base.Failure.auth_expired, base.Failure.auth_failed, "vault"}


class ConnectError(Exception):
    """A connection request refused outright (unknown platform, store, data kind)."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def failure_words(code):
    return FAILURE_WORDS.get(code, code) if code else ""


def platform_name(platform):
    return PLATFORM_NAMES.get(platform, platform)


def kind_words(kind):
    return KIND_WORDS.get(kind, kind)


def field_words(name):
    return FIELD_WORDS.get(name, name)


# ---- connecting ------------------------------------------------------------------------------

PLATFORM_MODULES = ("amazon_sp", "amazon_ads", "shopee", "tiktok", "lazada")


def load_platforms():
    """Import the platform connectors present in this checkout (each registers itself)."""
    for name in PLATFORM_MODULES:
        try:
            importlib.import_module(f"kpiapp.connectors.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"kpiapp.connectors.{name}":
                raise
    return base.REGISTRY


def connector_class(platform):
    cls = load_platforms().get(platform)
    if cls is None:
        raise ConnectError("unknown_platform", f"No connector for platform {platform!r}.")
    return cls


def connect(store, platform, settings, credentials, actor=None, *, kinds=None, every_minutes=None,
            freshness_hours=None):
    """Create or update the store's connection to `platform` (flushed; the caller commits).

    Credentials are write-only: a field left empty keeps its stored value, so an edit form
    never needs to show them. Changing credentials clears the tokens and the last error."""
    cls = connector_class(platform)
    connection = find_connection(store.id, platform) or StoreConnection(store_id=store.id, platform=platform,
                                                                        settings={}, kinds=[])
    known = {k: v for k, v in (settings or {}).items() if k in cls.setting_fields or k == "base_url"}
    connection.settings = {**(connection.settings or {}), **known}
    given = {k: v for k, v in (credentials or {}).items() if k in cls.credential_fields and v}
    if given:
        connection.credentials = {**connection.credentials, **given}
        connection.tokens, connection.last_error = {}, None
        connection.status = ConnectionStatus.connected
    connection.kinds = checked_kinds(cls, kinds if kinds is not None else (connection.kinds or cls.kinds))
    connection.every_minutes = int(every_minutes or connection.every_minutes or 360)
    connection.freshness_hours = int(freshness_hours or connection.freshness_hours or 36)
    db.session.add(connection)
    db.session.flush()
    return connection


def checked_kinds(cls, kinds):
    wanted = [str(k) for k in kinds]
    unknown = [k for k in wanted if k not in cls.kinds]
    if unknown:
        raise ConnectError("unknown_kind", f"{cls.platform} cannot pull {', '.join(unknown)}.")
    return wanted


def store_platforms(store):
    """[(platform key, connection or None)]: the connectors for the store's marketplace (all
    of them when none matches), then any other platform it is connected to."""
    keys = sorted(load_platforms())
    matching = [k for k in keys if k.startswith(str(store.platform))] or keys
    existing = {c.platform: c for c in db.session.execute(
        select(StoreConnection).where(StoreConnection.store_id == store.id)).scalars()}
    return [(k, existing.get(k)) for k in matching] + [(k, c) for k, c in existing.items() if k not in matching]


def find_connection(store_id, platform):
    return db.session.execute(select(StoreConnection).where(
        StoreConnection.store_id == store_id, StoreConnection.platform == platform)).scalar_one_or_none()


def disconnect(connection):
    connection.status = ConnectionStatus.disabled
    db.session.flush()


class SavedTokens:
    """The TokenStore of one connection: `put` commits the tokens at once in a session of its own."""

    def __init__(self, connection_id, values):
        self.connection_id = connection_id
        self.values = dict(values)

    def get(self, name):
        return self.values.get(name)

    def put(self, **values):
        self.values.update(values)
        if db.engine.dialect.name == "sqlite":
            db.session.commit()  # SQLite: the app's session holds the one write lock (BEGIN IMMEDIATE)
        with Session(db.engine) as session:
            row = session.get(StoreConnection, self.connection_id)
            row.tokens = {**row.tokens, **values}
            session.commit()


_sessions = []  # (requests.Session, sleep) given by `http_session` (tests, the demo seed), innermost last


@contextmanager
def http_session(session, sleep=None):
    """Connectors built inside use `session` (e.g. the stand-in mounted in-process) and, when
    given, `sleep` for their waits (the in-process stand-in moves reports on polls, not time)."""
    entry = (session, sleep)
    _sessions.append(entry)
    try:
        yield session
    finally:
        _sessions.remove(entry)


def http_client(session=None):
    given, sleep = _sessions[-1] if _sessions else (None, None)
    options = {"sleep": sleep} if sleep is not None and session is None else {}
    return http.Client(session=session or given, **options)


def build_connector(connection, base_url=None, session=None):
    """The platform connector of `connection`, ready to call (credentials opened from the vault)."""
    cls = connector_class(connection.platform)
    settings = dict(connection.settings or {})
    context = base.Context(
        store_code=connection.store.code, credentials=connection.credentials, settings=settings,
        tokens=SavedTokens(connection.id, connection.tokens),
        base_url=(base_url or settings.get("base_url") or platform_base_url(cls, settings)).rstrip("/"),
        http=http_client(session))
    return cls(context)


def platform_base_url(cls, settings):
    """The connector's own choice for the store's region when it has one, else its default."""
    chooser = getattr(cls, "base_url_for", None)
    return chooser(settings) if chooser else cls.default_base_url


def test_connection(connection, base_url=None, session=None):
    """One cheap call with the stored credentials: None when they work, else the failure code.

    Records the outcome on the connection (status, last error); flushed, the caller commits."""
    try:
        build_connector(connection, base_url, session).test()
    except base.ConnectorError as error:
        return note_failure(connection, error.failure)
    except VaultError:  # a sealed value the configured keys cannot open
        return note_failure(connection, "vault")
    connection.last_error = None
    connection.status = ConnectionStatus.connected
    db.session.flush()
    return None


def note_failure(connection, code):
    connection.last_error = str(code)
    if code in NEEDS_RECONNECT:
        connection.status = ConnectionStatus.needs_reconnect
    db.session.flush()
    return str(code)


# ---- what is due -----------------------------------------------------------------------------

def store_yesterday(store, now):
    try:
        zone = ZoneInfo(store.timezone or "UTC")
    except (KeyError, ValueError):
        zone = timezone.utc
    return now.astimezone(zone).date() - timedelta(days=1)


def default_range(connection, kind, now):
    """(date_from, date_to) for a scheduled pull of `kind` (docs/connectors.md)."""
    yesterday = store_yesterday(connection.store, now)
    if kind == base.DataKind.ads:
        return yesterday - timedelta(days=ADS_TRAILING_DAYS - 1), yesterday
    last = last_success(connection.id, kind)
    if last is None:
        return yesterday - timedelta(days=FIRST_PULL_DAYS - 1), yesterday
    first = max(min(last.date_to, yesterday), yesterday - timedelta(days=MAX_CATCH_UP_DAYS - 1))
    return first, yesterday


def last_success(connection_id, kind):
    return latest_pull(connection_id, kind, PullStatus.done)


def latest_pull(connection_id, kind, status=None):
    query = select(ConnectionPull).where(ConnectionPull.connection_id == connection_id,
                                         ConnectionPull.kind == str(kind))
    if status is not None:
        query = query.where(ConnectionPull.status == status)
    return db.session.execute(query.order_by(ConnectionPull.id.desc()).limit(1)).scalar_one_or_none()


def next_run(connection, kind):
    """When the schedule pulls `kind` next (None: not scheduled)."""
    if connection.status != ConnectionStatus.connected or str(kind) not in (connection.kinds or []):
        return None
    last = latest_pull(connection.id, kind)
    if last is None:
        return None  # due now: the next scheduler tick
    return last.created_at + timedelta(minutes=connection.every_minutes)


def is_due(connection, kind, now):
    last = latest_pull(connection.id, kind)
    if last is None:
        return True
    if last.status in (PullStatus.queued, PullStatus.running):  # lost with its worker after its time
        allowed = max(LOCK_STALE, timedelta(seconds=pull_timeout(connection, kind, last.date_from, last.date_to)))
        return last.created_at + allowed < now
    return last.created_at + timedelta(minutes=connection.every_minutes) <= now


def run_due(now=None):
    """Create and launch a "pull" job for each connection and kind that is due; the pull ids."""
    now = now or utcnow()
    launched = []
    connections = db.session.execute(select(StoreConnection).where(
        StoreConnection.status == ConnectionStatus.connected).order_by(StoreConnection.id)).scalars().all()
    for connection in connections:
        for kind in connection.kinds or []:
            if is_due(connection, kind, now):
                launched.append(queue_pull(connection, kind, *default_range(connection, kind, now)))
    return launched


def queue_pull(connection, kind, date_from, date_to, actor_id=None):
    """A queued pull and its job, launched (RQ, or right here without Redis); the pull id."""
    pull = new_pull(connection, kind, date_from, date_to)
    run = jobs.create("pull", "connection_pull", pull.id, actor_id)
    try:
        jobs.launch(run, rq_id=f"pull-{pull.id}", timeout=pull_timeout(connection, kind, date_from, date_to))
    except jobs.QueueUnavailable:
        finish_pull(pull.id, PullStatus.failed, "unreachable", "The job queue is unreachable.")
    return pull.id


def pull_timeout(connection, kind, date_from, date_to):
    """Seconds the pull's job may run: PULL_JOB_TIMEOUT, or the connector's per-day need over the
    range plus PULL_SLACK when that is longer (a 30-day SP-API sales catch-up: 4,200 s)."""
    per_day = connector_class(connection.platform).seconds_per_day.get(base.DataKind(kind), 0)
    days = (date_to - date_from).days + 1
    return max(PULL_JOB_TIMEOUT, per_day * days + PULL_SLACK)


def new_pull(connection, kind, date_from, date_to):
    pull = ConnectionPull(connection_id=connection.id, kind=str(kind), date_from=date_from, date_to=date_to,
                          status=PullStatus.queued, import_ids=[], facts=0)
    db.session.add(pull)
    db.session.flush()
    return pull


# ---- one pull --------------------------------------------------------------------------------

def run_pull(pull_id, base_url=None, session=None):
    """Pull one kind of one connection over the pull's range and import what came; the pull.

    `base_url` points the connector at a stand-in (`kpi sync --endpoint`); `session` is a
    requests.Session to use (tests and the demo mount the stand-in on one)."""
    db.session.rollback()
    pull = db.session.get(ConnectionPull, pull_id)
    if pull is None or pull.status == PullStatus.done:
        return pull
    with store_lock(pull.connection.store_id) as locked:
        if not locked:
            return finish_pull(pull_id, PullStatus.failed, "busy", "another pull of this store is running")
        return pull_locked(pull_id, base_url, session)


def pull_locked(pull_id, base_url, session):
    pull = db.session.get(ConnectionPull, pull_id)
    pull.status, pull.started_at, pull.failure, pull.detail = PullStatus.running, utcnow(), None, None
    db.session.commit()
    connection = pull.connection
    try:
        documents = fetch_all(connection, pull, base_url, session)
    except base.ConnectorError as error:
        return pull_failed(pull_id, error.failure, error.detail)
    except VaultError:
        return pull_failed(pull_id, "vault", "")
    return import_documents(pull_id, documents)


def fetch_all(connection, pull, base_url, session):
    """Every document of the pull, fetched before anything is written."""
    connector = build_connector(connection, base_url, session)
    kind = base.DataKind(pull.kind)
    if kind not in connector.kinds:
        raise base.ConnectorError(base.Failure.not_supported, f"{connection.platform} has no {kind}")
    return list(connector.pull(kind, pull.date_from, pull.date_to))


def import_documents(pull_id, documents):
    from kpiapp.imports.services import ImportRejected, start_import

    pull = db.session.get(ConnectionPull, pull_id)
    store_id = pull.connection.store_id
    records = []
    for document in documents:
        try:
            records.append(start_import(document.content, document.filename, store_id, None,
                                        parser=document.parser, date_from=document.date_from,
                                        date_to=document.date_to))
        except ImportRejected as error:
            return pull_failed(pull_id, "import_failed", f"{error}", [r.id for r in records])
    return pull_imported(pull_id, [r.id for r in records])


def pull_imported(pull_id, import_ids):
    records = [db.session.get(ImportRecord, i) for i in import_ids]
    failed = [r for r in records if r.status == ImportStatus.failed]
    facts = sum(r.facts_written or 0 for r in records if r.status == ImportStatus.committed)
    if failed:
        detail = "; ".join(f"import {r.id}: {r.error_code}" for r in failed)[:2000]
        return pull_failed(pull_id, "import_failed", detail, import_ids, facts)
    pull = finish_pull(pull_id, PullStatus.done, None, None, import_ids, facts)
    connection = pull.connection
    connection.last_error = None
    if connection.status == ConnectionStatus.needs_reconnect:  # the credentials work again
        connection.status = ConnectionStatus.connected
    db.session.commit()
    return pull


def pull_failed(pull_id, code, detail, import_ids=(), facts=0):
    pull = finish_pull(pull_id, PullStatus.failed, str(code), detail, import_ids, facts)
    note_failure(pull.connection, str(code))
    db.session.commit()
    return pull


def finish_pull(pull_id, status, failure=None, detail=None, import_ids=(), facts=0):
    db.session.rollback()
    pull = db.session.get(ConnectionPull, pull_id)
    pull.status, pull.failure, pull.detail = status, failure, (detail or "")[:2000] or None
    pull.import_ids, pull.facts, pull.finished_at = list(import_ids), facts, utcnow()
    db.session.commit()
    return pull


def pull_job_failed(pull_id, reason, message):
    """The pull's job died (worker killed, timeout): the pull says so."""
    pull = db.session.get(ConnectionPull, pull_id)
    if pull is not None and pull.status != PullStatus.done:
        finish_pull(pull_id, PullStatus.failed, reason, message)


# ---- the per-store lock ----------------------------------------------------------------------

class store_lock:
    """`with store_lock(store_id) as locked:` — True when this process now holds the store's
    pull lock. PostgreSQL: a session advisory lock on a connection of its own (released when
    the connection closes, even if the process dies). SQLite: a token on the store's
    connection rows, set by one UPDATE (SQLite runs writes one at a time), stale after an hour."""

    def __init__(self, store_id):
        self.store_id, self.token, self.connection = store_id, secrets.token_hex(8), None

    def __enter__(self):
        if db.engine.dialect.name == "postgresql":
            self.connection = db.engine.connect()
            return bool(self.connection.execute(text("SELECT pg_try_advisory_lock(:ns, :id)"),
                                                {"ns": PULL_LOCK_NS, "id": self.store_id}).scalar())
        return self.take_row_lock()

    def __exit__(self, *_exc):
        if self.connection is not None:
            self.connection.execute(text("SELECT pg_advisory_unlock(:ns, :id)"),
                                    {"ns": PULL_LOCK_NS, "id": self.store_id})
            self.connection.close()
            return False
        db.session.rollback()
        db.session.execute(update(StoreConnection).where(StoreConnection.lock_token == self.token)
                           .values(lock_token=None, locked_at=None).execution_options(synchronize_session=False))
        db.session.commit()
        return False

    def take_row_lock(self):
        db.session.rollback()
        now = utcnow()
        other = aliased(StoreConnection)
        held = exists().where(and_(other.store_id == self.store_id, other.lock_token.is_not(None),
                                   other.locked_at > now - LOCK_STALE))
        result = db.session.execute(
            update(StoreConnection).where(StoreConnection.store_id == self.store_id, ~held)
            .values(lock_token=self.token, locked_at=now).execution_options(synchronize_session=False))
        db.session.commit()
        return result.rowcount > 0


# ---- the CLI's sync --------------------------------------------------------------------------

class SyncError(Exception):
    """`kpi sync` cannot start (unknown store, no connection for a kind)."""


def sync(store_code, date_from=None, date_to=None, kinds=None, endpoint=None, session=None, now=None):
    """Pull now, in the foreground, for one store: the finished pulls (each done or failed)."""
    store = db.session.execute(select(Store).where(Store.code == store_code)).scalar_one_or_none()
    if store is None:
        raise SyncError(f"unknown store {store_code}")
    plan = sync_plan(store, kinds)
    pulls = []
    for connection, kind in plan:
        first, last = default_range(connection, kind, now or utcnow())
        pull = new_pull(connection, kind, date_from or first, date_to or last)
        db.session.commit()
        pulls.append(run_pull(pull.id, base_url=endpoint, session=session))
    return pulls


def sync_plan(store, kinds):
    connections = db.session.execute(select(StoreConnection).where(
        StoreConnection.store_id == store.id, StoreConnection.status != ConnectionStatus.disabled)
        .order_by(StoreConnection.id)).scalars().all()
    if not connections:
        raise SyncError(f"store {store.code} has no connection")
    plan = []
    for kind in kinds or []:
        owner = next((c for c in connections if kind in connector_class(c.platform).kinds), None)
        if owner is None:
            raise SyncError(f"no connection of {store.code} can pull {kind}")
        plan.append((owner, kind))
    return plan or [(c, kind) for c in connections for kind in c.kinds or []]


# ---- freshness -------------------------------------------------------------------------------

@dataclass(frozen=True)
class KindState:
    """What the connections page shows for one (connection, kind)."""

    connection: StoreConnection
    kind: str
    last_success: ConnectionPull | None
    last: ConnectionPull | None
    next_run: datetime | None
    stale: bool

    @property
    def data_as_of(self) -> date | None:
        return self.last_success.date_to if self.last_success else None

    @property
    def error(self):
        return self.last.failure if self.last is not None and self.last.status == PullStatus.failed else None


def kind_states(now=None, store_id=None):
    """One KindState per active connection and kind, by store code."""
    now = now or utcnow()
    query = select(StoreConnection).join(Store).order_by(Store.code, StoreConnection.platform)
    if store_id is not None:
        query = query.where(StoreConnection.store_id == store_id)
    states = []
    for connection in db.session.execute(query).scalars():
        for kind in connection.kinds or []:
            success = last_success(connection.id, kind)
            states.append(KindState(connection, kind, success, latest_pull(connection.id, kind),
                                    next_run(connection, kind), is_stale(connection, success, now)))
    return states


def is_stale(connection, success, now):
    if connection.status == ConnectionStatus.disabled:
        return False
    since = success.finished_at if success is not None else connection.created_at
    return since is not None and since + timedelta(hours=connection.freshness_hours) < now


def stale_connections(now=None):
    """KindStates whose data is older than the connection's freshness limit (never pulled
    counts from when the store was connected): for notices and dashboards."""
    return [state for state in kind_states(now) if state.stale]


@dataclass(frozen=True)
class StaleNotice:
    """One connection whose data is stale, and who looks after it: the store's owners and the
    admins (who alone may reconnect it)."""

    people: tuple
    label: str  # e.g. "AMZ-US Amazon SP-API"
    as_of: date | None  # the oldest 'data as of' among its stale kinds
    link: str = "/connections"


def stale_notices(now=None):
    """A StaleNotice per connection with at least one stale kind (reminders tell the people)."""
    by_connection = {}
    for state in stale_connections(now):
        by_connection.setdefault(state.connection, []).append(state.data_as_of)
    admins = db.session.execute(select(User).where(User.role == Role.admin, User.active.is_(True))).scalars().all()
    notices = []
    for connection, days in by_connection.items():
        owners = [owner.person for owner in connection.store.owners if owner.person.active]
        people = tuple({person.id: person for person in [*owners, *admins]}.values())
        known = [day for day in days if day is not None]
        notices.append(StaleNotice(people, f"{connection.store.code} {platform_name(connection.platform)}",
                                   min(known) if len(known) == len(days) else None))
    return notices


def stale_store_ids(now=None):
    return {state.connection.store_id for state in stale_connections(now)}


def settings_json(connection):
    """The plain settings as shown on the page (never the credentials)."""
    return json.dumps(connection.settings or {}, ensure_ascii=False, sort_keys=True)
