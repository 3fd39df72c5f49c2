"""Command line: everything under `flask --app wsgi kpi ...`."""
import getpass
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from kpiapp.audit import SYSTEM, set_actor, verify_chain
from kpiapp.extensions import db


@click.group(help="kpiapp administration commands.")
def kpi():
    pass


@kpi.command("seed-demo", help="Load the demo organisation into an EMPTY database.")
@with_appcontext
def seed_demo_command():
    from kpiapp import demo

    set_actor(SYSTEM)
    if not demo.database_is_empty():
        click.echo("Database already has people; demo data not loaded.")
        return
    count = demo.seed_demo()
    db.session.commit()
    click.echo(f"Demo data loaded: {count} people. Password for every demo login: {demo.DEMO_PASSWORD}")


@kpi.command("seed-scale", help="Load a synthetic organisation of N people and M facts into an EMPTY "
                                  "database (load tests; deterministic with --seed).")
@click.option("--people", type=click.IntRange(1), default=500, show_default=True)
@click.option("--facts", type=click.IntRange(0), default=100_000, show_default=True)
@click.option("--seed", type=int, default=2026, show_default=True)
@click.option("--per-state", type=click.IntRange(0), default=None,
              help="Scorecards walked into each workflow state (default: people / 100).")
@with_appcontext
def seed_scale_command(people, facts, seed, per_state):
    from kpiapp import demo
    from kpiapp.demo.scale import seed_scale

    set_actor(SYSTEM)
    if not demo.database_is_empty():
        fail_line("the database already has people; seed-scale needs an empty one")
    org = seed_scale(people, facts, seed=seed, per_state=per_state)
    states = ", ".join(f"{state.value} {count}" for state, count in org.states.items())
    click.echo(f"Scale data loaded: cycle {org.cycle_id}, {org.people} people in {org.teams} teams, "
               f"{org.stores} stores, {org.facts} facts; scorecards: {states}. "
               f"Password for every login: {demo.DEMO_PASSWORD}")


@kpi.command("rebuild-fact-day", help="Make the day sums of metric_fact (fact_day, read by recompute) "
                                        "and the dashboard's picked rows (fact_pick) and months (fact_month, "
                                        "in the configured BASE_CURRENCY) again from the facts, in one "
                                        "transaction.")
@with_appcontext
def rebuild_fact_day_command():
    from kpiapp.metrics import fact_day

    rows = fact_day.rebuild(db.session.connection(), lock=True)
    db.session.commit()
    click.echo(f"fact_day rebuilt: {rows} day rows")


@kpi.command("verify-audit", help="Recompute the audit hash chain and check it against the anchors "
                                    "written outside the database; exit 1 at the first problem.")
@with_appcontext
def verify_audit_command():
    from kpiapp.audit_anchor import AnchorFileError, anchor_path, read_anchors

    try:
        anchors = read_anchors()
    except AnchorFileError as error:
        fail_line(f"BROKEN anchor file {anchor_path()}: {error}")
    report = verify_chain(db.session, anchors)
    if not report.ok:
        fail_line(f"BROKEN at seq {report.first_bad_seq}: {report.reason} ({report.checked} events read, "
                  f"{report.anchors_checked} anchors matched).")
    if anchors:
        click.echo(f"OK: {report.checked} audit events, chain intact, matches {len(anchors)} anchors "
                   f"(latest at seq {anchors[-1].seq}).")
    else:
        click.echo(f"OK: {report.checked} audit events, chain intact. No anchor in {anchor_path()}: "
                   "a cut-off end would not be found (run `kpi anchor-audit`).")


@kpi.command("anchor-audit", help="Append the committed head of the audit chain to the anchors outside the "
                                  "database (run it periodically).")
@with_appcontext
def anchor_audit_command():
    from kpiapp.audit_anchor import anchor_path, write_anchor

    anchor = write_anchor("scheduled")
    if anchor is None:
        click.echo(f"No new anchor: the chain is empty or its head is anchored already ({anchor_path()}).")
        return
    click.echo(f"Anchored seq {anchor.seq} hash {anchor.hash} in {anchor_path()}.")


@kpi.command("create-admin", help="Create an admin account (prompts for the password).")
@click.option("--email", required=True)
@click.option("--name", required=True)
@with_appcontext
def create_admin_command(email, name):
    from kpiapp.auth.passwords import hash_password, password_problems
    from kpiapp.models import Role, User

    password = getpass.getpass("Password: ")
    problems = password_problems(password, email=email, name=name)
    if problems:
        raise click.ClickException(" ".join(str(p) for p in problems))
    set_actor(SYSTEM)
    db.session.add(User(email=email.lower(), name=name, role=Role.admin, password_hash=hash_password(password)))
    db.session.commit()
    click.echo(f"Admin {email} created.")


