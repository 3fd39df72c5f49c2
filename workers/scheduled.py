"""RQ entry points named by kpiapp/schedule.py (each runs inside the worker's app context)."""
from kpiapp.audit import SYSTEM, acting_as
from kpiapp.extensions import db


def at_risk():
    from kpiapp.tracking import alerts

    with acting_as(SYSTEM):
        sent = alerts.notify_running()
        db.session.commit()
    return sent


PARTITIONS_AHEAD = 3  # months of slack: a day the run cannot make a month, the next day's run retries


def partitions():
    """Daily: metric_fact's month partitions ahead and DEFAULT emptied (PostgreSQL; a no-op on
    SQLite and on an unpartitioned table). Returns (months made, rows left in DEFAULT)."""
    from datetime import date

    from kpiapp.metrics import partitions as months

    with acting_as(SYSTEM):
        made, left = months.make_ahead(db.session, PARTITIONS_AHEAD, date.today())
        months.record_made(db.session, made, left)
        db.session.commit()
    return made, left


def notify_retry():
    """Launch the notification deliveries whose next try has come."""
    from kpiapp.notifications import delivery

    with acting_as(SYSTEM):
        return delivery.launch_due()


def digest_daily():
    from kpiapp.notifications import digest

    with acting_as(SYSTEM):
        return digest.send_digests("daily")


def digest_weekly():
    from kpiapp.notifications import digest

    with acting_as(SYSTEM):
        return digest.send_digests("weekly")


def reminders():
    """Daily: the stage, appeal and dispute reminders of every running cycle (docs/reminders.md)."""
    from kpiapp.reminders import services

    return _run(services.send_reminders)


def at_risk_digest():
    """Weekly: one message per manager listing the team's items at risk."""
    from kpiapp.reminders import services

    return _run(services.at_risk_digest)


def stale_connections():
    """Daily: connector data older than its freshness (a hook until the connectors have it)."""
    from kpiapp.reminders import services

    return _run(services.stale_connection_reminders)


def _run(send):
    from kpiapp.tracking.services import utc_today

    with acting_as(SYSTEM):
        sent = send(utc_today())
        db.session.commit()
    return sent
