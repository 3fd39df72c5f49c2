"""Every write appends an audit event; events form a SHA-256 hash chain.

How it works: a `before_flush` hook collects what the ORM is about to create,
change or delete on every auditable model (all models unless `__audit__ =
False`); an `after_flush` hook, when ids are known, appends one event per
object in the same transaction, so the event commits or rolls back with the
write.  Explicit events (login, failed login, denied write, imports...) go
through `record()`.  Each event stores `prev_hash` and
`entry_hash = sha256(prev_hash || canonical_json(event))`; `verify_chain()`
recomputes the chain and names the first broken link.  On PostgreSQL the
writers are serialised by a transaction-level advisory lock so concurrent
transactions cannot fork the chain; SQLite serialises writers already.
Triggers created by the migration reject UPDATE and DELETE on the table.

Whoever can bypass the triggers can still cut off or rewrite the END of the chain
and recompute the hashes; anchors (kpiapp/audit_anchor.py: the head written outside
the database) catch that, and `verify_chain(session, anchors)` checks them.
With AUDIT_HMAC_KEY_FILE set, new events are keyed: `entry_hash = HMAC-SHA256(key,
prev_hash || canonical_json(event))` and `key_id` names the key, so rewriting needs
the key too; older unkeyed events still verify, but no unkeyed event may follow a
keyed one (that would be a downgrade).
Refusals go through `record_refusal()`, throttled to one event per identical
refusal per minute (the count is kept in the `audit_refusal` table).
"""
import contextvars
import functools
import hashlib
import hmac
import json
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from enum import Enum

from pathlib import Path

from flask import current_app, g, has_app_context, has_request_context, request
from sqlalchemy import event, insert, inspect, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kpiapp.models.audit import AuditEvent, AuditRefusal

GENESIS = "0" * 64
CHAIN_LOCK_KEY = 7_150_001
_actor = contextvars.ContextVar("audit_actor", default=None)


@dataclass(frozen=True)
class Actor:
    id: int | None
    label: str
    ip: str | None = None


SYSTEM = Actor(None, "system")


def set_actor(actor):
    """Set the actor for code outside a request (CLI, jobs); returns a reset token."""
    return _actor.set(actor)


def reset_actor(token):
    _actor.reset(token)


@contextmanager
def acting_as(actor):
    """Attribute the audit events written inside the block to `actor` (jobs, CLI)."""
    token = _actor.set(actor)
    try:
        yield actor
    finally:
        _actor.reset(token)


def current_actor():
    if has_request_context() and getattr(g, "audit_actor", None) is not None:
        return g.audit_actor
    return _actor.get() or SYSTEM


def actor_for(user):
    ip = request.remote_addr if has_request_context() else None
    if user is None or not getattr(user, "is_authenticated", False):
        return Actor(None, "anonymous", ip)
    return Actor(user.id, user.email, ip)


def to_jsonable(value):
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return f"<{len(value)} bytes sha256={hashlib.sha256(value).hexdigest()}>"
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [to_jsonable(v) for v in value]
    return value