@kpi.command("worker", help="Run an RQ worker (with scheduler) for the app's queue.")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@with_appcontext
def worker_command(burst):
    from workers.runner import run_worker

    if not current_app.config.get("REDIS_URL"):
        raise click.ClickException("REDIS_URL is not set: jobs run in-process, no worker needed.")
    run_worker(burst=burst)


@kpi.command("import", help="Import a report (or --fx rates) file through the same service as the web page.")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--store", "store_code",
              help="Store code (not needed for --fx or a generic file with a store column).")
@click.option("--from", "date_from", type=click.DateTime(formats=["%Y-%m-%d"]), help="Report start date.")
@click.option("--to", "date_to", type=click.DateTime(formats=["%Y-%m-%d"]), help="Report end date.")
@click.option("--parser", help="Parser key (default: detect from the file).")
@click.option("--allow-partial", is_flag=True, help="Import valid rows even if some rows have errors.")
@click.option("--fx", is_flag=True, help="The file holds FX rates (date,currency,rate).")
@with_appcontext
def import_command(path, store_code, date_from, date_to, parser, allow_partial, fx):
    from pathlib import Path

    from kpiapp.imports.services import ImportRejected, start_import
    from kpiapp.jobs import QueueUnavailable
    from kpiapp.models import ImportStatus, Store

    set_actor(SYSTEM)
    store = None
    if store_code:
        store = db.session.execute(db.select(Store).filter_by(code=store_code)).scalar_one_or_none()
    if store_code and store is None:
        fail_line(f"rejected: unknown store {store_code}")
    try:
        record = start_import(Path(path).read_bytes(), Path(path).name, store.id if store else None, None,
                              parser=parser, date_from=date_from and date_from.date(),
                              date_to=date_to and date_to.date(), allow_partial=allow_partial,
                              kind="fx" if fx else "facts")
    except ImportRejected as error:
        fail_line(f"rejected: {error.message}")
    except QueueUnavailable as error:
        fail_line(f"not started: the job queue (REDIS_URL) is unreachable; {error.run.message}")
    summary = (f"import #{record.id} {record.status}: {record.rows_read} rows read, {record.facts_written} "
               f"written, {record.facts_replaced} replaced, {record.rows_rejected} rejected")
    if record.status == ImportStatus.failed:
        fail_line(f"{summary}; {record.error}")
    click.echo(summary + ("" if record.status == ImportStatus.committed else " (queued for a worker)"))


def fail_line(message):
    click.echo(message.replace("\n", " "), err=True)
    sys.exit(1)


@kpi.command("recompute",
             help="Recompute metric actuals of non-locked scorecards (one cycle or every running cycle).")
@click.option("--cycle", "cycle_id", type=int, help="Cycle id (default: every running cycle).")
@with_appcontext
def recompute_command(cycle_id):
    from kpiapp.models import Cycle
    from kpiapp.tracking import services

    set_actor(SYSTEM)
    if cycle_id is not None and db.session.get(Cycle, cycle_id) is None:
        fail_line(f"unknown cycle {cycle_id}")
    ids = [cycle_id] if cycle_id is not None else services.running_cycle_ids()
    for one in ids:
        changed = services.recompute_cycle(one)
        click.echo(f"cycle {one}: {changed} items updated")
    if not ids:
        click.echo("no running cycle")
    send_at_risk(cycle_id)


@kpi.command("at-risk", help="Notify the owners of at-risk items (once per week at most; docs/pace.md).")
@click.option("--cycle", "cycle_id", type=int, help="Cycle id (default: every running cycle).")
@with_appcontext
def at_risk_command(cycle_id):
    set_actor(SYSTEM)
    send_at_risk(cycle_id)


def send_at_risk(cycle_id):
    from kpiapp.tracking import alerts

    sent = alerts.notify_at_risk(cycle_id) if cycle_id is not None else alerts.notify_running()
    db.session.commit()
    click.echo(f"{sent} owners notified of items at risk")


@kpi.command("send-reminders", help="Send today's deadline reminders (stages, appeals, disputes; "
             "docs/reminders.md): what the daily schedule entry 'reminders' runs.")
