"""Anchors outside the database find what a self-consistent chain hides: a cut-off or rewritten end."""
import json
import socket

import pytest
from sqlalchemy import select, text

from kpiapp.audit import GENESIS, Actor, chain_head, entry_hash, hashed_fields, record, verify_chain
from kpiapp.audit_anchor import anchor_after_commit, anchor_path, read_anchors, write_anchor
from kpiapp.extensions import db
from kpiapp.models import AuditEvent
from tests.unit.test_audit_chain import build_chain, drop_guards, rows


def verify_cli(app):
    return app.test_cli_runner().invoke(args=["kpi", "verify-audit"])


def anchor_cli(app):
    return app.test_cli_runner().invoke(args=["kpi", "anchor-audit"])


def delete_from(seq):
    db.session.execute(text("DELETE FROM audit_event WHERE seq >= :s"), {"s": seq})


def rewrite_from(seq):
    """Change every event from `seq` on and recompute prev_hash/entry_hash: a consistent forgery."""
    prev = GENESIS
    for row in rows():
        if row["seq"] >= seq:
            forged = dict(row, after_json='{"n":-1}', prev_hash=prev)
            forged["entry_hash"] = entry_hash(prev, hashed_fields(forged))
            db.session.execute(text("UPDATE audit_event SET after_json = :j, prev_hash = :p, entry_hash = :h "
                                    "WHERE seq = :s"), {"j": forged["after_json"], "p": prev,
                                                         "h": forged["entry_hash"], "s": row["seq"]})
            prev = forged["entry_hash"]
        else:
            prev = row["entry_hash"]


@pytest.mark.parametrize("tamper, expected", [
    (lambda: delete_from(16), "chain shorter than anchor 1: anchor has seq 20, chain ends at seq 15"),
    (lambda: delete_from(1), "chain shorter than anchor 1: anchor has seq 20, chain ends at seq 0"),
    (lambda: rewrite_from(12), "hash differs at anchor 1 (seq 20)"),
], ids=["delete-last-5", "delete-all", "rewrite-from-12"])
def test_tampering_the_end_is_found_against_the_anchor(app, tamper, expected, figures):
    build_chain(20)
    assert anchor_cli(app).exit_code == 0
    drop_guards()
    tamper()
    db.session.commit()
    assert verify_chain(db.session).ok  # the chain alone cannot tell: this is what anchors are for
    result = verify_cli(app)
    assert result.exit_code == 1 and expected in result.output
    figures.tally("Audit tail tampering (truncate, delete all, rewrite) vs anchors", cases=1,
                  detected=int(result.exit_code == 1))


def test_a_cut_end_grown_back_to_the_same_length_is_found(app):
    build_chain(10)
    write_anchor("test")
    drop_guards()
    delete_from(6)
    db.session.commit()
    build_chain(5)  # SQLite reuses seq 6..10, PostgreSQL's sequence goes on at 11
    report = verify_chain(db.session, read_anchors())
    assert not report.ok and report.first_bad_seq == 10
    assert report.reason in ("hash differs at anchor 1 (seq 10)",
                             "event seq 10 of anchor 1 is missing from the chain")


def test_the_first_anchor_past_the_cut_is_named(app):
    build_chain(10)
    write_anchor("test")
    build_chain(10)
    write_anchor("test")
    drop_guards()
    delete_from(15)
    db.session.commit()
    report = verify_chain(db.session, read_anchors())
    assert (report.ok, report.anchors_checked, report.first_bad_seq) == (False, 1, 20)
    assert report.reason.startswith("chain shorter than anchor 2")


def test_clean_chain_matches_its_anchors(app):
    build_chain(5)
    first = anchor_cli(app)
    assert first.exit_code == 0 and "Anchored seq 5" in first.output
    again = anchor_cli(app)
    assert again.exit_code == 0 and "No new anchor" in again.output  # an idle periodic job adds nothing
    assert len(read_anchors()) == 1
    build_chain(3)
    write_anchor("test")
    result = verify_cli(app)
    assert result.exit_code == 0
    assert "8 audit events" in result.output and "matches 2 anchors" in result.output
    line = json.loads(anchor_path().read_text().splitlines()[-1])
    assert set(line) == {"seq", "hash", "at", "reason"} and line["seq"] == 8


def test_default_anchor_file_is_under_the_instance_folder(app, tmp_path):
    assert anchor_path() == tmp_path / "audit-anchors.jsonl"


def test_a_broken_anchor_file_fails_verification(app):
    build_chain(2)
    write_anchor("test")
    with anchor_path().open("a") as handle:
        handle.write("not json\n")
    result = verify_cli(app)
    assert result.exit_code == 1 and "line 2 of the anchor file" in result.output


def test_anchor_waits_for_the_commit_and_skips_a_rollback(app):
    actor = Actor(1, "tester@example.com", "127.0.0.1")
    record(db.session, "test.event", "thing", 1, actor=actor)
    anchor_after_commit(db.session, "lock")
    db.session.rollback()
    db.session.commit()
    assert read_anchors() == []  # the head that rolled back is never anchored
    record(db.session, "test.event", "thing", 2, actor=actor)
    anchor_after_commit(db.session, "lock")
    assert read_anchors() == []
    db.session.commit()
    anchors = read_anchors()
    seq, digest = chain_head(db.session.connection())
    assert [(a.seq, a.hash, a.reason) for a in anchors] == [(seq, digest, "lock")]


def test_locking_a_scorecard_writes_an_anchor(app):
    from kpiapp.appraisal.workflow import ScorecardState as S
    from tests.appraisal.factories import make_team, walk_to

    team = make_team(size=1)
    walk_to(team, team.people[0], S.LOCKED)
    anchors = read_anchors()
    assert [a.reason for a in anchors] == ["lock"]
    locked_seq = db.session.execute(select(AuditEvent.seq).where(AuditEvent.action == "scorecard.lock")
                                    ).scalar_one()
    assert anchors[0].seq >= locked_seq
    assert verify_chain(db.session, anchors).ok


def test_worker_entry_point_anchors_the_head(app):
    from workers.audit import anchor_audit_chain

    build_chain(4)
    assert anchor_audit_chain() == 4
    assert anchor_audit_chain() is None


@pytest.fixture
def syslog_receiver():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    yield sock
    sock.close()


def test_anchor_also_goes_to_syslog_when_configured(app, syslog_receiver):
    host, port = syslog_receiver.getsockname()
    app.config["AUDIT_ANCHOR_SYSLOG"] = f"{host}:{port}"
    build_chain(3)
    anchor = write_anchor("scheduled")
    message = syslog_receiver.recv(4096).decode()
    assert "kpiapp audit anchor" in message and anchor.hash in message and '"seq": 3' in message
