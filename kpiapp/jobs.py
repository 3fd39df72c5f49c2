"""Background work: one durable `job_run` row per job, run by RQ or in-process.

Every kind of job (import, cycle start, report batch, recompute) goes the same way
(docs/jobs.md): a service or face creates the row (`create`), the face commits and
`launch`es it; the ONE RQ entry point `workers.jobs.run_job(job_run_id)` moves the row
queued → running → done/failed and calls the kind's body. The entry point is named
by its dotted path, so nothing inside the app imports `workers/`.

With no REDIS_URL the same entry point runs right here, in-process (the demo needs no
Redis). When Redis is configured but unreachable the row is marked failed with reason
`queue_unavailable` and QueueUnavailable is raised: the web answers 503, the CLI exits 1.
"""
import importlib
import os
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from flask import current_app

from kpiapp.extensions import db
from kpiapp.models.base import utcnow
from kpiapp.models.jobs import JobRun, JobStatus

ENTRY_POINT = "workers.jobs.run_job"
FAILURE_CALLBACK = "workers.jobs.job_failed"
RETRY_MAX = 3
RETRY_INTERVALS = [30, 120, 600]  # seconds before the 1st, 2nd and 3rd retry
# RQ's worker beats every 30 s while a job runs (job_monitoring_interval); three missed beats
# mean the worker process is gone.
STALE_AFTER = 90


class QueueUnavailable(Exception):
    """Redis could not take the job; the job row is marked failed (`queue_unavailable`)."""

    def __init__(self, run):
        super().__init__(f"job {run.id} ({run.kind}) could not be queued: {run.message}")
        self.run = run


def redis_connection():
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    from redis import Redis

    return Redis.from_url(url, socket_connect_timeout=3, socket_timeout=10)


def redis_ping():
    connection = redis_connection()
    if connection is None:
        return "not configured"
    try:
        connection.ping()
        return "ok"
    except Exception as error:  # reported by /healthz
        current_app.logger.warning("healthz redis: %s", error)
        return "unreachable"


def queue():
    from rq import Queue

    return Queue(current_app.config["RQ_QUEUE"], connection=redis_connection())


# ---- the durable job row ----------------------------------------------------------------------

def create(kind, subject_type, subject_id, actor_id=None, *, rq_id=None):
    """A queued job row for `kind` working on (subject_type, subject_id); flushed, not committed.

    `rq_id`: the RQ job id, when the caller knows it already; a row made inside the caller's own
    transaction then needs no second write when `launch`ed after that transaction commits."""
    run = JobRun(kind=kind, status=JobStatus.queued, subject_type=subject_type, subject_id=subject_id,
                 actor_id=actor_id, progress=0, total=0, attempts=0, rq_id=rq_id)
    db.session.add(run)
    db.session.flush()
    return run


def launch(run, *, rq_id=None, timeout=600, retry=True):
    """Commit the row and hand it to a worker (or run it now, in-process).

    `retry`: only for idempotent bodies; RQ then runs it again after 30 s, 2 min and 10 min.
    Raises QueueUnavailable (row failed, committed) when Redis does not answer.
    """
    wanted = rq_id or f"{run.kind}-{run.id}"
    if run.rq_id != wanted:  # a row created with its rq_id and committed needs no second write
        run.rq_id = wanted
    db.session.commit()  # the worker must see the row before it sees the job
    if redis_connection() is None:
        run_in_process(run.id)
        return run
    try:
        send_to_queue(run, timeout, retry)
    except Exception as error:
        if not is_queue_error(error):
            raise
        mark_unavailable(run.id, error)
        raise QueueUnavailable(db.session.get(JobRun, run.id)) from error
    return run


def send_to_queue(run, timeout, retry):
    from rq import Callback, Retry

    queue().enqueue(
        ENTRY_POINT, run.id, job_id=run.rq_id, job_timeout=timeout, result_ttl=600,
        failure_ttl=7 * 86400, retry=Retry(max=RETRY_MAX, interval=RETRY_INTERVALS) if retry else None,
        on_failure=Callback(FAILURE_CALLBACK), meta={"job_run_id": run.id})


def is_queue_error(error):
    from redis.exceptions import RedisError

    return isinstance(error, (RedisError, OSError))


def mark_unavailable(run_id, error):
    current_app.logger.error("job %s could not be queued: %s", run_id, error)
    finish(run_id, JobStatus.failed, "queue_unavailable", f"The job queue is unreachable: {error}")
    db.session.commit()


def run_in_process(run_id):
    """Same contract as a worker: the entry point records a failure on the row itself."""
    entry = entry_point()
    try:
        entry(run_id)
    except Exception:
        current_app.logger.exception("in-process job %s failed", run_id)