@click.option("--today", "today", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Pretend it is this day (YYYY-MM-DD), for tests and demos.")
@click.option("--digest", is_flag=True, help="Also send the weekly at-risk digest to managers.")
@with_appcontext
def send_reminders_command(today, digest):
    from kpiapp.reminders import services
    from kpiapp.tracking.services import utc_today

    set_actor(SYSTEM)
    day = today.date() if today else utc_today()
    sent = services.send_reminders(day)
    digests = services.at_risk_digest(day) if digest else 0
    db.session.commit()
    click.echo(f"{day.isoformat()}: {sent} reminders sent" + (f", {digests} at-risk digests" if digest else ""))


@kpi.command("partitions", help="PostgreSQL: make metric_fact's month partitions ahead and empty its "
             "DEFAULT partition (run daily from cron); --detach archives one month.")
@click.option("--ahead", type=click.IntRange(0, 36), default=3, show_default=True,
              help="Months after the current one that get their partition.")
@click.option("--queue", "queued", is_flag=True, help="Run it as a background job (a job_run row).")
@click.option("--detach", metavar="YYYY-MM", help="Detach this month into the schema fact_archive.")
@with_appcontext
def partitions_command(ahead, queued, detach):
    from datetime import date, datetime

    from kpiapp import jobs
    from kpiapp.metrics import partitions

    set_actor(SYSTEM)
    if detach:
        month = datetime.strptime(detach, "%Y-%m").date()
        table = partitions.detach_month(db.session, month)
        db.session.commit()
        click.echo(f"{detach} detached into {table}" if table else f"{detach} has no partition: nothing detached")
        return
    if queued:
        run = jobs.launch(jobs.create("partitions", "metric_fact", ahead), retry=True)
        click.echo(f"job {run.id} ({run.kind}) launched")
        return
    made, left = partitions.make_ahead(db.session, ahead, date.today())
    partitions.record_made(db.session, made, left)
    db.session.commit()
    click.echo(f"months made: {', '.join(f'{m:%Y-%m}' for m in made) or 'none'}; rows in DEFAULT: {left}")


@kpi.command("report", help="Write the signed PDF report of a locked scorecard (issuing it first if needed).")
@click.argument("scorecard_id", type=int)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True), help="PDF file to write.")
@click.option("--lang", type=click.Choice(["en", "zh_CN"]), default="en", show_default=True)
@with_appcontext
def report_command(scorecard_id, out, lang):
    from pathlib import Path

    from kpiapp.reports import services

    set_actor(SYSTEM)
    try:
        report = services.issue_report(scorecard_id, None, lang)
        data = services.report_bytes(report)
    except services.ReportError as error:
        db.session.rollback()
        fail_line(f"refused: {error.message}")
    db.session.commit()
    Path(out).write_bytes(data)
    click.echo(f"{out}: document {report.document_id}, scorecard {report.scorecard_id} "
               f"v{report.scorecard_version}, {lang}, {len(data)} bytes, sha256 {report.sha256}")


@kpi.command("verify-report", help="Verify a signed PDF report; exit 1 unless the signature holds and it is the issued copy.")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def verify_report_command(path):
    from pathlib import Path

    from kpiapp.reports import services

    result = services.verify_document(Path(path).read_bytes())
    v = result.verification
    lines = [f"file: {path} ({result.size} bytes, sha256 {result.sha256})"]
    if v is not None:
        lines += [f"signature: {'intact' if v.intact else 'NOT INTACT'}, {'valid' if v.valid else 'NOT VALID'}, "
                  f"{'trusted' if v.trusted else 'NOT TRUSTED'} (coverage {v.coverage or '-'}, "
                  f"modifications {v.modification_level or '-'})",
                  f"signed by: {v.signer_name or '-'} at {v.signed_at.isoformat() if v.signed_at else '-'}"]
    report = result.report
    if report is not None:
        owner = (f"scorecard {report.scorecard_id} v{report.scorecard_version}, {report.person.name}"
                 if report.person else f"cycle summary of {report.cycle.name}")
        lines += [f"document: {report.document_id} = {owner}, {report.cycle.name}, {report.lang}",
                  f"stored copy: {'identical' if result.matches_stored else 'DIFFERENT BYTES'}",
                  f"superseded: {'YES, a newer version exists' if result.superseded else 'no'}"]
    for line in lines:
        click.echo(line)
    if not result.ok:
        fail_line("NOT VERIFIED: " + ", ".join(result.problems))
    note = " It has been superseded by a newer version." if result.superseded else ""
    click.echo(f"OK: genuine signed report, identical to the issued copy.{note}")


@kpi.command("vault-rotate", help="Re-seal every stored secret (connector credentials, IM secrets) with the "
                                    "newest key of VAULT_KEYS, so an older key can be dropped.")
@with_appcontext
def vault_rotate_command():
    from kpiapp import vault

    set_actor(SYSTEM)
    models = [mapper.class_ for mapper in db.Model.registry.mappers
              if any(isinstance(column.type, vault.Sealed) for column in mapper.class_.__table__.columns)]
    try:
        count = vault.rotate_all(db.session, models)
    except vault.VaultError as error:
        db.session.rollback()
        click.echo(f"vault-rotate: {error}", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"Re-sealed {count} value(s) in {len(models)} table(s) with the newest key.")


@kpi.command("notify-test", help="Send a test message to every IM channel (page and environment) as an admin, "
                                   "wait for the deliveries and print each outcome.")