def canonical_json(data):
    return json.dumps(to_jsonable(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(prev_hash, fields, key=None):
    data = (prev_hash + canonical_json(fields)).encode("utf-8")
    return hmac.new(key, data, hashlib.sha256).hexdigest() if key else hashlib.sha256(data).hexdigest()


def hmac_key():
    """(key_id, key) from AUDIT_HMAC_KEY_FILE, or None when keyed hashing is off."""
    path = current_app.config.get("AUDIT_HMAC_KEY_FILE") if has_app_context() else None
    return load_hmac_key(str(path)) if path else None


@functools.lru_cache(maxsize=4)
def load_hmac_key(path):
    key = Path(path).read_bytes().strip()
    if len(key) < 32:
        raise ValueError(f"AUDIT_HMAC_KEY_FILE {path}: the key must have at least 32 bytes")
    return hashlib.sha256(b"kpiapp-audit-key-id:" + key).hexdigest()[:16], key


def hashed_fields(row):
    """The columns covered by the hash (everything but seq and the hashes)."""
    return {
        "ts_utc": row["ts_utc"], "actor_id": row["actor_id"], "actor": row["actor"],
        "action": row["action"], "entity": row["entity"], "entity_id": row["entity_id"],
        "before_json": row["before_json"], "after_json": row["after_json"], "ip": row["ip"],
    } | ({"key_id": row["key_id"]} if row.get("key_id") else {})  # unkeyed events hash as before


def chain_head(connection):
    """(seq, entry_hash) of the last event, or (0, GENESIS) for an empty chain."""
    row = connection.execute(
        select(AuditEvent.seq, AuditEvent.entry_hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    return (row.seq, row.entry_hash) if row is not None else (0, GENESIS)


def append_events(connection, events):
    """Append events (dicts) to the chain on this connection's transaction."""
    if not events:
        return
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CHAIN_LOCK_KEY})
    head = connection.execute(
        select(AuditEvent.entry_hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).scalar()
    prev = head or GENESIS
    key_id, key = hmac_key() or (None, None)
    rows = []
    for item in events:
        row = dict(item, prev_hash=prev, key_id=key_id)
        row["entry_hash"] = prev = entry_hash(row["prev_hash"], hashed_fields(row), key)
        rows.append(row)
    for row in rows:  # one by one: seq order must follow chain order
        connection.execute(insert(AuditEvent.__table__), row)


def make_event(action, entity, entity_id=None, before=None, after=None, actor=None):
    actor = actor or current_actor()
    return {
        "ts_utc": datetime.now(timezone.utc).replace(microsecond=0),
        "actor_id": actor.id, "actor": actor.label, "ip": actor.ip,
        "action": action, "entity": entity,
        "entity_id": None if entity_id is None else str(entity_id),
        "before_json": None if before is None else canonical_json(before),
        "after_json": None if after is None else canonical_json(after),
    }


def record(session, action, entity, entity_id=None, before=None, after=None, actor=None):
    """Append one explicit event in the session's transaction (caller commits)."""
    append_events(session.connection(), [make_event(action, entity, entity_id, before, after, actor)])


# ---- refusals, throttled -----------------------------------------------------------------

def record_refusal(session, action, entity, entity_id, reason, actor=None, detail=None):
    """Audit a refused request (`access.denied`, `workflow.refused`) in the session's
    transaction (caller commits).  Identical refusals (same actor, action, entity and
    reason) within one clock minute write one event; the others raise the bucket's count.
    Returns True when an event was written."""
    actor = actor or current_actor()
    minute = current_minute()
    key = refusal_key(actor, action, entity, reason)
    connection = session.connection()
    if not _open_bucket(connection, key, minute, action, entity, reason, actor):
        table = AuditRefusal.__table__
        connection.execute(update(table).where(table.c.key == key, table.c.minute == minute)
                           .values(count=table.c.count + 1))
        return False
    after = dict(detail or {}, reason=reason, throttle_key=key, minute=minute)
    append_events(connection, [make_event(action, entity, entity_id, None, after, actor)])
    return True


def current_minute():
    return datetime.now(timezone.utc).replace(second=0, microsecond=0)


def refusal_key(actor, action, entity, reason):
    # an anonymous caller is told apart by address: one flooding client must not hide another
    who = [actor.id] if actor.id is not None else [actor.label, actor.ip]
    return hashlib.sha256(canonical_json([*who, action, entity, reason]).encode()).hexdigest()


def _open_bucket(connection, key, minute, action, entity, reason, actor):
    """Insert the minute's bucket; False when it exists already (several workers race here)."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(AuditRefusal.__table__).values(
        key=key, minute=minute, action=action[:64], entity=entity[:64], reason=str(reason)[:64],
        actor_id=actor.id, count=1,
    ).on_conflict_do_nothing(index_elements=["key", "minute"]).returning(AuditRefusal.__table__.c.id)
    return connection.execute(statement).first() is not None


# ---- automatic events for ORM writes -------------------------------------------------

def is_audited(obj):
    return getattr(type(obj), "__audit__", True) and hasattr(obj, "__tablename__")


def mask(obj, key, value):
    return "***" if key in getattr(type(obj), "AUDIT_SECRET_FIELDS", ()) else value


def column_values(obj):
    mapper = inspect(obj).mapper
    return {
        col.key: mask(obj, col.key, to_jsonable(getattr(obj, col.key)))
        for col in mapper.column_attrs
    }


def stored_row(session, obj):
    """The row as the database has it now (old values the ORM had not loaded)."""
    mapper = inspect(obj).mapper
    table = mapper.local_table
    where = [col == value for col, value in zip(mapper.primary_key, inspect(obj).identity)]
    return session.connection().execute(select(table).where(*where)).mappings().first() or {}


def changes(session, obj):
    before, after, stored = {}, {}, None
    for attr in inspect(obj).mapper.column_attrs:
        history = inspect(obj).attrs[attr.key].history
        if not history.has_changes():
            continue
        if history.deleted:
            old = history.deleted[0]
        else:
            stored = stored if stored is not None else stored_row(session, obj)
            old = stored.get(attr.columns[0].name)
        new = history.added[0] if history.added else None
        if old == new:
            continue
        before[attr.key] = mask(obj, attr.key, to_jsonable(old))
        after[attr.key] = mask(obj, attr.key, to_jsonable(new))
    return before, after


def primary_key(obj):
    identity = inspect(obj).identity
    return None if identity is None else ",".join(str(part) for part in identity)


@event.listens_for(Session, "before_flush")
def _collect(session, _context, _instances):
    pending = session.info.setdefault("audit_pending", [])
    for obj in session.new:
        if is_audited(obj):
            pending.append(("create", obj, None, None))
    for obj in session.dirty:
        if is_audited(obj) and session.is_modified(obj, include_collections=False):
            before, after = changes(session, obj)
            if before or after:
                pending.append(("update", obj, before, after))
    for obj in session.deleted:
        if is_audited(obj):
            pending.append(("delete", obj, column_values(obj), None))


@event.listens_for(Session, "after_flush")
def _write(session, _context):
    pending = session.info.pop("audit_pending", [])
    events = []
    for verb, obj, before, after in pending:
        entity = obj.__tablename__
        if verb == "create":
            after = column_values(obj)
        events.append(make_event(f"{entity}.{verb}", entity, primary_key(obj), before, after))
    append_events(session.connection(), events)


@event.listens_for(Session, "after_rollback")
def _discard(session):
    session.info.pop("audit_pending", None)


# ---- verification ----------------------------------------------------------------------

@dataclass(frozen=True)
class Anchor:
    seq: int
    hash: str
    at: str | None = None
    reason: str | None = None


@dataclass
class ChainReport:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None
    anchors_checked: int = 0
    last_seq: int = 0


def verify_chain(session, anchors=()):
    """Recompute the chain in seq order and report the first broken link; then check the
    chain against every anchor (Anchor list, oldest first), which finds a cut-off or
    rewritten end that recomputed hashes would hide."""
    prev, checked, last_seq, keyed = GENESIS, 0, 0, False
    wanted = {anchor.seq for anchor in anchors}
    seen = {}
    key_id, key = hmac_key() or (None, None)
    rows = session.execute(select(AuditEvent.__table__).order_by(AuditEvent.seq)).mappings()
    for row in rows:
        checked += 1
        if row["prev_hash"] != prev:
            return ChainReport(False, checked, row["seq"], "prev_hash does not match the previous entry")
        problem = key_problem(row["key_id"], keyed, key_id)
        if problem:
            return ChainReport(False, checked, row["seq"], problem)
        keyed = keyed or row["key_id"] is not None
        fields = hashed_fields(row)
        fields["ts_utc"] = _as_utc(fields["ts_utc"])
        if entry_hash(prev, fields, key if row["key_id"] else None) != row["entry_hash"]:
            return ChainReport(False, checked, row["seq"], "entry_hash does not match the entry's content")
        prev, last_seq = row["entry_hash"], row["seq"]
        if last_seq in wanted:
            seen[last_seq] = prev
    return check_anchors(anchors, seen, checked, last_seq)


def key_problem(row_key_id, keyed_before, key_id):
    if row_key_id is None:
        return "an unkeyed event follows keyed events" if keyed_before else None
    if row_key_id != key_id:
        return f"event is keyed with key {row_key_id}, which AUDIT_HMAC_KEY_FILE does not hold"
    return None


def check_anchors(anchors, seen, checked, last_seq):
    """The first anchor (numbered from 1, file order) the chain does not reach or match."""
    for number, anchor in enumerate(anchors, 1):
        if anchor.seq > last_seq:
            reason = (f"chain shorter than anchor {number}: anchor has seq {anchor.seq}, "
                      f"chain ends at seq {last_seq}")
        elif anchor.seq not in seen:
            reason = f"event seq {anchor.seq} of anchor {number} is missing from the chain"
        elif seen[anchor.seq] != anchor.hash:
            reason = f"hash differs at anchor {number} (seq {anchor.seq})"
        else:
            continue
        return ChainReport(False, checked, anchor.seq, reason, number - 1, last_seq)
    return ChainReport(True, checked, anchors_checked=len(anchors), last_seq=last_seq)


def _as_utc(value):
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)
