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


@kpi.command("verify-audit", help="Recompute the audit hash chain; exit 1 at the first broken link.")
@with_appcontext
def verify_audit_command():
    report = verify_chain(db.session)
    if report.ok:
        click.echo(f"OK: {report.checked} audit events, chain intact.")
        return
    click.echo(f"BROKEN at seq {report.first_bad_seq}: {report.reason} "
               f"({report.checked} events read).", err=True)
    sys.exit(1)


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
@click.option("--store", "store_code", help="Store code (not needed for --fx or a generic file with a store column).")
@click.option("--from", "date_from", type=click.DateTime(formats=["%Y-%m-%d"]), help="Report start date.")
@click.option("--to", "date_to", type=click.DateTime(formats=["%Y-%m-%d"]), help="Report end date.")
@click.option("--parser", help="Parser key (default: detect from the file).")
@click.option("--allow-partial", is_flag=True, help="Import valid rows even if some rows have errors.")
@click.option("--fx", is_flag=True, help="The file holds FX rates (date,currency,rate).")
@with_appcontext
def import_command(path, store_code, date_from, date_to, parser, allow_partial, fx):
    from pathlib import Path

    from kpiapp.imports.services import ImportRejected, start_import
    from kpiapp.models import ImportStatus, Store

    set_actor(SYSTEM)
    store = db.session.execute(db.select(Store).filter_by(code=store_code)).scalar_one_or_none() if store_code else None
    if store_code and store is None:
        fail_line(f"rejected: unknown store {store_code}")
    try:
        record = start_import(Path(path).read_bytes(), Path(path).name, store.id if store else None, None,
                              parser=parser, date_from=date_from and date_from.date(),
                              date_to=date_to and date_to.date(), allow_partial=allow_partial,
                              kind="fx" if fx else "facts")
    except ImportRejected as error:
        fail_line(f"rejected: {error.message}")
    summary = (f"import #{record.id} {record.status}: {record.rows_read} rows read, {record.facts_written} "
               f"written, {record.facts_replaced} replaced, {record.rows_rejected} rejected")
    if record.status == ImportStatus.failed:
        fail_line(f"{summary}; {record.error}")
    click.echo(summary + ("" if record.status == ImportStatus.committed else " (queued for a worker)"))


def fail_line(message):
    click.echo(message.replace("\n", " "), err=True)
    sys.exit(1)
