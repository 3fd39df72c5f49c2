"""Audit chain: which tampering is found (chain alone vs chain + anchors), verify time, refusal flood.

    .venv/bin/python bench/audit_bench.py [--events 1000] [--anchor-every 100] [--flood 1000]
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python bench/audit_bench.py

For each tamper case: a scratch database (SQLite file, or a scratch PostgreSQL database),
--events audit events, an anchor every --anchor-every events and one at the head (as the
periodic `kpi anchor-audit` job and every lock/issue would write), then the append-only
triggers are dropped (an attacker with DDL rights), the case is applied and the chain is
verified without and with the anchors.  Then: verify time, and --flood identical refusals.
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("KPIAPP_ENV", "test")

from sqlalchemy import text  # noqa: E402

from bench.scratch import scratch_app  # noqa: E402


def in_scratch_app(work):
    from kpiapp.extensions import db

    with scratch_app("audit"):
        return work(db)


def build(db, events, anchor_every):
    from kpiapp.audit import Actor, record
    from kpiapp.audit_anchor import write_anchor

    actor = Actor(1, "bench@example.com", "127.0.0.1")
    for n in range(1, events + 1):
        record(db.session, "bench.event", "thing", n, after={"n": n}, actor=actor)
        if n % anchor_every == 0 or n == events:
            db.session.commit()
            write_anchor("bench")
    db.session.commit()


def drop_guards(db):
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("DROP TRIGGER audit_event_append_only ON audit_event"))
    else:
        db.session.execute(text("DROP TRIGGER audit_event_no_update"))
        db.session.execute(text("DROP TRIGGER audit_event_no_delete"))
    db.session.commit()


def rewrite_from(db, seq):
    from sqlalchemy import select

    from kpiapp.audit import GENESIS, entry_hash, hashed_fields
    from kpiapp.models import AuditEvent

    prev = GENESIS
    rows = db.session.execute(select(AuditEvent.__table__).order_by(AuditEvent.seq)).mappings().all()
    for row in rows:
        if row["seq"] < seq:
            prev = row["entry_hash"]
            continue
        forged = dict(row, after_json='{"n":-1}', prev_hash=prev)
        prev = entry_hash(prev, hashed_fields(forged))
        db.session.execute(text("UPDATE audit_event SET after_json = :j, prev_hash = :p, entry_hash = :h "
                                "WHERE seq = :s"), {"j": forged["after_json"], "p": forged["prev_hash"],
                                                     "h": prev, "s": row["seq"]})


def cut_and_regrow(db, events):
    """Delete the last 5 events and append 5 new ones: a consistent chain of the same length."""
    from kpiapp.audit import Actor, record

    db.session.execute(text("DELETE FROM audit_event WHERE seq > :s"), {"s": events - 5})
    db.session.commit()
    for n in range(5):
        record(db.session, "bench.event", "thing", n, after={"forged": n}, actor=Actor(None, "mallory"))


def unanchored_tail(db, events):
    """Events written after the latest anchor, then cut: the window anchors cannot close."""
    from kpiapp.audit import Actor, record

    for n in range(5):
        record(db.session, "bench.event", "thing", n, after={"late": n}, actor=Actor(1, "bench@example.com"))
    db.session.commit()
    db.session.execute(text("DELETE FROM audit_event WHERE seq > :s"), {"s": events})


CASES = {
    "modify one event in the middle": lambda db, n: db.session.execute(
        text("UPDATE audit_event SET after_json = '{}' WHERE seq = :s"), {"s": n // 2}),
    "delete one event in the middle": lambda db, n: db.session.execute(
        text("DELETE FROM audit_event WHERE seq = :s"), {"s": n // 2}),
    "tail truncation, last 5 events": lambda db, n: db.session.execute(
        text("DELETE FROM audit_event WHERE seq > :s"), {"s": n - 5}),
    "delete all events": lambda db, n: db.session.execute(text("DELETE FROM audit_event")),
    "rewrite from the middle, hashes recomputed": lambda db, n: rewrite_from(db, n // 2),
    "rewrite the last event, hash recomputed": lambda db, n: rewrite_from(db, n),
    "cut the last 5, append 5 forged": cut_and_regrow,
    "cut 5 events written after the last anchor": unanchored_tail,
}


def run_case(args, name, tamper):
    from kpiapp.audit import verify_chain
    from kpiapp.audit_anchor import read_anchors

    def work(db):
        build(db, args.events, args.anchor_every)
        drop_guards(db)
        tamper(db, args.events)
        db.session.commit()
        alone = verify_chain(db.session)
        anchored = verify_chain(db.session, read_anchors())
        return db.engine.dialect.name, alone, anchored

    dialect, alone, anchored = in_scratch_app(work)
    found = "detected" if not anchored.ok else "NOT detected"
    print(f"[{dialect}] {name}: chain alone {'detected' if not alone.ok else 'not detected'}; "
          f"with anchors {found}" + (f" ({anchored.reason})" if not anchored.ok else ""))


def timings(args):
    from kpiapp.audit import Actor, record_refusal, verify_chain
    from kpiapp.audit_anchor import read_anchors

    def work(db):
        build(db, args.events, args.anchor_every)
        anchors = read_anchors()
        t0 = time.perf_counter()
        report = verify_chain(db.session, anchors)
        verify = time.perf_counter() - t0
        print(f"verify {report.checked} events against {len(anchors)} anchors: {verify:.3f} s "
              f"({verify / max(report.checked, 1) * 1e6:.0f} us per event), ok={report.ok}")
        actor = Actor(7, "prober@example.com", "10.0.0.9")
        t0 = time.perf_counter()
        written = 0
        for n in range(args.flood):
            written += record_refusal(db.session, "access.denied", "scorecard", n, "object:scorecard.view",
                                      actor=actor)
            db.session.commit()
        flood = time.perf_counter() - t0
        count = db.session.execute(text("SELECT sum(count) FROM audit_refusal")).scalar()
        print(f"{args.flood} identical refusals (one commit each): {written} audit event(s), "
              f"counted {count}, {flood / args.flood * 1000:.2f} ms per refusal")

    in_scratch_app(work)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--anchor-every", type=int, default=100)
    parser.add_argument("--flood", type=int, default=1000)
    args = parser.parse_args()
    for name, tamper in CASES.items():
        run_case(args, name, tamper)
    timings(args)


if __name__ == "__main__":
    main()
