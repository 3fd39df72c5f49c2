"""metric_fact month partitions (PostgreSQL; SQLite keeps one table): made on demand by an
import, ahead by `kpi partitions`, the DEFAULT partition emptied, old months detached."""
import json
from datetime import date

import pytest
from sqlalchemy import select, text

from kpiapp.extensions import db
from kpiapp.imports.services import start_import
from kpiapp.metrics import partitions
from kpiapp.models import AuditEvent, Store
from tests.conftest import PG_URL
from tests.imports.files import business_report, hr_user, store

D1 = date(2025, 3, 1)
ROWS = [("B0CHILD001", 510, 41, "$1,066.59")]


# the project's convention (tests/conftest.py PG_URL): each test runs under the database it is about
postgresql_only = pytest.mark.skipif(not PG_URL, reason="PostgreSQL only: SQLite keeps one table")


def cli(app, *args):
    return app.test_cli_runner().invoke(args=["kpi", "partitions", *args])


def import_day(day, shop=None, rows=ROWS):
    shop = shop or store(code="US-PART")
    return start_import(business_report(rows), f"BusinessReport-{day}.csv", shop.id, hr_user(),
                        date_from=day, date_to=day)


def holders():
    """{partition name: fact rows it holds}"""
    rows = db.session.execute(text("SELECT tableoid::regclass::text, count(*) FROM metric_fact GROUP BY 1"))
    return {name.split(".")[-1]: count for name, count in rows}


def put_in_default(day):
    """A fact written straight into the DEFAULT partition, as when its month was not made in time."""
    import_day(D1)
    db.session.execute(text(
        f"INSERT INTO {partitions.SCHEMA}.{partitions.DEFAULT} (store_id, family, business_date, period_end, "
        "sku, ref, measure, value, import_id, source_line) SELECT store_id, family, :d, :d, sku, ref, measure, "
        "value, import_id, source_line FROM metric_fact LIMIT 1"), {"d": day})
    db.session.commit()


def actions():
    return [e.action for e in db.session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars()]


@pytest.mark.skipif(bool(PG_URL), reason="SQLite only: PostgreSQL has the partitions tested below")
def test_sqlite_keeps_one_table(app):
    assert partitions.ensure_month_partitions(db.session, D1, date(2025, 6, 30)) == []
    assert import_day(D1).status == "committed"
    result = cli(app, "--ahead", "2")
    assert result.exit_code == 0, result.output
    assert "months made: none; rows in DEFAULT: 0" in result.output


@postgresql_only
def test_an_import_makes_its_month_partition(app):
    assert date(2025, 3, 1) not in partitions.attached_months(db.session.connection())
    record = import_day(D1)
    assert record.status == "committed", record.error
    assert date(2025, 3, 1) in partitions.attached_months(db.session.connection())
    assert holders() == {"metric_fact_2025_03": record.facts_written}


@postgresql_only
def test_reimport_replaces_inside_the_month_partition(app):
    first = import_day(D1)
    again = start_import(business_report([("B0CHILD001", 600, 50, "$1,200.00")]), "BusinessReport-again.csv",
                         first.store_id, hr_user(), date_from=D1, date_to=D1)
    assert again.status == "committed", again.error
    assert again.facts_replaced == again.facts_written
    assert holders() == {"metric_fact_2025_03": first.facts_written}


@postgresql_only
def test_scheduled_run_makes_months_ahead_and_empties_default(app):
    put_in_default(date(2024, 11, 15))
    assert holders()["metric_fact_default"] == 1
    db.session.rollback()  # the test's reading transaction would hold the DEFAULT partition
    result = cli(app, "--ahead", "2")
    assert result.exit_code == 0, result.output
    this_month = partitions.month_of(date.today())
    wanted = {partitions.add_months(this_month, n) for n in range(3)} | {date(2024, 11, 1)}
    assert wanted <= partitions.attached_months(db.session.connection())
    assert "rows in DEFAULT: 0" in result.output
    assert holders().get("metric_fact_default") is None and holders()["metric_fact_2024_11"] == 1
    assert "metric_fact.partitions" in actions()
    assert "months made: none" in cli(app, "--ahead", "2").output  # idempotent


