"""metric_fact's store and import references hold on both databases: real foreign keys on SQLite,
statement-level checks on PostgreSQL (migration 0026, kpiapp/metrics/fact_refs.py), with the
same error class (23503 on PostgreSQL) and the same refusals on the referenced side."""
from datetime import date

import psycopg
import pytest
from flask import current_app
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from kpiapp.extensions import db
from kpiapp.imports import services
from kpiapp.imports.fact_rows import FactRows
from kpiapp.imports.services import start_import
from kpiapp.metrics import fact_refs, partitions
from kpiapp.models import ImportRecord, MetricFact, Store
from kpiapp.parsers import parse_file
from tests.conftest import PG_URL
from tests.imports.files import business_report, hr_user, store

D1 = date(2025, 3, 1)
REPORT = business_report([(f"B0CHILD{n:03d}", 100 + n, n % 4, f"${n * 3}.99") for n in range(8)])
STORE_KEY, IMPORT_KEY = fact_refs.KEYS

# the import's COPY runs on the driver's cursor: its error comes unwrapped, as with the keys before
INTEGRITY = (IntegrityError, psycopg.IntegrityError)
postgresql_only = pytest.mark.skipif(not PG_URL, reason="PostgreSQL only: SQLite keeps its foreign keys")


def refused(error, constraint=None):
    """A foreign-key refusal: 23503 on PostgreSQL (naming the key), the FK error on SQLite."""
    error = getattr(error, "value", error)
    orig = getattr(error, "orig", error)
    if db.engine.dialect.name == "sqlite":
        return "FOREIGN KEY constraint failed" in str(orig)
    return orig.sqlstate == "23503" and (constraint is None or orig.diag.constraint_name == constraint)


def import_report(shop, user, name="br.csv"):
    record = start_import(REPORT, name, shop.id, user, date_from=D1, date_to=D1)
    assert record.status == "committed", record.error
    return record


def fact_count():
    db.session.rollback()
    return db.session.execute(select(func.count()).select_from(MetricFact)).scalar()


def only_facts_refer_to_the_store():
    """The import's own store, the day sums, the picked rows and their months refer to it too
    (their keys are real keys)."""
    db.session.execute(text("UPDATE import_record SET store_id = NULL"))
    db.session.execute(text("DELETE FROM fact_day"))
    db.session.execute(text("DELETE FROM fact_pick"))
    db.session.execute(text("DELETE FROM fact_month"))
    db.session.commit()


def missing_id(model):
    return db.session.execute(select(func.coalesce(func.max(model.id), 0))).scalar() + 1000


@pytest.mark.parametrize("stage_limit", [0, 1], ids=["in_memory", "staged"])
def test_an_import_writing_an_unknown_store_is_refused(app, monkeypatch, stage_limit):
    """The real import: in memory (COPY on PostgreSQL, executemany on SQLite) and staged
    (INSERT ... SELECT), its store resolved to an id no store has (as if deleted meanwhile)."""
    current_app.config["IMPORT_STAGE_FACTS"] = stage_limit
    monkeypatch.setitem(current_app.config, "IMPORT_WRITE_ONCE", False)  # the chosen store's id is written
    shop, user = store(code="S1", currency="USD", timezone="UTC"), hr_user()
    gone, raised, write_facts = missing_id(Store), [], services.write_facts
    monkeypatch.setattr(services, "resolve_store", lambda *_args: (gone, None))

    def spied(*args):
        try:
            return write_facts(*args)
        except INTEGRITY as error:
            raised.append(error)
            raise
    monkeypatch.setattr(services, "write_facts", spied)
    record = start_import(REPORT, "br.csv", shop.id, user, date_from=D1, date_to=D1)
    assert record.status == "failed" and "foreign key constraint" in record.error.lower()
    assert len(raised) == 1 and refused(raised[0], STORE_KEY)
    assert fact_count() == 0


