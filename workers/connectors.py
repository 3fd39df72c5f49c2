"""The scheduled connector run (kpiapp/schedule.py "connectors"): launch the pulls that are due."""
from kpiapp.audit import SYSTEM, acting_as
from kpiapp.extensions import db


def run_due():
    """Create a job per due (connection, kind); each pull runs as its own "pull" job."""
    from kpiapp.connectors import services

    with acting_as(SYSTEM):
        launched = services.run_due()
        db.session.commit()
    return len(launched)