@click.option("--email", help="The admin the test is from (default: the first active admin).")
@with_appcontext
def notify_test_command(email):
    from sqlalchemy import select

    from kpiapp.models import NotificationDelivery, Role, User
    from kpiapp.notifications import delivery, integrations

    set_actor(SYSTEM)
    query = select(User).where(User.role == Role.admin, User.active.is_(True)).order_by(User.id)
    admin = db.session.execute(query.where(User.email == email) if email else query).scalars().first()
    if admin is None:
        click.echo("notify-test: no such active admin", err=True)
        sys.exit(1)
    rows = [integrations.test_send(admin, c.platform, c.id) for c in integrations.channel_rows() if c.enabled]
    db.session.commit()
    delivery.wait()
    db.session.expire_all()
    for row in rows:
        row = db.session.get(NotificationDelivery, row.id)
        click.echo(f"{row.channel}: {row.status}{' (' + row.last_error + ')' if row.last_error else ''}")
    if not rows:
        click.echo("notify-test: no IM channel is configured")


@kpi.command("cron", help="Run the schedule (kpiapp/schedule.py): on Redis through RQ's CronScheduler, "
                            "else in-process. --once NAME runs one entry now; --list shows them.")
@click.option("--once", "once", help="Run this entry now and exit.")
@click.option("--list", "show", is_flag=True, help="List the entries and exit.")
@with_appcontext
def cron_command(once, show):
    from kpiapp.schedule import SCHEDULE, entry
    from workers import cron

    if show:
        for item in SCHEDULE:
            click.echo(f"{item.name:<16} {item.cron:<16} {item.help}")
        return
    if once:
        try:
            item = entry(once)
        except KeyError:
            raise click.ClickException(f"no schedule entry named {once!r}") from None
        result = cron.function(item.func)()
        click.echo(f"{item.name}: {result}")
        return
    cron.run_on_redis() if current_app.config.get("REDIS_URL") else cron.run_inprocess()


@kpi.command("sync", help="Pull a store's marketplace data now through its connections (docs/connectors.md).")
@click.argument("store_code")
@click.option("--from", "date_from", type=click.DateTime(formats=["%Y-%m-%d"]), help="First day (default: the schedule's range).")
@click.option("--to", "date_to", type=click.DateTime(formats=["%Y-%m-%d"]), help="Last day (default: yesterday).")
@click.option("--what", "what", help="Data kinds, comma-separated: sales,ads,orders,settlement,inventory,health "
                                     "(default: each connection's kinds).")
@click.option("--endpoint", help="Base URL of a stand-in server instead of the platform (tests, the demo).")
@with_appcontext
def sync_command(store_code, date_from, date_to, what, endpoint):
    from kpiapp.connectors import services
    from kpiapp.connectors.base import DataKind
    from kpiapp.models.connectors import PullStatus

    set_actor(SYSTEM)
    kinds = [k.strip() for k in (what or "").split(",") if k.strip()]
    unknown = [k for k in kinds if k not in DataKind.__members__]
    if unknown:
        fail_line(f"sync: unknown data kind {', '.join(unknown)}")
    first, last = date_from and date_from.date(), date_to and date_to.date()
    if first and last and last < first:
        fail_line("sync: --to is before --from")
    try:
        pulls = services.sync(store_code, first, last, kinds, endpoint)
    except (services.SyncError, services.ConnectError) as error:
        fail_line(f"sync: {error}")
    for pull in pulls:
        click.echo(pull_line(store_code, pull))
    failed = [p for p in pulls if p.status != PullStatus.done]
    if failed:
        fail_line(f"sync failed: {pull_line(store_code, failed[0])}")


def pull_line(store_code, pull):
    from flask_babel import force_locale

    from kpiapp.connectors import services

    outcome = f"{pull.status}, {len(pull.import_ids)} import(s), {pull.facts} facts"
    if pull.failure:
        with force_locale("en"):
            outcome = f"{pull.status} ({pull.failure}): {services.failure_words(pull.failure)}"
    return f"{store_code} {pull.kind} {pull.date_from}..{pull.date_to}: {outcome}"


@kpi.command("fake-marketplace", help="Serve the marketplace stand-in (kpiapp/connectors/fake) for tests and "
                                      "the demo; never a production service.")
@click.option("--port", type=int, default=5999, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
def fake_marketplace_command(port, host):
    from werkzeug.serving import run_simple

    from kpiapp.connectors.fake import create_app, platform_modules

    names = [m.__name__.rsplit(".", 1)[1] for m in platform_modules()]
    click.echo(f"marketplace stand-in on http://{host}:{port} ({', '.join(names) or 'no platforms'})")
    run_simple(host, port, create_app(), threaded=True, use_reloader=False)
