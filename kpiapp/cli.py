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
