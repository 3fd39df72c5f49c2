"""Would a stored at-risk flag make the dashboards' at-risk queries cheaper? (issue 10)

Compares, on a seeded PostgreSQL database, the at-risk counts the team and company dashboards
run (the flag computed per item by `tracking.risk.item_risks`) with the same counts over a
stored boolean column and a partial index, simulated by this script: no migration is involved.

    # ONLY on a copy you own (it adds a column and an index, past the lock trigger):
    createdb -T <seeded db> mycopy
    DATABASE_URL=postgresql://.../mycopy KPIAPP_ENV=dev .venv/bin/python bench/at_risk_flag_bench.py --fill
    psql -d mycopy -c "VACUUM ANALYZE scorecard_item"
    DATABASE_URL=postgresql://.../mycopy KPIAPP_ENV=dev .venv/bin/python bench/at_risk_flag_bench.py

Prints the median and min wall ms of 5 runs of each statement (see docs/scaling.md).
"""
import statistics, sys, time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from sqlalchemy import Boolean, case, column, func, select, text
from kpiapp.app import create_app
from kpiapp.appraisal.queries import latest_only
from kpiapp.extensions import db
from kpiapp.models import Cycle, Scorecard, ScorecardItem
from kpiapp.tracking.risk import item_risks, scope_stores, without_jit
from kpiapp.tracking.services import utc_today

app = create_app()
REPEAT = 5


def timed(label, make):
    walls = []
    for _ in range(REPEAT):
        db.session.rollback()
        without_jit()
        t = time.perf_counter()
        result = make()
        walls.append((time.perf_counter() - t) * 1000)
    print(f"{label:<58} median {statistics.median(walls):7.1f} ms  min {min(walls):7.1f}  -> {result}")


with app.app_context():
    cycle = db.session.get(Cycle, 1)
    today = utc_today()
    cards = latest_only(select(Scorecard.id).where(Scorecard.cycle_id == cycle.id))
    stored = column("at_risk_stored", Boolean)
    si = ScorecardItem.__table__
    fill = "--fill" in sys.argv
    if fill:
        db.session.execute(text("ALTER TABLE scorecard_item ADD COLUMN IF NOT EXISTS at_risk_stored boolean"))
        risks = item_risks(cards, cycle, today).subquery("r")
        db.session.execute(text("SET LOCAL session_replication_role = replica"))  # our copy: past the lock trigger
        t = time.perf_counter()
        sql = item_risks(cards, cycle, today).compile(db.engine, compile_kwargs={"literal_binds": True})
        db.session.execute(text(f"UPDATE scorecard_item SET at_risk_stored = r.at_risk FROM ({sql}) r "
                                "WHERE scorecard_item.id = r.item_id"))
        print(f"bulk UPDATE of the flag (every metric item): {(time.perf_counter() - t) * 1000:.0f} ms")
        db.session.execute(text("CREATE INDEX IF NOT EXISTS hdash_at_risk ON scorecard_item (scorecard_id) WHERE at_risk_stored"))
        db.session.commit()
        sys.exit()
    print("items", db.session.execute(select(func.count()).select_from(si)).scalar(),
          "flagged", db.session.execute(select(func.count()).select_from(si).where(stored)).scalar())

    def computed_counts():
        risks = item_risks(cards, cycle, today).subquery("risks")
        return db.session.execute(select(func.count(), func.sum(case((risks.c.at_risk, 1), else_=0)))).one()

    def stored_counts():
        return db.session.execute(select(func.count(), func.sum(case((stored, 1), else_=0))).select_from(si)
                                  .where(si.c.scorecard_id.in_(cards), si.c.kind == "metric")).one()

    def computed_per_card():
        risks = item_risks(cards, cycle, today).subquery("risks")
        return len(db.session.execute(select(risks.c.scorecard_id, func.count()).where(risks.c.at_risk)
                                      .group_by(risks.c.scorecard_id)).all())

    def stored_per_card():
        return len(db.session.execute(select(si.c.scorecard_id, func.count()).where(stored, si.c.scorecard_id.in_(cards))
                                      .group_by(si.c.scorecard_id)).all())

    ids = db.session.execute(text("SELECT id FROM store ORDER BY code LIMIT 20")).scalars().all()

    def computed_stores():
        risks = item_risks(cards, cycle, today).subquery("risks")
        entries, store = scope_stores(ScorecardItem.scope)
        return len(db.session.execute(select(store, func.count(func.distinct(ScorecardItem.id))).select_from(risks)
                   .join(ScorecardItem, ScorecardItem.id == risks.c.item_id).join(entries, text("true"))
                   .where(risks.c.at_risk, store.in_(ids)).group_by(store)).all())

    def stored_stores():
        entries, store = scope_stores(ScorecardItem.scope)
        return len(db.session.execute(select(store, func.count(func.distinct(ScorecardItem.id)))
                   .select_from(ScorecardItem).join(entries, text("true"))
                   .where(stored, ScorecardItem.scorecard_id.in_(cards), store.in_(ids)).group_by(store)).all())

    timed("team totals (cards, at risk), computed", computed_counts)
    timed("team totals, stored flag", stored_counts)
    timed("at-risk items per card, computed", computed_per_card)
    timed("at-risk items per card, stored flag + partial index", stored_per_card)
    timed("company: at-risk items of 20 stores, computed", computed_stores)
    timed("company: at-risk items of 20 stores, stored flag", stored_stores)
