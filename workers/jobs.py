"""The one RQ entry point and failure callback, for every kind of job (docs/jobs.md).

`run_job(job_run_id)` loads the `job_run` row, sets the audit actor, marks it running,
calls the kind's body (ids in, one service call) and marks it done or failed.
`job_failed` is the RQ on_failure callback: exceptions, timeouts, a killed work-horse
(workers/runner.horse_killed) and a lost worker (RQ's abandoned-job cleanup) all end there.
"""
import os
from dataclasses import dataclass
from datetime import date
from typing import Callable

from kpiapp import audit, jobs
from kpiapp.extensions import db
from kpiapp.models import JobStatus, User

# Test-only: seconds to sleep after each chunk, so a test can kill the work-horse mid-import.
SLEEP_ENV = "KPIAPP_IMPORT_TEST_SLEEP"


@dataclass(frozen=True)
class Kind:
    body: Callable  # body(subject_id, progress) -> None; raises on failure
    subject_failed: Callable | None = None  # subject_failed(subject_id, reason, message)


def run_job(job_run_id):
    """Run one job row to the end as its actor; a failure is recorded on the row, then re-raised."""
    run = jobs.begin(job_run_id)
    if run is None:
        return None
    kind, subject_id = KINDS[run.kind], run.subject_id
    with audit.acting_as(actor_of(run)):
        try:
            kind.body(subject_id, jobs.progress_reporter(float(os.environ.get(SLEEP_ENV) or 0)))
        except Exception as error:
            if not in_worker():  # a worker hands the failure to job_failed, which knows about retries
                record_failure(run.id, "job_failed", f"{type(error).__name__}: {error}", retrying=False)
            raise
    jobs.finish(job_run_id, JobStatus.done)
    return "done"


def job_failed(job, connection, exc_type, exc_value, traceback):
    """RQ on_failure: mark the row failed, or queued again when RQ will retry it."""
    run_id = job.meta.get("job_run_id") or job.args[0]
    reason = failure_reason(exc_type)
    retrying = bool(job.retries_left and job.retries_left > 0)
    record_failure(run_id, reason, f"{exc_type.__name__}: {exc_value}", retrying)


def record_failure(run_id, reason, message, retrying):
    status = JobStatus.queued if retrying else JobStatus.failed
    run = jobs.finish(run_id, status, reason, message)
    if run is not None and run.status != JobStatus.done:
        kind = KINDS.get(run.kind)
        if kind is not None and kind.subject_failed is not None:
            kind.subject_failed(run.subject_id, reason, message)


def failure_reason(exc_type):
    from rq.exceptions import AbandonedJobError
    from rq.timeouts import JobTimeoutException

    from workers.runner import WorkHorseKilled

    if issubclass(exc_type, WorkHorseKilled):
        return "worker_killed"
    if issubclass(exc_type, AbandonedJobError):
        return "worker_lost"
    if issubclass(exc_type, JobTimeoutException):
        return "timeout"
    return "job_failed"


def in_worker():
    from rq import get_current_job

    return get_current_job() is not None


def actor_of(run):
    user = db.session.get(User, run.actor_id) if run.actor_id else None
    return audit.Actor(user.id, user.email) if user else audit.SYSTEM


# ---- the kinds: ids in, one service call -----------------------------------------------------

def run_import(import_id):
    """Run an import again by hand (at-least-once: a committed one is left alone)."""
    from kpiapp.imports import services

    record = services.run_import(import_id)
    return record.status if record else None


def import_body(import_id, progress):
    from kpiapp.imports import services

    services.run_import(import_id, progress=progress)  # a bad file is a finished job: the record says why


def import_failed(import_id, reason, message):
    from kpiapp.imports import services

    texts = {"worker_killed": "The worker processing this import stopped unexpectedly.",
             "worker_lost": "The worker processing this import was lost."}
    services.mark_failed(import_id, reason, texts.get(reason, f"The import job failed ({message[:200]})."))


def cycle_start_body(cycle_id, progress):
    from kpiapp.appraisal import services

    def per_person(done, total):
        progress(100 * done // total)

    services.start_cycle(cycle_id, audit.current_actor().id, per_person)
    db.session.commit()


def report_batch_body(batch_id, progress):
    from kpiapp.reports import services

    services.run_batch(batch_id, progress=progress)


def report_batch_failed(batch_id, reason, message):
    from kpiapp.reports import services

    services.mark_batch_failed(batch_id, message)


def recompute_import_body(import_id, progress):
    from kpiapp.objectives import services as objectives
    from kpiapp.tracking import alerts, services

    if not services.is_suspended():
        footprint = services.footprint_once(import_id)  # the import's facts read once, for both
        objectives.recompute_after_import(import_id, footprint=footprint)  # first: OKR items read them
        scorecards, _items = services.recompute_import(import_id, progress=progress, footprint=footprint)
        jobs.record_total("recompute_import", "import_record", import_id, scorecards)
        alerts.notify_running()  # at most once a week per owner (docs/pace.md)
        db.session.commit()


def recompute_cycle_body(cycle_id, progress):
    from kpiapp.tracking import alerts, services

    services.recompute_cycle(cycle_id, progress=progress)
    alerts.notify_at_risk(cycle_id)
    db.session.commit()


def partitions_body(ahead, progress):
    """The scheduled run (docs/scaling.md): month partitions of metric_fact `ahead` months on."""
    from kpiapp.metrics import partitions

    made, left = partitions.make_ahead(db.session, ahead, date.today())
    partitions.record_made(db.session, made, left)
    db.session.commit()


def pull_body(pull_id, progress):
    from kpiapp.connectors import services

    services.run_pull(pull_id)  # a failed pull is a finished job: the pull row says why


def pull_failed(pull_id, reason, message):
    from kpiapp.connectors import services

    services.pull_job_failed(pull_id, reason, message[:200])


def deliver_body(delivery_id, progress):
    """One attempt at one notification delivery (kpiapp/notifications/delivery.py)."""
    from kpiapp.notifications import delivery

    delivery.attempt(delivery_id)


KINDS = {
    "deliver": Kind(deliver_body),
    "import": Kind(import_body, import_failed),
    "cycle_start": Kind(cycle_start_body),
    "report_batch": Kind(report_batch_body, report_batch_failed),
    "recompute_import": Kind(recompute_import_body),
    "recompute_cycle": Kind(recompute_cycle_body),
    "partitions": Kind(partitions_body),
    "pull": Kind(pull_body, pull_failed),
}
