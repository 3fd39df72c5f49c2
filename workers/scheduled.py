"""RQ entry points named by kpiapp/schedule.py (each runs inside the worker's app context)."""
from kpiapp.audit import SYSTEM, acting_as
from kpiapp.extensions import db


def at_risk():
    from kpiapp.tracking import alerts

    with acting_as(SYSTEM):
        sent = alerts.notify_running()
        db.session.commit()
    return sent


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