@pytest.mark.parametrize("direct", [True, False], ids=["into_metric_fact", "merged_on_conflict"])
def test_facts_of_an_unknown_import_are_refused(app, direct):
    """The import's writer (COPY on PostgreSQL, straight in or merged with ON CONFLICT DO UPDATE;
    executemany upsert on SQLite) with an import id no import has."""
    shop = store(code="S1", currency="USD", timezone="UTC")
    if not direct:
        import_report(shop, hr_user())  # the same keys exist: the merge updates them
    result = parse_file(REPORT, "br.csv", date_from=D1, date_to=D1, tz="UTC", currency="USD")
    rows = FactRows(result.facts, {code: shop.id for code in {f.store_code for f in result.facts}},
                    result.family, missing_id(ImportRecord))
    before = fact_count()
    conn = db.session.connection()
    with pytest.raises(INTEGRITY) as excinfo:
        if conn.dialect.name == "postgresql":
            services.copy_upsert(conn, rows, services.noop_progress, direct=direct)
        else:
            services.upsert(conn, services.fact_upsert("sqlite"), rows, services.noop_progress)
        db.session.flush()
    assert refused(excinfo, IMPORT_KEY)
    assert fact_count() == before


@pytest.mark.parametrize("column", ["store_id", "import_id"])
def test_an_update_to_an_unknown_id_is_refused(app, column):
    import_report(store(code="S1", currency="USD", timezone="UTC"), hr_user())
    gone = missing_id(Store if column == "store_id" else ImportRecord)
    with pytest.raises(IntegrityError) as excinfo:
        db.session.execute(text(f"UPDATE metric_fact SET {column} = :gone WHERE id IN "
                                "(SELECT min(id) FROM metric_fact)"), {"gone": gone})
    assert refused(excinfo, STORE_KEY if column == "store_id" else IMPORT_KEY)


def test_insert_select_of_an_unknown_import_is_refused(app):
    import_report(store(code="S1", currency="USD", timezone="UTC"), hr_user())
    with pytest.raises(IntegrityError) as excinfo:
        db.session.execute(text(
            "INSERT INTO metric_fact (store_id, family, business_date, period_end, sku, ref, measure, "
            "value, import_id, source_line) SELECT store_id, family, business_date, period_end, sku, "
            "'copy', measure, value, :gone, source_line FROM metric_fact"),
            {"gone": missing_id(ImportRecord)})
    assert refused(excinfo, IMPORT_KEY)


def test_a_store_or_import_with_facts_cannot_be_deleted(app):
    """As the keys' NO ACTION did; without facts the delete goes through."""
    shop, user = store(code="S1", currency="USD", timezone="UTC"), hr_user()
    shop_id, record_id = shop.id, import_report(shop, user).id
    only_facts_refer_to_the_store()
    facts = fact_count()
    for statement, key in ((f"DELETE FROM store WHERE id = {shop_id}", STORE_KEY),
                           (f"DELETE FROM import_record WHERE id = {record_id}", IMPORT_KEY)):
        with pytest.raises(IntegrityError) as excinfo:
            db.session.execute(text(statement))
        assert refused(excinfo, key)
        assert fact_count() == facts
    db.session.execute(text("DELETE FROM metric_fact"))
    db.session.execute(text("DELETE FROM fact_day"))
    db.session.execute(text(f"DELETE FROM import_file WHERE import_id = {record_id}"))
    db.session.execute(text(f"DELETE FROM import_record WHERE id = {record_id}"))
    db.session.commit()
    assert db.session.execute(select(func.count()).select_from(ImportRecord)).scalar() == 0


@postgresql_only  # SQLite has no DELETE inside WITH
def test_deleting_facts_and_their_import_in_one_statement_passes(app):
    """NO ACTION is checked at the end of the statement: a statement removing both is allowed."""
    record = import_report(store(code="S1", currency="USD", timezone="UTC"), hr_user())
    db.session.execute(text("DELETE FROM fact_day"))
    db.session.execute(text(f"DELETE FROM import_file WHERE import_id = {record.id}"))
    db.session.execute(text(
        f"WITH gone AS (DELETE FROM metric_fact WHERE import_id = {record.id}) "
        f"DELETE FROM import_record WHERE id = {record.id}"))
    db.session.commit()
    assert fact_count() == 0


