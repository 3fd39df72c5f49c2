"""RQ entry points named by kpiapp/schedule.py (each runs inside the worker's app context)."""
from kpiapp.audit import SYSTEM, acting_as
from kpiapp.extensions import db


def at_risk():
    from kpiapp.tracking import alerts

    with acting_as(SYSTEM):
        sent = alerts.notify_running()
        db.session.commit()
    return sent
