"""metric_fact's references to store and import_record, checked once per statement on PostgreSQL.

A foreign key is checked by PostgreSQL row by row (an RI trigger per row per key): on an
import of 900,000 facts that was most of the gap between the import and plain COPY
(docs/scaling.md, "What is left between the import and plain COPY"). Every fact of one
import has the same import id and one of a few store ids, so on PostgreSQL (migration 0026)
the two foreign keys are replaced by set-based checks with the same guarantee and the same
error (SQLSTATE 23503 foreign_key_violation, naming the constraint the key had):

* metric_fact: `AFTER INSERT` and `AFTER UPDATE ... FOR EACH STATEMENT` triggers with a
  transition table (`new_facts`) take the distinct store and import ids of the rows written,
  lock those rows of store and import_record `FOR KEY SHARE` (as RI does: they cannot be
  deleted, nor their id changed, until this transaction ends) and raise if one is missing.
  A statement on the parent (COPY, INSERT ... SELECT, ON CONFLICT DO UPDATE) fires the
  parent's triggers only; each partition carries the same pair for statements that name it
  directly (partitions.py adds them to every partition it makes).
* store and import_record: `AFTER DELETE` and `AFTER UPDATE OF id` row triggers refuse, as
  the keys' NO ACTION did, when a fact still references the old id (they lock the fact
  `FOR KEY SHARE`, as RI does, so a concurrent delete of that fact is waited for); an
  `AFTER TRUNCATE` refuses while metric_fact holds rows (TRUNCATE store, metric_fact passes;
  TRUNCATE store CASCADE, which the key made reach metric_fact, is refused instead).

Under READ COMMITTED (the app's level) this is the foreign key's guarantee. Under
REPEATABLE READ a delete of a store or import whose new facts committed after the deleting
transaction's snapshot would not see them (RI re-checks with a fresh snapshot; a trigger
cannot): the app never deletes stores or imports. SQLite keeps its foreign keys.

The models keep both ForeignKeys (SQLite, and the ORM's joins); `include_object_for` tells
autogenerate (migrations/env.py, tests/test_migrations.py) that PostgreSQL has no such keys.
"""
from sqlalchemy import text

PARENT = "metric_fact"
# constraint name -> (metric_fact's column, the table it references)
KEYS = {
    "fk_metric_fact_store_id_store": ("store_id", "store"),
    "fk_metric_fact_import_id_import_record": ("import_id", "import_record"),
}
CHECK = "kpi_metric_fact_refs"
GUARD = "kpi_fact_referenced"
TRUNCATE_GUARD = "kpi_fact_referenced_truncate"


def include_object_for(dialect_name):
    """An autogenerate `include_object`: on PostgreSQL metric_fact's two keys are triggers."""
    def include(_object, name, type_, _reflected, _compare_to):
        return not (dialect_name == "postgresql" and type_ == "foreign_key_constraint" and name in KEYS)
    return include


# ---- the checks (PostgreSQL) ----------------------------------------------------------------

def _present_check(name, column, table):
    """plpgsql: lock the referenced rows of the distinct ids written, raise on the first missing."""
    return f"""
  wanted := ARRAY(SELECT DISTINCT {column} FROM new_facts ORDER BY 1);
  locked := ARRAY(SELECT id FROM {table} WHERE id = ANY (wanted) ORDER BY id FOR KEY SHARE);
  SELECT id INTO missing FROM unnest(wanted) AS w(id) WHERE id <> ALL (locked) ORDER BY id LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'insert or update on table "{PARENT}" violates foreign key constraint "{name}"'
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = '{name}', TABLE = '{PARENT}',
            DETAIL = format('Key ({column})=(%s) is not present in table "{table}".', missing);
  END IF;"""


def check_function_sql():
    checks = "".join(_present_check(name, column, table) for name, (column, table) in KEYS.items())
    return f"""
CREATE OR REPLACE FUNCTION {CHECK}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  wanted integer[];
  locked integer[];
  missing integer;
BEGIN{checks}
  RETURN NULL;
END $$"""


