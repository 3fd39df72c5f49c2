"""Anchors: the audit chain's head, written outside the database, append-only.

Whoever can delete rows and recompute hashes can cut off or rewrite the end of
the chain without breaking a link.  An anchor {seq, hash, at, reason} appended
to a JSON-lines file (AUDIT_ANCHOR_PATH, default instance/audit-anchors.jsonl)
and, when AUDIT_ANCHOR_SYSLOG is set, sent to syslog, pins the head as it was;
`verify_chain(session, read_anchors())` then finds a shorter or different chain.

Anchors are written from the committed head only: `anchor_after_commit()` marks
the session, the anchor is written once the commit has succeeded, and a rollback
drops the mark (a head that never committed would raise a false alarm later).
A failing sink is logged, never raised into the request that already committed.
"""
import json
import logging
import logging.handlers
import os
from datetime import datetime, timezone
from pathlib import Path

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from kpiapp.audit import Anchor, chain_head
from kpiapp.extensions import READ_ONLY, db

log = logging.getLogger(__name__)
PENDING = "audit_anchor_reasons"
HEAD = "audit_anchor_head"
TAIL_BYTES = 4096


class AnchorFileError(Exception):
    """The anchor file has a line that is not an anchor."""


def anchor_path():
    configured = current_app.config.get("AUDIT_ANCHOR_PATH")
    return Path(configured) if configured else Path(current_app.instance_path) / "audit-anchors.jsonl"


def write_anchor(reason, head=None):
    """Append the committed head as an anchor; returns the Anchor, or None when the chain is
    empty or the last anchor already holds this head (a quiet periodic job adds nothing).
    `head` is the (seq, hash) a committed transaction left; without it the head is read."""
    seq, digest = head or committed_head()
    if seq == 0 or last_anchor_is(seq, digest):
        return None
    anchor = Anchor(seq, digest, datetime.now(timezone.utc).isoformat(timespec="seconds"), reason)
    line = json.dumps(anchor.__dict__, sort_keys=True)
    append_line(anchor_path(), line)
    send_to_syslog(line)
    return anchor


def committed_head():
    with db.engine.connect() as connection:  # a connection of its own sees committed rows only
        connection.execution_options(**{READ_ONLY: True})
        return chain_head(connection)


def append_line(path, line):
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, (line + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def send_to_syslog(line):
    """AUDIT_ANCHOR_SYSLOG: a socket path (/dev/log) or host:port (UDP)."""
    target = current_app.config.get("AUDIT_ANCHOR_SYSLOG")
    if not target:
        return
    host, _, port = target.rpartition(":")
    address = (host, int(port)) if host and port.isdigit() else target
    handler = logging.handlers.SysLogHandler(address=address,
                                             facility=logging.handlers.SysLogHandler.LOG_AUTH)
    try:
        handler.emit(logging.LogRecord("kpiapp.audit", logging.INFO, __file__, 0,
                                       "kpiapp audit anchor %s", (line,), None))
    finally:
        handler.close()


def last_anchor_is(seq, digest):
    anchors = read_anchors(tail=True)
    return bool(anchors) and (anchors[-1].seq, anchors[-1].hash) == (seq, digest)


def read_anchors(tail=False):
    """The anchors in file order (the last few lines only with tail=True); [] without a file."""
    path = anchor_path()
    if not path.exists():
        return []
    with path.open("rb") as handle:
        if tail:
            handle.seek(max(0, path.stat().st_size - TAIL_BYTES))
        lines = handle.read().decode("utf-8", "replace").splitlines()
    if tail:
        lines = lines[-1:]
    return [parse_line(number, line) for number, line in enumerate(lines, 1) if line.strip()]


def parse_line(number, line):
    try:
        data = json.loads(line)
        return Anchor(int(data["seq"]), str(data["hash"]), data.get("at"), data.get("reason"))
    except (ValueError, KeyError, TypeError):
        raise AnchorFileError(f"line {number} of the anchor file is not an anchor") from None


def anchor_after_commit(session, reason):
    """Write an anchor once this session's transaction has committed (lock, issue)."""
    session.info.setdefault(PENDING, []).append(reason)


@event.listens_for(Session, "before_commit")
def _note_head(session):
    """The head this transaction will commit, read on its own connection: chain writers are
    serialised, so it is the committed head the moment the commit succeeds.  (A second
    connection could wait on a writer of this very process holding the SQLite lock.)"""
    if session.info.get(PENDING):
        session.flush()
        session.info[HEAD] = chain_head(session.connection())


@event.listens_for(Session, "after_commit")
def _write_pending(session):
    reasons, head = session.info.pop(PENDING, None), session.info.pop(HEAD, None)
    if not reasons:
        return
    try:
        write_anchor(",".join(sorted(set(reasons))), head)
    except Exception:  # the write is committed; a sink failure must not turn it into an error page
        log.exception("audit anchor could not be written")


@event.listens_for(Session, "after_rollback")
def _drop_pending(session):
    session.info.pop(PENDING, None)
    session.info.pop(HEAD, None)
