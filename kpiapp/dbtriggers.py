"""Database triggers that hold even against raw SQL (used by migrations)."""
from alembic import op


def dialect():
    return op.get_bind().dialect.name


def create_append_only(table):
    """Reject every UPDATE and DELETE (and TRUNCATE on PostgreSQL) on `table`."""
    if dialect() == "postgresql":
        op.execute("""
            CREATE OR REPLACE FUNCTION kpi_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation'; END $$;
        """)
        op.execute(f'CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON "{table}" '
                   f"FOR EACH ROW EXECUTE FUNCTION kpi_append_only()")
        op.execute(f'CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON "{table}" '
                   f"FOR EACH STATEMENT EXECUTE FUNCTION kpi_append_only()")
        return
    for verb in ("UPDATE", "DELETE"):
        op.execute(f'CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON "{table}" '
                   f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")


def drop_append_only(table):
    if dialect() == "postgresql":
        op.execute(f'DROP TRIGGER IF EXISTS {table}_append_only ON "{table}"')
        op.execute(f'DROP TRIGGER IF EXISTS {table}_no_truncate ON "{table}"')
        return
    for verb in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