@postgresql_only
def test_scheduled_run_as_a_job_leaves_one_job_row(app):
    from kpiapp.models import JobRun

    result = cli(app, "--ahead", "1", "--queue")
    assert result.exit_code == 0, result.output
    run = db.session.execute(select(JobRun).filter_by(kind="partitions")).scalar_one()
    assert str(run.status) == "done" and run.subject_id == 1
    assert partitions.month_of(date.today()) in partitions.attached_months(db.session.connection())


@postgresql_only
def test_locked_default_partition_leaves_the_rows_in_default(app, monkeypatch):
    monkeypatch.setattr(partitions, "LOCK_TIMEOUT", "200ms")
    import_day(D1)
    with db.engine.connect() as other:
        other.execute(text(f"LOCK TABLE {partitions.SCHEMA}.{partitions.DEFAULT} IN ACCESS SHARE MODE"))
        assert partitions.ensure_month_partitions(db.session, date(2025, 5, 1), date(2025, 5, 1)) == []
        other.rollback()
    assert date(2025, 5, 1) not in partitions.attached_months(db.session.connection())
    db.session.rollback()
    assert partitions.ensure_month_partitions(db.session, date(2025, 5, 1), date(2025, 5, 1)) == [date(2025, 5, 1)]


@postgresql_only
def test_detach_archives_a_month(app):
    record = import_day(D1)
    db.session.rollback()
    result = cli(app, "--detach", "2025-03")
    assert result.exit_code == 0, result.output
    assert "detached into fact_archive.metric_fact_2025_03" in result.output
    assert holders() == {}
    archived = db.session.execute(text("SELECT count(*) FROM fact_archive.metric_fact_2025_03")).scalar()
    assert archived == record.facts_written
    assert "metric_fact.detached" in actions()
    assert "nothing detached" in cli(app, "--detach", "2025-03").output


@postgresql_only
def test_a_large_import_analyses_the_months_it_wrote(app):
    def analysed(name):
        return db.session.execute(text("SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables "
                                       "WHERE relname = :name"), {"name": name}).scalar()

    app.config["ANALYZE_AFTER_FACTS"] = 2
    record = import_day(D1)
    assert record.status == "committed" and record.facts_written >= 2
    assert analysed("metric_fact_2025_03")
    # fewer rows than the setting: left to autovacuum
    assert partitions.analyze_for_facts(db.session.connection(), [{"business_date": D1}], 2) == []


def fill_month(day, count, first=1):
    """`count` more facts on `day` (SKUs FILL<first>-…, the rest of the first fact there), written
    without an ANALYZE."""
    db.session.execute(text(
        "INSERT INTO metric_fact (store_id, family, business_date, period_end, sku, ref, measure, value, "
        "import_id, source_line) SELECT store_id, family, :d, :d, 'FILL' || g || '-' || :d, ref, measure, "
        "value, import_id, source_line FROM (SELECT * FROM metric_fact LIMIT 1) f, generate_series(:f, :f + :n - 1) g"),
        {"d": day, "n": count, "f": first})


def march_stats(column):
    """(n_distinct, the values) of one column in March's statistics."""
    found = db.session.execute(text(
        "SELECT n_distinct, coalesce(most_common_vals::text, '') || coalesce(histogram_bounds::text, '') "
        "FROM pg_stats WHERE tablename = 'metric_fact_2025_03' AND attname = :c"), {"c": column}).one()
    return tuple(found)


def a_big_march():
    """March with a fact imported and 2,000 more on 2 March, analysed; returns the store."""
    record = import_day(D1)
    fill_month(date(2025, 3, 2), 2000)
    partitions.analyze_for_facts(db.session.connection(), [{"business_date": D1}], 1, 0.0)
    db.session.commit()
    assert march_stats("import_id")[0] == 1 and "2025-03-02" in march_stats("business_date")[1]
    return db.session.get(Store, record.store_id)


@postgresql_only
def test_an_import_into_a_month_that_has_not_grown_enough_analyses_its_days_only(app):
    """A tenth of the rows the statistics counted is no longer enough for the whole ANALYZE
    (the old share rule ran it): March has to grow by ANALYZE_AFTER_GROWTH (default 1.0:
    double) first. Its new day is analysed (the date columns), the other columns are not."""
    app.config["ANALYZE_AFTER_FACTS"] = 1
    shop = a_big_march()
    many = [(f"B0CHILD{n:03d}", 510, 41, "$1,066.59") for n in range(100)]
    record = import_day(date(2025, 3, 4), shop, many)
    assert record.status == "committed" and 200 <= record.facts_written <= 1000
    assert march_stats("import_id")[0] == 1  # not analysed: the new import is not in them
    assert "2025-03-04" in march_stats("business_date")[1]


