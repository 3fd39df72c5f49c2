"""At-risk notifications: once per ISO week at most per owner (docs/pace.md, "At-risk notification").

`notify_at_risk(cycle_id, today)` reads the paces of the cycle's open scorecards' metric items
(`paced_items`, set-based), and for each owner with an item at risk inserts the week's
`pace_alert` row first (ON CONFLICT DO NOTHING) and adds the in-app notification only when
that insert took. It first stores the cycle's at-risk flags for the dashboards
(`risk.store_flags`: the recompute, the imports' recompute and the daily run all come here).
Both are in the caller's transaction, so a job that runs twice (RQ is
at-least-once) or two jobs racing send one notification. Flushes, never commits.
"""
from collections import defaultdict
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from kpiapp.appraisal.notifications import notify
from kpiapp.appraisal.workflow import ScorecardState
from kpiapp.extensions import db
from kpiapp.models import Cycle, PaceAlert, Scorecard, ScorecardItem
from kpiapp.models.appraisal import CycleStatus, ItemKind
from kpiapp.tracking.paces import paced_items
from kpiapp.tracking.risk import store_flags
from kpiapp.tracking.services import running_cycle_ids, utc_today

KEY = "pace.at_risk"


def week_of(day):
    """The Monday of `day`'s ISO week: the dedupe key."""
    return day - timedelta(days=day.weekday())


def at_risk_items(cycle_id, today):
    """{scorecard: [items at risk]} among the cycle's non-locked scorecards (latest versions)."""
    ids = (select(ScorecardItem.id).join(Scorecard, Scorecard.id == ScorecardItem.scorecard_id)
           .where(Scorecard.cycle_id == cycle_id, Scorecard.state != ScorecardState.LOCKED,
                  ScorecardItem.kind == ItemKind.metric))
    risky = defaultdict(list)
    for item, p in paced_items(ids, today):
        if p.at_risk:
            risky[item.scorecard].append(item)
    return risky


def notify_at_risk(cycle_id, today=None):
    """Notify the owners of at-risk items of a running cycle; returns how many were notified."""
    today = today or utc_today()
    cycle = db.session.get(Cycle, cycle_id)
    if cycle is not None:
        store_flags(cycle, today)  # every run that paces the cycle keeps the dashboards' flags
    if cycle is None or cycle.status != CycleStatus.running or today > cycle.period_end:
        return 0  # after the period's last day it is a result, not a risk
    sent = 0
    for card, items in sorted(at_risk_items(cycle_id, today).items(), key=lambda pair: pair[0].id):
        if claim_week(card.person_id, week_of(today), cycle_id, [i.id for i in items]):
            names = ", ".join(i.name for i in sorted(items, key=lambda i: i.seq))
            notify([card.person], card, KEY, KEY, items=names)
            sent += 1
    db.session.flush()
    return sent


def notify_running(today=None):
    """notify_at_risk for every running cycle; returns how many owners were notified."""
    return sum(notify_at_risk(cycle_id, today) for cycle_id in running_cycle_ids())


def claim_week(person_id, week, cycle_id, item_ids):
    """Insert the (person, week) row; False when it exists already (sent this week)."""
    connection = db.session.connection()
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    table = PaceAlert.__table__
    statement = dialect.insert(table).values(
        person_id=person_id, week=week, cycle_id=cycle_id, items=item_ids,
    ).on_conflict_do_nothing(index_elements=["person_id", "week"]).returning(table.c.id)
    return connection.execute(statement).first() is not None
