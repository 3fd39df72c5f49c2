"""Background work: RQ on Redis when REDIS_URL is set, otherwise in-process.

Both paths call the same job function with the same arguments (ids only), so
the demo without Redis exercises the production code path.  `enqueue()`
returns the RQ job id, or a generated id for in-process runs.
"""
import uuid

from flask import current_app


def redis_connection():
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    from redis import Redis

    return Redis.from_url(url)


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


def enqueue(func, *args, job_id=None, timeout=600, retry=None, on_failure=None, meta=None):
    """Run `func(*args)` on a worker, or right here when no Redis is configured."""
    job_id = job_id or uuid.uuid4().hex
    if redis_connection() is None:
        run_in_process(func, args, on_failure)
        return job_id
    from rq import Callback

    queue().enqueue(
        func, *args, job_id=job_id, job_timeout=timeout, result_ttl=600, failure_ttl=7 * 86400,
        retry=retry, on_failure=Callback(on_failure) if on_failure else None, meta=meta or {},
    )
    return job_id


def run_in_process(func, args, on_failure):
    """Same contract as a worker: a failure is handed to on_failure, not to the caller."""
    try:
        func(*args)
    except Exception as error:
        current_app.logger.exception("in-process job %s failed", func.__name__)
        if on_failure is None:
            raise
        on_failure(None, None, type(error), error, error.__traceback__)


def progress_reporter(pause=0.0):
    """progress(percent) for a job body: writes the current RQ job's meta (no-op in-process).

    `pause` sleeps after each report; only tests use it, to kill a work-horse mid-job."""
    import os
    import time

    from rq import get_current_job

    job = get_current_job()

    def report(percent):
        if job is not None:
            job.meta.update(progress=percent, pid=os.getpid())
            job.save_meta()
        if pause:
            time.sleep(pause)

    return report