def guard_function_sql():
    """Row triggers on store and import_record: TG_ARGV = (metric_fact's column, constraint)."""
    return f"""
CREATE OR REPLACE FUNCTION {GUARD}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  referenced boolean;
BEGIN
  EXECUTE format('SELECT true FROM {PARENT} WHERE %I = $1 LIMIT 1 FOR KEY SHARE', TG_ARGV[0])
    INTO referenced USING OLD.id;
  IF referenced THEN
    RAISE EXCEPTION 'update or delete on table "%" violates foreign key constraint "%" on table "{PARENT}"',
                    TG_TABLE_NAME, TG_ARGV[1]
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = TG_ARGV[1], TABLE = TG_TABLE_NAME,
            DETAIL = format('Key (id)=(%s) is still referenced from table "{PARENT}".', OLD.id);
  END IF;
  RETURN NULL;
END $$"""


def truncate_guard_sql():
    return f"""
CREATE OR REPLACE FUNCTION {TRUNCATE_GUARD}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM {PARENT}) THEN
    RAISE EXCEPTION 'cannot truncate table "%": {PARENT} references it (truncate both together)',
                    TG_TABLE_NAME
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = TG_ARGV[0], TABLE = TG_TABLE_NAME;
  END IF;
  RETURN NULL;
END $$"""


def install(conn):
    """Replace metric_fact's two foreign keys by the checks (migration 0026); the partitions are
    given theirs by the caller (`guard_table` on each)."""
    for sql in (check_function_sql(), guard_function_sql(), truncate_guard_sql()):
        conn.execute(text(sql))
    for name in KEYS:
        conn.execute(text(f'ALTER TABLE {PARENT} DROP CONSTRAINT IF EXISTS "{name}"'))
    guard_table(conn, PARENT)
    for name, (column, table) in KEYS.items():
        guard = f"EXECUTE FUNCTION {GUARD}('{column}', '{name}')"
        conn.execute(text(f'CREATE TRIGGER {table}_facts_delete AFTER DELETE ON "{table}" '
                          f"FOR EACH ROW {guard}"))
        conn.execute(text(f'CREATE TRIGGER {table}_facts_update AFTER UPDATE OF id ON "{table}" FOR EACH ROW '
                          f"WHEN (OLD.id IS DISTINCT FROM NEW.id) {guard}"))
        conn.execute(text(f'CREATE TRIGGER {table}_facts_truncate AFTER TRUNCATE ON "{table}" '
                          f"FOR EACH STATEMENT EXECUTE FUNCTION {TRUNCATE_GUARD}('{name}')"))


def uninstall(conn):
    """Drop every check (and the triggers of every partition, archived ones included) and put
    the foreign keys back; ADD CONSTRAINT validates every fact (migration 0026's downgrade)."""
    for function in (CHECK, GUARD, TRUNCATE_GUARD):  # CASCADE: with every trigger that runs it
        conn.execute(text(f"DROP FUNCTION IF EXISTS {function}() CASCADE"))
    for name, (column, table) in KEYS.items():
        conn.execute(text(f'ALTER TABLE {PARENT} ADD CONSTRAINT "{name}" FOREIGN KEY ({column}) '
                          f"REFERENCES {table} (id)"))


def installed(conn):
    return conn.dialect.name == "postgresql" and conn.execute(
        text("SELECT to_regproc(:f) IS NOT NULL"), {"f": CHECK}).scalar()


def guard_table(conn, table):
    """metric_fact or one of its partitions (qualified name): the statement checks on INSERT and
    UPDATE. A no-op before migration 0026 (migration 0010 makes partitions too) and after its
    downgrade."""
    if not installed(conn):
        return
    short = table.rsplit(".", 1)[-1]
    for event in ("INSERT", "UPDATE"):
        conn.execute(text(f"CREATE TRIGGER {short}_refs_{event.lower()} AFTER {event} ON {table} "
                          f"REFERENCING NEW TABLE AS new_facts FOR EACH STATEMENT "
                          f"EXECUTE FUNCTION {CHECK}()"))
