"""RQ entry points: thin functions that load ids, call one service, report progress."""
import os
import time

from kpiapp import audit
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
        record = services.run_import(import_id, progress=progress_reporter())
        return record.status if record else None
    finally:
        audit.reset_actor(token)


def import_failed(job, connection, exc_type, exc_value, traceback):
    """RQ on_failure callback: re-read the row and mark it failed unless committed (rq#2424)."""
    if job is None:
        return  # in-process run: the service has marked it already
    import_id = job.meta.get("import_id") or job.args[0]
    services.mark_failed(import_id, "job_failed", f"The import job failed: {exc_type.__name__}.")


def uploader_actor(record):
    user = record.uploaded_by
    return audit.Actor(user.id, user.email) if user else audit.SYSTEM


def progress_reporter():
    from rq import get_current_job

    job = get_current_job()
    pause = float(os.environ.get(SLEEP_ENV) or 0)

    def report(percent):
        if job is not None:
            job.meta.update(progress=percent, pid=os.getpid())
            job.save_meta()
        if pause:
            time.sleep(pause)

    return report
