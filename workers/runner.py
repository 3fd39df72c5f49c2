"""Starts an RQ worker inside the app context (redash-style `flask kpi worker`).

The work-horse is forked from a process that already holds the app context, so
each job runs with the app configured once; the database pool inherited across
fork() is discarded in the child so no connection is shared between processes.
"""
import os

from flask import current_app
from rq import Queue, Worker
from rq.callbacks import execute_failure_callback
from rq.timeouts import UnixSignalDeathPenalty

from kpiapp.extensions import db
from kpiapp.jobs import redis_connection


def _fresh_pool_in_child():
    db.engine.dispose(close=False)


class WorkHorseKilled(Exception):
    """The work-horse died (SIGKILL, OOM) before the job could fail by itself."""


def horse_killed(job, retpid, ret_val, rusage):
    """RQ 3 does not run a job's on_failure callback when its work-horse is killed:
    run it here, so every kind of job records the failure its own way."""
    error = WorkHorseKilled(f"work-horse {retpid} ended with status {ret_val}")
    execute_failure_callback(job, UnixSignalDeathPenalty, WorkHorseKilled, error, None)


def run_worker(burst=False):
    os.register_at_fork(after_in_child=_fresh_pool_in_child)
    connection = redis_connection()
    queue = Queue(current_app.config["RQ_QUEUE"], connection=connection)
    worker = Worker([queue], connection=connection, work_horse_killed_handler=horse_killed)
    worker.work(burst=burst, with_scheduler=True)
