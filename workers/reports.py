"""RQ entry points for report batches: load ids, call one service, report progress."""

from kpiapp import audit, jobs
from kpiapp.extensions import db
from kpiapp.models.reports import ReportBatch
from kpiapp.reports import services


def run_batch(batch_id):
    """Issue a cycle's reports as the HR user who started the batch."""
    batch = db.session.get(ReportBatch, batch_id)
    if batch is None:
        return None
    user = batch.created_by
    token = audit.set_actor(audit.Actor(user.id, user.email) if user else audit.SYSTEM)
    try:
        batch = services.run_batch(batch_id, progress=jobs.progress_reporter())
        return batch.status
    except Exception as error:
        # Mark it here: an in-process run hands on_failure no job to read the id from.
        services.mark_batch_failed(batch_id, f"{type(error).__name__}: {error}")
        raise
    finally:
        audit.reset_actor(token)


def batch_failed(job, connection, exc_type, exc_value, traceback):
    """RQ on_failure: re-read the row; a batch that finished stays done (rq#2424)."""
    if job is None:
        return  # in-process run: run_batch marked it already
    batch_id = job.meta.get("report_batch_id") or job.args[0]
    services.mark_batch_failed(batch_id, f"The job failed: {exc_type.__name__}.")

