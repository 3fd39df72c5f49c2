"""Migrations: upgrade from empty, downgrade one step, upgrade again, on the test's database."""
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from kpiapp.extensions import db
from kpiapp.metrics import fact_refs


def tables():
    db.engine.dispose()
    return set(inspect(db.engine).get_table_names())


def current_revision():
    with db.engine.connect() as connection:
        return set(connection.execute(db.text("SELECT version_num FROM alembic_version")).scalars())


def previous_revision():
    """The revision below head (the first parent when head merges two branches)."""
    from alembic.script import ScriptDirectory
    from flask import current_app

    script = ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())
    down = script.get_revision(script.get_current_head()).down_revision
    return down[0] if isinstance(down, tuple) else down


def test_upgrade_downgrade_upgrade(app):
    head = tables()
    assert {"user", "audit_event", "store", "store_owner"} <= head
    previous_revision_value = previous_revision()
    downgrade(revision=previous_revision_value)
    assert tables() <= head  # a merge revision has no schema of its own
    assert previous_revision_value in current_revision()
    upgrade()
    assert tables() == head
    downgrade(revision="base")
    assert tables() <= {"alembic_version"}
    upgrade()
    assert tables() == head


def test_models_match_migrations(app):
    """Autogenerate finds nothing to do: the schema comes from migrations alone."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as connection:
        # as migrations/env.py: on PostgreSQL metric_fact's two keys are triggers (metrics/fact_refs.py)
        include = fact_refs.include_object_for(connection.dialect.name)
        context = MigrationContext.configure(connection, opts={"compare_type": False,
                                                               "include_object": include})
        diff = compare_metadata(context, db.metadata)
    assert diff == []
