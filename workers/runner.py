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


def run_worker(burst=False):
    os.register_at_fork(after_in_child=_fresh_pool_in_child)
    connection = redis_connection()
    queue = Queue(current_app.config["RQ_QUEUE"], connection=connection)
    Worker([queue], connection=connection).work(burst=burst, with_scheduler=True)
