"""RQ entry points: thin functions that load ids, call one service, report progress."""
import os

from kpiapp import audit, jobs
from kpiapp.extensions import db
from kpiapp.imports import services
from kpiapp.models import ImportRecord

# Test-only: seconds to sleep after each chunk, so a test can kill the work-horse mid-import.
SLEEP_ENV = "KPIAPP_IMPORT_TEST_SLEEP"


def run_import(import_id):
    """Run one import as its uploader; progress goes to the RQ job's meta."""
    record = db.session.get(ImportRecord, import_id)
    if record is None:
        return None
    token = audit.set_actor(uploader_actor(record))
    try:
        record = services.run_import(import_id, progress=jobs.progress_reporter(float(os.environ.get(SLEEP_ENV) or 0)))
        return record.status if record else None
    finally:
        audit.reset_actor(token)


def import_failed(job, connection, exc_type, exc_value, traceback):
    """RQ on_failure callback: re-read the row and mark it failed unless committed (rq#2424)."""
    if job is None:
        return  # in-process run: the service has marked it already
    from workers.runner import WorkHorseKilled

    import_id = job.meta.get("import_id") or job.args[0]
    if issubclass(exc_type, WorkHorseKilled):
        services.mark_failed(import_id, "worker_killed", "The worker processing this import stopped "
                             "unexpectedly. Nothing was written; run it again.")
    else:
        services.mark_failed(import_id, "job_failed", f"The import job failed: {exc_type.__name__}.")


def uploader_actor(record):
    user = record.uploaded_by
    return audit.Actor(user.id, user.email) if user else audit.SYSTEM