@postgresql_only
def test_an_import_of_days_the_statistics_hold_analyses_nothing(app):
    app.config["ANALYZE_AFTER_FACTS"] = 1
    shop = a_big_march()
    before = march_stats("business_date"), march_stats("period_end")
    rows = [{"business_date": date(2025, 3, 2)}]
    assert partitions.analyze_for_facts(db.session.connection(), rows, 1, 1.0) == []
    assert import_day(D1, shop).status == "committed"
    assert (march_stats("business_date"), march_stats("period_end")) == before


@postgresql_only
def test_a_month_that_grew_past_the_threshold_is_analysed_by_a_small_import(app):
    """Small imports that each add less than a tenth are still analysed whole once the month
    has doubled since its statistics (the old share rule never analysed them)."""
    app.config["ANALYZE_AFTER_FACTS"] = 1
    shop = a_big_march()
    fill_month(date(2025, 3, 2), 2100, first=2001)  # more than doubled, without an ANALYZE
    db.session.commit()
    record = import_day(date(2025, 3, 2), shop)  # a day the statistics hold
    assert record.status == "committed" and record.facts_written < 200
    assert march_stats("import_id")[0] == 2


@postgresql_only
def test_a_months_growth_counts_the_import_s_own_rows_in_its_transaction(app):
    """The pages are read inside the import's transaction, so its own rows count before its
    commit; a growth of 0 analyses a month on any new page, and a month analysed never again
    until then."""
    app.config["ANALYZE_AFTER_FACTS"] = 1
    import_day(D1)
    conn = db.session.connection()
    rows = [{"business_date": D1}]
    assert partitions.analyze_for_facts(conn, rows, 1, 0.0) == []  # analysed by the import
    fill_month(D1, 500)
    assert partitions.analyze_for_facts(conn, rows, 1, 0.0) == [("metric_fact_2025_03", partitions.ANALYZED)]
    assert partitions.analyze_for_facts(conn, rows, 1, 0.0) == []


@postgresql_only
def test_an_import_of_a_store_the_statistics_do_not_know_analyses_its_store_column(app):
    """March's statistics list one store (common values, no histogram): a second store's first
    day there would be planned as one row (docs/scaling.md, h-import6: nested loops over its
    17,000 facts ran for minutes). Its import analyses store_id too (and the dates only when
    its day is new); the other columns are not analysed."""
    app.config["ANALYZE_AFTER_FACTS"] = 1
    shop = a_big_march()
    assert march_stats("store_id")[1] == f"{{{shop.id}}}"
    other = store(code="US-PART2")
    many = [(f"B0CHILD{n:03d}", 510, 41, "$1,066.59") for n in range(100)]
    before = march_stats("business_date"), march_stats("period_end")
    record = import_day(date(2025, 3, 2), other, many)  # a day the statistics hold
    assert record.status == "committed"
    assert str(other.id) in march_stats("store_id")[1]
    assert (march_stats("business_date"), march_stats("period_end")) == before  # not analysed
    assert march_stats("import_id")[0] == 1  # not analysed: the new import is not in them
    rows = [{"business_date": date(2025, 3, 5)}]
    conn = db.session.connection()
    assert partitions.analyze_for_facts(conn, rows, 1, 1.0) == [("metric_fact_2025_03", partitions.DATES)]


@postgresql_only
def test_a_new_store_on_a_new_day_analyses_its_dates_and_store_column(app):
    app.config["ANALYZE_AFTER_FACTS"] = 1
    shop = a_big_march()
    many = [(f"B0CHILD{n:03d}", 510, 41, "$1,066.59") for n in range(100)]
    assert partitions.unknown_stores(db.session.connection(), ["metric_fact_2025_03"], {shop.id}) == set()
    other = store(code="US-PART2")
    unknown = partitions.unknown_stores(db.session.connection(), ["metric_fact_2025_03"], {shop.id, other.id})
    assert unknown == {"metric_fact_2025_03"}
    record = import_day(date(2025, 3, 4), other, many)  # a new day of a new store: both
    assert record.status == "committed"
    assert str(other.id) in march_stats("store_id")[1] and "2025-03-04" in march_stats("business_date")[1]
    assert march_stats("import_id")[0] == 1