def entry_point():
    module, name = ENTRY_POINT.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


def is_lost(run):
    """With Redis: True when an unfinished job (or none at all) has no RQ job any more
    (Redis flushed or restarted without persistence, or the process died before enqueueing)."""
    if redis_connection() is None:
        return False
    return run is None or (not run.is_finished and not is_queued(run))


def is_queued(run):
    """True when the row's RQ job still exists (queued, scheduled, running); False without Redis."""
    job = fetch_rq_job(run)
    return job is not None and job.get_status(refresh=False) not in ("failed", "stopped", "canceled")


def fetch_rq_job(run):
    connection = redis_connection()
    if connection is None or not run.rq_id:
        return None
    from redis.exceptions import RedisError
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    try:
        return Job.fetch(run.rq_id, connection=connection)
    except (NoSuchJobError, RedisError):
        return None


# ---- state changes (each one re-reads the row; a finished job stays finished) -----------------

def begin(run_id):
    """The worker took the job: running, one more attempt, fresh heartbeat. Commits."""
    db.session.rollback()
    run = db.session.get(JobRun, run_id)
    if run is None or run.status == JobStatus.done:
        return None
    now = utcnow()
    run.status, run.attempts, run.started_at, run.heartbeat_at = JobStatus.running, run.attempts + 1, now, now
    run.reason = run.message = run.finished_at = None
    db.session.commit()
    return run


def finish(run_id, status, reason=None, message=None):
    """done, failed, or back to queued (a retry follows); never changes a done job (rq#2424)."""
    db.session.rollback()
    run = db.session.get(JobRun, run_id)
    if run is None or run.status == JobStatus.done:
        return run
    run.status, run.reason, run.message = status, reason, (message or "")[:2000] or None
    run.heartbeat_at = utcnow()
    run.finished_at = run.heartbeat_at if status != JobStatus.queued else None
    if status == JobStatus.done:
        run.progress = 100
    db.session.commit()
    return run


def record_total(kind, subject_type, subject_id, total):
    """Store what the running job of this kind counted (e.g. scorecards recomputed). Commits."""
    run = latest(kind, subject_type, subject_id)
    if run is not None:
        run.total = total
        db.session.commit()


def latest(kind, subject_type, subject_id):
    """The newest job row of this kind for one object, or None."""
    return db.session.execute(
        db.select(JobRun).where(JobRun.kind == kind, JobRun.subject_type == subject_type,
                                JobRun.subject_id == subject_id).order_by(JobRun.id.desc()).limit(1)
    ).scalar_one_or_none()


# ---- progress and liveness ------------------------------------------------------------------

def progress_reporter(pause=0.0):
    """progress(percent) for a job body: the RQ job's meta (percent + heartbeat); no-op in-process.

    Progress goes to Redis, not to the row: an import writes its facts in one long transaction,
    and on SQLite a second connection writing the row would wait for it. `pause` sleeps after
    each report; only tests use it, to kill a work-horse mid-job."""
    from rq import get_current_job

    job = get_current_job()

    def report(percent):
        if job is not None:
            job.meta.update(progress=int(percent), pid=os.getpid(), heartbeat=time.time())
            job.save_meta()
        if pause:
            time.sleep(pause)

    return report


@dataclass
class Liveness:
    """What a progress page shows: percent, seconds since the last sign of life, lost or not."""

    progress: int
    heartbeat_age: int | None
    stale: bool
    will_retry: bool


def liveness(run, row_progress=0):
    """Progress and heartbeat age of a job row, read from the row and its RQ job."""
    progress = max(run.progress, row_progress)
    if run.is_finished:
        return Liveness(100 if run.status == JobStatus.done else progress, None, False, False)
    beats = [run.heartbeat_at.timestamp()] if run.heartbeat_at else []
    job = fetch_rq_job(run)
    if job is not None:
        meta = job.get_meta(refresh=False) or {}
        progress = max(progress, int(meta.get("progress") or 0))
        beats += [b for b in (meta.get("heartbeat"), stamp(job.last_heartbeat)) if b]
    age = int(time.time() - max(beats)) if beats else None
    stale = run.status == JobStatus.running and age is not None and age > STALE_AFTER
    return Liveness(progress, age, stale, run.attempts <= RETRY_MAX)


def stamp(value):
    if not isinstance(value, datetime):
        return None
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()


def enqueue(func, *args, job_id=None, timeout=600):
    """Fire-and-forget work with no status row (e-mail): RQ when configured, else right here."""
    job_id = job_id or uuid.uuid4().hex
    if redis_connection() is None:
        func(*args)
        return job_id
    queue().enqueue(func, *args, job_id=job_id, job_timeout=timeout, result_ttl=600)
    return job_id
