"""What every progress page shows about a job row: status and failure in the user's language."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from kpiapp import jobs

REASONS = {
    "queue_unavailable": _l("The job queue is unavailable, so the job was not started. "
                            "Try again in a few minutes."),
    "worker_killed": _l("The worker running this job stopped unexpectedly."),
    "worker_lost": _l("The worker running this job was lost."),
    "timeout": _l("The job took too long and was stopped."),
    "job_failed": _l("The job stopped because of an internal error."),
}


def reason_text(code):
    known = REASONS.get(code or "")
    return str(known) if known is not None else _("The job failed.")


def job_state(run, row_progress=0):
    """Liveness of a job row (progress, heartbeat age, stale) for the job panel; None without a row."""
    return jobs.liveness(run, row_progress) if run is not None else None


def status_text(run, live):
    if run.status == "done":
        return _("Finished.")
    if run.status == "failed":
        return _("Failed: %(reason)s", reason=reason_text(run.reason))
    if run.status == "queued":
        return _("Waiting for a worker.") if not run.reason else _(
            "%(reason)s It will be retried.", reason=reason_text(run.reason))
    if live is not None and live.stale:
        return _("Worker lost, will retry.") if live.will_retry else _("Worker lost.")
    return _("Running.")