@postgresql_only
def test_a_referenced_id_cannot_change_and_truncate_is_refused(app):
    """TRUNCATE ... CASCADE does not reach metric_fact (no key leads there): refused while it has rows."""
    shop = store(code="S1", currency="USD", timezone="UTC")
    import_report(shop, hr_user())
    only_facts_refer_to_the_store()
    for statement, key in ((f"UPDATE store SET id = {missing_id(Store)} WHERE id = {shop.id}", STORE_KEY),
                           ("TRUNCATE store CASCADE", None)):
        with pytest.raises(IntegrityError) as excinfo:
            db.session.execute(text(statement))
        assert refused(excinfo, key)
        db.session.rollback()
    db.session.execute(text(f"UPDATE store SET name = 'Renamed' WHERE id = {shop.id}"))  # no key change
    db.session.commit()


@postgresql_only
def test_a_row_written_straight_into_a_partition_is_checked(app):
    import_report(store(code="S1", currency="USD", timezone="UTC"), hr_user())
    with pytest.raises(IntegrityError) as excinfo:
        db.session.execute(text(
            f"INSERT INTO {partitions.SCHEMA}.{partitions.DEFAULT} (store_id, family, business_date, "
            "period_end, sku, ref, measure, value, import_id, source_line) SELECT :gone, family, "
            "'2031-01-01', '2031-01-01', sku, ref, measure, value, import_id, source_line "
            "FROM metric_fact LIMIT 1"),
            {"gone": missing_id(Store)})
    assert refused(excinfo, STORE_KEY)


def foreign_keys():
    return set(db.session.execute(text(
        "SELECT conname FROM pg_constraint WHERE contype = 'f' "
        "AND conrelid = 'metric_fact'::regclass")).scalars())


def fact_triggers():
    """{table: its statement-check triggers} for metric_fact and every partition."""
    rows = db.session.execute(text(
        "SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE tgfoid = to_regproc(:f)"),
        {"f": fact_refs.CHECK})
    found = {}
    for table, name in rows:
        found.setdefault(table, set()).add(name.rsplit("_", 1)[-1])
    return found


@postgresql_only
def test_the_checks_replace_the_keys_and_downgrade_restores_them(app):
    import_report(store(code="S1", currency="USD", timezone="UTC"), hr_user())  # makes a month partition
    db.session.commit()
    tables = ["metric_fact", *partitions.partition_tables(db.session.connection())]
    assert len(tables) >= 3  # DEFAULT and the import's month
    assert foreign_keys() == set()
    assert fact_triggers() == {table: {"insert", "update"} for table in tables}
    db.session.commit()
    downgrade(revision="0025")
    db.session.rollback()
    assert foreign_keys() == set(fact_refs.KEYS)
    assert fact_triggers() == {}
    db.session.commit()
    upgrade()
    db.session.rollback()
    assert foreign_keys() == set()
    assert set(fact_triggers()) == set(tables)


@postgresql_only
def test_facts_being_written_hold_their_store_as_the_key_did(app):
    """The check locks the store row FOR KEY SHARE until the writer ends (as RI does): a delete of
    that store waits for it, here past a short lock_timeout."""
    shop = store(code="S1", currency="USD", timezone="UTC")
    import_report(shop, hr_user())
    only_facts_refer_to_the_store()
    db.session.execute(text("DELETE FROM metric_fact"))
    db.session.commit()
    with db.engine.connect() as writer:
        writer.execute(text(
            "INSERT INTO metric_fact (store_id, family, business_date, period_end, measure, value, "
            "import_id, sku, ref, source_line) SELECT :s, 'x', '2025-03-01', '2025-03-01', 'units', 1, "
            "max(id), '', '', 1 FROM import_record"), {"s": shop.id})
        db.session.execute(text("SET LOCAL lock_timeout = '200ms'"))
        with pytest.raises(OperationalError) as excinfo:
            db.session.execute(text(f"DELETE FROM store WHERE id = {shop.id}"))
        assert excinfo.value.orig.sqlstate == "55P03"  # lock_not_available
        db.session.rollback()
        writer.rollback()
    db.session.execute(text(f"DELETE FROM store WHERE id = {shop.id}"))  # no fact refers to it now
    db.session.commit()
