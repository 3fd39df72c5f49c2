"""Starts an RQ worker inside the app context (redash-style `flask kpi worker`).

The work-horse is forked from a process that already holds the app context, so
each job runs with the app configured once; the database pool inherited across
fork() is discarded in the child so no connection is shared between processes.
"""
import os

from flask import current_app
from rq import Queue, Worker

from kpiapp.extensions import db
from kpiapp.jobs import redis_connection


def _fresh_pool_in_child():
    db.engine.dispose(close=False)


def horse_killed(job, retpid, ret_val, rusage):
    """RQ 3 does not run on_failure when the work-horse is killed (OOM, SIGKILL):
    mark the job's record failed here, so the page does not say "running" forever."""
    import_id = (job.meta or {}).get("import_id")
    if import_id is not None:
        from kpiapp.imports.services import mark_failed

        mark_failed(import_id, "worker_killed",
                    "The worker processing this import stopped unexpectedly. Nothing was written; run it again.")
        db.session.commit()


def run_worker(burst=False):
    os.register_at_fork(after_in_child=_fresh_pool_in_child)
    connection = redis_connection()
    queue = Queue(current_app.config["RQ_QUEUE"], connection=connection)
    worker = Worker([queue], connection=connection, work_horse_killed_handler=horse_killed)
    worker.work(burst=burst, with_scheduler=True)
