"""Keyed hashing (AUDIT_HMAC_KEY_FILE): rewriting the chain needs the key; old unkeyed chains still verify."""
import pytest
from sqlalchemy import select, text

from kpiapp.audit import entry_hash, hashed_fields, verify_chain
from kpiapp.extensions import db
from kpiapp.models import AuditEvent
from tests.unit.test_audit_chain import build_chain, drop_guards, rows


@pytest.fixture
def key_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("keys") / "audit.key"
    path.write_bytes(b"k" * 48)
    return path


@pytest.fixture
def app_config(key_file):
    return {"AUDIT_HMAC_KEY_FILE": str(key_file)}


def key_ids():
    return db.session.execute(select(AuditEvent.key_id).order_by(AuditEvent.seq)).scalars().all()


def forge_from(seq, keep_key_id):
    """What an attacker without the key can do: recompute plain SHA-256 hashes from `seq` on."""
    prev = None
    for row in rows():
        if row["seq"] < seq:
            prev = row["entry_hash"]
            continue
        key_id = row["key_id"] if keep_key_id else None
        forged = dict(row, after_json='{"n":-1}', prev_hash=prev, key_id=key_id)
        prev = entry_hash(prev, hashed_fields(forged))
        db.session.execute(text("UPDATE audit_event SET after_json = :j, prev_hash = :p, entry_hash = :h, "
                                "key_id = :k WHERE seq = :s"),
                           {"j": forged["after_json"], "p": forged["prev_hash"], "h": prev,
                            "k": forged["key_id"], "s": row["seq"]})
    db.session.commit()


def test_keyed_events_carry_the_key_id_and_verify(app):
    build_chain(5)
    ids = key_ids()
    assert len(set(ids)) == 1 and ids[0] is not None and len(ids[0]) == 16
    assert verify_chain(db.session).ok


@pytest.mark.parametrize("keep_key_id, reason", [
    (True, "entry_hash does not match the entry's content"),
    (False, "an unkeyed event follows keyed events"),
])
def test_a_rewrite_without_the_key_is_found_without_anchors(app, keep_key_id, reason):
    build_chain(6)
    drop_guards()
    forge_from(3, keep_key_id)
    report = verify_chain(db.session)
    assert (report.ok, report.first_bad_seq, report.reason) == (False, 3, reason)


def test_an_unkeyed_chain_goes_on_keyed(app, key_file):
    app.config["AUDIT_HMAC_KEY_FILE"] = None
    build_chain(3)
    app.config["AUDIT_HMAC_KEY_FILE"] = str(key_file)
    build_chain(3)
    ids = key_ids()
    assert ids[:3] == [None] * 3 and None not in ids[3:]
    assert verify_chain(db.session).ok


def test_a_keyed_chain_needs_its_key_to_verify(app):
    build_chain(2)
    app.config["AUDIT_HMAC_KEY_FILE"] = None
    report = verify_chain(db.session)
    assert not report.ok and "AUDIT_HMAC_KEY_FILE does not hold" in report.reason
