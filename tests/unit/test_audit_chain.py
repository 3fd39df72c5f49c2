"""The audit chain: triggers stop edits; the verifier finds any tampering."""
import json

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from kpiapp.audit import GENESIS, Actor, entry_hash, hashed_fields, record, verify_chain
from kpiapp.extensions import db
from kpiapp.models import AuditEvent
from tests.demo_db import seeded_copy, seeded_template
from tests.factories import UserFactory


def build_chain(count):
    actor = Actor(1, "tester@example.com", "127.0.0.1")
    for n in range(count):
        record(db.session, "test.event", "thing", n, before={"n": n - 1}, after={"n": n}, actor=actor)
    db.session.commit()


def drop_guards():
    """Tampering needs the append-only triggers gone, as an attacker with DDL rights would."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("DROP TRIGGER audit_event_append_only ON audit_event"))
    else:
        db.session.execute(text("DROP TRIGGER audit_event_no_update"))
        db.session.execute(text("DROP TRIGGER audit_event_no_delete"))
    db.session.commit()


def test_orm_writes_are_audited_with_before_and_after(app):
    user = UserFactory(name="Before Name")
    user.name = "After Name"
    db.session.commit()
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "user.update")
                               .order_by(AuditEvent.seq.desc())).scalars().first()
    assert json.loads(event.before_json) == {"name": "Before Name"}
    assert json.loads(event.after_json) == {"name": "After Name"}
    assert event.entity_id == str(user.id)


def test_secrets_never_reach_the_log(app):
    user = UserFactory()
    user.rotate_session_token()
    db.session.commit()
    text_of_log = " ".join(filter(None, db.session.execute(select(AuditEvent.after_json)).scalars()))
    assert user.session_token not in text_of_log and user.password_hash not in text_of_log
    assert '"password_hash":"***"' in text_of_log


@pytest.mark.parametrize("sql", ["UPDATE audit_event SET actor = 'mallory'", "DELETE FROM audit_event"])
def test_triggers_reject_update_and_delete(app, sql):
    build_chain(3)
    with pytest.raises(DBAPIError):
        db.session.execute(text(sql))
        db.session.commit()
    db.session.rollback()
    assert verify_chain(db.session).ok


def test_clean_chain_verifies(app):
    build_chain(50)
    report = verify_chain(db.session)
    assert report.ok and report.checked == 50


def rows():
    return db.session.execute(select(AuditEvent.__table__).order_by(AuditEvent.seq)).mappings().all()


def tamper_modify(seq):
    db.session.execute(text("UPDATE audit_event SET after_json = :j WHERE seq = :s"), {"j": '{"n":999}', "s": seq})


def tamper_delete(seq):
    db.session.execute(text("DELETE FROM audit_event WHERE seq = :s"), {"s": seq})


def tamper_swap(seq):
    a, b = [r for r in rows() if r["seq"] in (seq, seq + 1)]
    for row, other in ((a, b), (b, a)):
        db.session.execute(text("UPDATE audit_event SET after_json = :j, entity_id = :e, before_json = :bj "
                                "WHERE seq = :s"),
                           {"j": other["after_json"], "e": other["entity_id"], "bj": other["before_json"],
                            "s": row["seq"]})


def tamper_insert(seq):
    """Insert a forged event with a self-consistent hash after `seq`'s predecessor."""
    prev = [r for r in rows() if r["seq"] < seq][-1] if seq > 1 else None
    forged = dict(rows()[0], seq=None, action="forged", prev_hash=prev["entry_hash"] if prev else GENESIS)
    forged["entry_hash"] = entry_hash(forged["prev_hash"], hashed_fields(forged))
    forged.pop("seq")
    db.session.execute(AuditEvent.__table__.insert(), forged)


@pytest.fixture(scope="module")
def chain_template(template_db, tmp_path_factory):
    """A database holding build_chain(1000), made once for the module: the twelve tampering cases
    built the same 1,000 events one by one each (about a second of a case's set-up)."""
    with seeded_template(template_db, tmp_path_factory, "chain", lambda: build_chain(1000)) as (seeded, _):
        yield seeded


@pytest.fixture
def chain_of_1000(chain_template, tmp_path):
    """An app, in its context, on a fresh copy of `chain_template` (each case tampers with its own)."""
    with seeded_copy(chain_template, tmp_path) as app:
        with app.app_context():
            yield app
            db.session.remove()


@pytest.mark.parametrize("seq", [1, 500, 999])
@pytest.mark.parametrize("tamper", [tamper_modify, tamper_delete, tamper_swap, tamper_insert])
def test_every_kind_of_tampering_is_found(chain_of_1000, tamper, seq, figures):
    assert db.session.execute(select(func.count()).select_from(AuditEvent)).scalar() == 1000  # copied
    drop_guards()
    tamper(seq)
    db.session.commit()
    report = verify_chain(db.session)
    assert not report.ok, f"{tamper.__name__} at {seq} not detected"
    assert report.first_bad_seq is not None
    figures.tally("Audit chain tampering in a 1,000-event chain (modify, delete, reorder, insert)", cases=1,
                  detected=int(not report.ok))


def test_verify_audit_cli_exit_codes(app):
    build_chain(5)
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["kpi", "verify-audit"])
    assert ok.exit_code == 0 and "5 audit events" in ok.output
    drop_guards()
    tamper_modify(3)
    db.session.commit()
    broken = runner.invoke(args=["kpi", "verify-audit"])
    assert broken.exit_code == 1 and "BROKEN at seq 3" in broken.output


def test_chain_count_matches(app):
    build_chain(10)
    assert db.session.execute(select(func.count()).select_from(AuditEvent)).scalar() == 10