def sku_values():
    """How many SKUs March's statistics name (common values and histogram bounds)."""
    return db.session.execute(text(
        "SELECT coalesce(array_length(most_common_vals::text::text[], 1), 0) "
        "+ coalesce(array_length(histogram_bounds::text::text[], 1), 0) "
        "FROM pg_stats WHERE tablename = 'metric_fact_2025_03' AND attname = 'sku'")).scalar_one()


@postgresql_only
def test_a_months_first_analyze_takes_a_tenth_of_the_sample_and_its_growth_the_default(app):
    """A month never analysed (made by this import) is analysed from a tenth of the default
    sample (FIRST_SAMPLE: at most 10 common values and 11 histogram bounds a column); once it
    has grown by ANALYZE_AFTER_GROWTH, at the default sample (here: every SKU named)."""
    app.config["ANALYZE_AFTER_FACTS"] = 1
    many = [(f"B0CHILD{n:03d}", 510, 41, "$1,066.59") for n in range(100)]
    assert import_day(D1, rows=many).status == "committed"
    assert 0 < sku_values() <= 21
    fill_month(D1, 2000)
    rows = [{"business_date": D1}]
    assert partitions.analyze_for_facts(db.session.connection(), rows, 1, 1.0) == [
        ("metric_fact_2025_03", partitions.ANALYZED)]
    assert sku_values() > 21
    assert partitions.sample_for(partitions.ANALYZED, -1) == partitions.FIRST_SAMPLE
    assert partitions.sample_for(partitions.ANALYZED, 500) == {}
    assert partitions.sample_for(partitions.DATES, 500) == partitions.DATES_SAMPLE


def test_to_analyze_weighs_growth_then_the_last_day():
    day, later = date(2025, 3, 5), date(2025, 3, 6)
    every, dates = partitions.ANALYZED, partitions.DATES
    assert partitions.to_analyze(-1, 0, 0, None, day, 1.0) == every  # never analysed
    assert partitions.to_analyze(0, 0, 1, None, day, 1.0) == every  # analysed empty, has rows now
    assert partitions.to_analyze(5000, 100, 200, day, day, 1.0) == every
    assert partitions.to_analyze(5000, 100, 199, day, day, 1.0) == ()
    assert partitions.to_analyze(5000, 100, 199, day, later, 1.0) == dates
    assert partitions.to_analyze(5000, 100, 149, day, day, 0.5) == ()
    assert partitions.to_analyze(5000, 100, 150, day, day, 0.5) == every
    assert partitions.to_analyze(5000, 100, 100, day, day, 0.0) == ()
    assert partitions.to_analyze(5000, 100, 101, day, day, 0.0) == every
    stores = partitions.STORES  # a store the statistics do not know: its column too, with the dates when new
    assert partitions.to_analyze(5000, 100, 199, day, day, 1.0, True) == stores
    assert partitions.to_analyze(5000, 100, 199, day, later, 1.0, True) == dates + stores
    assert partitions.to_analyze(5000, 100, 200, day, later, 1.0, True) == every


def cron_once(app, name):
    return app.test_cli_runner().invoke(args=["kpi", "cron", "--once", name])


@pytest.mark.skipif(bool(PG_URL), reason="SQLite only: PostgreSQL has the partitions tested below")
def test_scheduled_partitions_entry_is_a_no_op_on_sqlite(app):
    import_day(D1)
    from workers.scheduled import partitions as scheduled_partitions

    assert scheduled_partitions() == ([], 0)
    result = cron_once(app, "partitions")
    assert result.exit_code == 0, result.output
    assert "metric_fact.partitions" not in actions()


@postgresql_only
def test_scheduled_partitions_entry_makes_months_and_empties_default(app):
    put_in_default(date(2024, 10, 15))
    db.session.rollback()
    result = cron_once(app, "partitions")
    assert result.exit_code == 0, result.output
    this_month = partitions.month_of(date.today())
    wanted = {partitions.add_months(this_month, n) for n in range(4)} | {date(2024, 10, 1)}
    assert wanted <= partitions.attached_months(db.session.connection())
    assert holders().get("metric_fact_default") is None and holders()["metric_fact_2024_10"] == 1
    event = db.session.execute(select(AuditEvent).filter_by(action="metric_fact.partitions")).scalar_one()
    after = json.loads(event.after_json)
    assert after["rows_in_default"] == 0 and "2024-10" in after["months_made"] and event.actor == "system"
