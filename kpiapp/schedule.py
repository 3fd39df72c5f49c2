"""What runs by itself, and when: the one list read by `flask --app wsgi kpi cron`.

Each entry names a function in workers/ (an RQ entry point, run by a worker inside the app
context) and a cron expression in UTC. With Redis, `kpi cron` registers the list with RQ's
own CronScheduler (rq.cron), which enqueues each entry when due; a Redis lock keeps one
scheduler active per queue, so a second `kpi cron` waits as a stand-by. Without Redis (the
one-machine demo) `kpi cron` runs the same functions in-process at the same times
(croniter). `kpi cron --once NAME` runs one entry now, by hand.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    name: str
    cron: str  # minute hour day-of-month month day-of-week, UTC
    func: str  # dotted path of a function in workers/
    help: str


SCHEDULE = (
    Entry("anchor-audit", "*/15 * * * *", "workers.audit.anchor_audit_chain",
          "append the audit chain's committed head to the anchors outside the database"),
    Entry("at-risk", "0 1 * * 1", "workers.scheduled.at_risk",
          "weekly: notify the owners of at-risk items"),
    Entry("partitions", "15 2 * * *", "workers.scheduled.partitions",
          "daily, PostgreSQL: metric_fact's month partitions three months ahead (no-op on SQLite)"),
    Entry("connectors", "*/15 * * * *", "workers.connectors.run_due",
          "pull marketplace data that is due from the connected stores (docs/connectors.md)"),
    Entry("reminders", "0 1 * * *", "workers.scheduled.reminders",
          "daily: stage, appeal and dispute deadline reminders, escalation to managers"),
    Entry("at-risk-digest", "30 1 * * 1", "workers.scheduled.at_risk_digest",
          "weekly: one digest per manager of the team's items at risk"),
    Entry("stale-data", "0 2 * * *", "workers.scheduled.stale_connections",
          "daily: connector data older than its freshness (hook; see docs/reminders.md)"),
    Entry("notify-retry", "* * * * *", "workers.scheduled.notify_retry",
          "send the notification deliveries whose retry is due"),
    Entry("digest-daily", "0 0 * * *", "workers.scheduled.digest_daily",
          "daily e-mail digest for the people who chose it (08:00 Beijing time)"),
    Entry("digest-weekly", "0 0 * * 1", "workers.scheduled.digest_weekly",
          "weekly e-mail digest (Monday 08:00 Beijing time)"),
)


def entry(name):
    for item in SCHEDULE:
        if item.name == name:
            return item
    raise KeyError(name)
