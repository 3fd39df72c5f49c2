"""RQ entry points for tracking: ids in, one service call, progress to the job's meta."""
import logging

from kpiapp import audit, jobs
from kpiapp.tracking import services

log = logging.getLogger(__name__)
TIMEOUT = 600  # seconds


def recompute_after_import(import_id):
    """Recompute the scorecards an import touched (runs as the system actor)."""
    if services.is_suspended():
        return 0
    token = audit.set_actor(audit.SYSTEM)
    try:
        return services.recompute_after_import(import_id, progress=jobs.progress_reporter())
    finally:
        audit.reset_actor(token)


def recompute_cycle(cycle_id):
    token = audit.set_actor(audit.SYSTEM)
    try:
        return services.recompute_cycle(cycle_id, progress=jobs.progress_reporter())
    finally:
        audit.reset_actor(token)


def recompute_failed(job, connection, exc_type, exc_value, traceback):
    """on_failure: the import has committed already; log only (`kpi recompute` repairs)."""
    if job is None:  # in-process: leave the caller's session usable
        from kpiapp.extensions import db

        db.session.rollback()
    log.warning("tracking recompute failed (job %s): %s", getattr(job, "id", "in-process"),
                exc_type.__name__)

