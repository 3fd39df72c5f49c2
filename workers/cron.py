"""`kpi cron`: run kpiapp/schedule.py, on Redis through RQ's CronScheduler or in-process."""
import importlib
import logging
import time
from datetime import datetime, timezone

from croniter import croniter
from flask import current_app

from kpiapp.jobs import redis_connection
from kpiapp.schedule import SCHEDULE

LOCK_SECONDS = 120
log = logging.getLogger("kpiapp.cron")


def function(path):
    module, name = path.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


def lock_key():
    return f"kpiapp:cron:{current_app.config['RQ_QUEUE']}"


def run_on_redis():
    """Wait to be the one active scheduler of this queue, then run RQ's CronScheduler."""
    from rq.cron import CronScheduler

    connection = redis_connection()
    while not connection.set(lock_key(), "1", nx=True, ex=LOCK_SECONDS):
        log.info("another kpi cron is active for this queue; standing by")
        time.sleep(LOCK_SECONDS / 2)
    scheduler = CronScheduler(connection=connection, name=f"kpiapp-{current_app.config['RQ_QUEUE']}")
    for item in SCHEDULE:
        scheduler.register(function(item.func), current_app.config["RQ_QUEUE"], cron=item.cron, name=item.name)
    original = scheduler.heartbeat

    def heartbeat():  # keep the lock while alive
        connection.set(lock_key(), "1", ex=LOCK_SECONDS)
        original()

    scheduler.heartbeat = heartbeat
    try:
        scheduler.start()
    finally:
        connection.delete(lock_key())


def due_times(now):
    return {item.name: croniter(item.cron, now).get_next(datetime) for item in SCHEDULE}


def run_inprocess(stop_after=None):
    """The demo's scheduler: call each entry's function here when due (no Redis)."""
    now = datetime.now(timezone.utc)
    due = due_times(now)
    while stop_after is None or datetime.now(timezone.utc) < stop_after:
        now = datetime.now(timezone.utc)
        for item in SCHEDULE:
            if due[item.name] <= now:
                run_now(item)
                due[item.name] = croniter(item.cron, now).get_next(datetime)
        time.sleep(max(1.0, min(60.0, (min(due.values()) - now).total_seconds())))


def run_now(item):
    log.info("cron: running %s", item.name)
    try:
        return function(item.func)()
    except Exception:  # one failing entry never stops the others
        log.exception("cron: %s failed", item.name)
        from kpiapp.extensions import db

        db.session.rollback()
        return None
