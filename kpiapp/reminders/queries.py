"""Reading the reminder log (cycle health): one page, newest first, keyset by id."""
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from kpiapp.extensions import db
from kpiapp.models import ReminderLog

PAGE_SIZE = 50


def history(cycle_id, before=None, limit=PAGE_SIZE):
    """(rows, id the next page starts before or None): who was reminded of what, and when."""
    query = (select(ReminderLog).where(ReminderLog.cycle_id == cycle_id)
             .order_by(ReminderLog.id.desc()).limit(limit + 1)
             .options(selectinload(ReminderLog.person), selectinload(ReminderLog.recipient)))
    if before is not None:
        query = query.where(ReminderLog.id < before)
    rows = list(db.session.execute(query).scalars())
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)
