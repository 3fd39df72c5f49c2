"""The import service end to end, in-process (no Redis): idempotent and all or nothing."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import event, func, select, text

from kpiapp.extensions import db, settings_for_one_statement
from kpiapp.imports.fact_rows import FactRows
from kpiapp.imports.services import (ImportRejected, create_record_and_job, find_overlap, job_run, overlap_query,
                                     run_import, start_import)
from kpiapp.models import AuditEvent, FxRate, ImportRecord, JobRun, MetricFact
from kpiapp.parsers import parse_file
from tests.conftest import PG_URL
from tests.imports.files import (ads_report, business_report, fx_file, generic_file, hr_user,
                                 orders_report, store)

D1, D2 = date(2025, 3, 1), date(2025, 3, 2)
O = "111-0000000-000000"  # an Amazon order id without its last digit
BAD_ADS_ROW = (D2, "Camp A", "lots", 40, "20.00", "80.00")


def facts(**where):
    rows = db.session.execute(select(MetricFact).filter_by(**where)).scalars().all()
    return {(f.business_date, f.sku, f.ref, f.measure): f.value for f in rows}


def fact_count():
    return db.session.execute(select(func.count()).select_from(MetricFact)).scalar()


def import_br(shop, user, data, day_from=D1, day_to=D1, **kwargs):
    return start_import(data, "BusinessReport.csv", shop.id, user, date_from=day_from, date_to=day_to,
                        **kwargs)


@pytest.fixture
def shop(app):
    return store(code="US-MAIN")


@pytest.fixture
def user(app):
    return hr_user()


def test_business_report_writes_exact_values(shop, user):
    record = import_br(shop, user, business_report([("B0CHILD001", 510, 41, "$1,066.59"),
                                                    ("B0CHILD002", 100, 5, "$100.00")]))
    assert record.status == "committed", record.error
    counts = (record.rows_read, record.facts_written, record.facts_replaced, record.rows_rejected)
    assert counts == (2, 10, 0, 0)
    values = facts(store_id=shop.id)
    assert values[(D1, "B0CHILD001", "", "ordered_sales")] == Decimal("1066.59")
    assert values[(D1, "B0CHILD001", "", "sessions")] == 510
    assert values[(D1, "B0CHILD002", "", "units_ordered")] == 5
    assert record.family == "amazon_sales_traffic" and record.parser == "amazon_business_report"
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "import.committed")).scalar_one()
    assert '"facts_written":10' in event.after_json and event.actor == user.email


def test_same_file_twice_gives_one_record(shop, user):
    data = business_report([("B0CHILD001", 510, 41, "$1,066.59")])
    first = import_br(shop, user, data)
    count = fact_count()
    second = import_br(shop, user, data)
    assert second.id == first.id and second.status == "committed"
    assert db.session.execute(select(func.count()).select_from(ImportRecord)).scalar() == 1
    assert fact_count() == count


def test_running_the_job_again_is_a_no_op(shop, user):
    record = import_br(shop, user, business_report([("B0CHILD001", 510, 41, "$1,066.59")]))
    finished = record.finished_at
    assert run_import(record.id).status == "committed"
    db.session.refresh(record)
    assert record.finished_at == finished and fact_count() == 5


def test_overlapping_daily_ads_files_replace_not_double_count(shop, user):
    first = start_import(ads_report([(D1, "Camp A", 1000, 50, "25.50", "100.00"),
                                     (D2, "Camp A", 900, 40, "20.00", "80.00")]), "ads1.csv", shop.id, user)
    second = start_import(ads_report([(D2, "Camp A", 950, 42, "21.00", "90.00"),
                                      (date(2025, 3, 3), "Camp A", 800, 30, "15.00", "0")]),
                          "ads2.csv", shop.id, user)
    assert (first.status, second.status) == ("committed", "committed")
    assert (second.facts_written, second.facts_replaced) == (8, 4)
    values = facts(store_id=shop.id, measure="ad_spend")
    assert values == {(D1, "", "Camp A", "ad_spend"): Decimal("25.50"),
                      (D2, "", "Camp A", "ad_spend"): Decimal("21.00"),
                      (date(2025, 3, 3), "", "Camp A", "ad_spend"): Decimal("15.00")}
    assert fact_count() == 12


def test_order_status_change_replaces_values(shop, user):
    pending = orders_report([(O + "1", "2025-03-01", "Pending", "SKU1", 2, "40.00")])
    start_import(pending, "o1.txt", shop.id, user)
    second = start_import(orders_report([(O + "1", "2025-03-01", "Cancelled", "SKU1", 2, "40.00")]),
                          "o2.txt", shop.id, user)
    assert second.status == "committed" and second.facts_replaced == second.facts_written == 7
    assert facts(store_id=shop.id, measure="units_cancelled")[(D1, "SKU1", O + "1", "units_cancelled")] == 2


def test_one_bad_row_fails_and_writes_nothing(shop, user):
    data = ads_report([(D1, "Camp A", 1000, 50, "25.50", "100.00"), BAD_ADS_ROW])
    record = start_import(data, "ads.csv", shop.id, user)
    assert record.status == "failed" and record.error_code == "row_errors"
    assert fact_count() == 0 and record.facts_written == 0
    assert record.rows_rejected == 1 and record.errors[0]["line"] == 3


def test_allow_partial_writes_valid_rows_and_lists_rejected(shop, user):
    data = ads_report([(D1, "Camp A", 1000, 50, "25.50", "100.00"), BAD_ADS_ROW])
    record = start_import(data, "ads.csv", shop.id, user, allow_partial=True)
    assert record.status == "committed" and record.facts_written == 4 and fact_count() == 4
    assert record.rows_rejected == 1 and [e["line"] for e in record.errors] == [3]
    # the file has no orders column: the stored summary says so (warnings share the errors list)
    assert [(w["code"], w["params"]) for w in record.warnings] == [
        ("missing_measure", {"measure": "ad_orders"})]


@pytest.mark.parametrize("data, name, code", [
    (b"", "empty.csv", "empty_file"),
    (b"hello,world\n1,2\n", "x.csv", "unknown_format"),
    (b"\x00\x01\x02garbage\xff" * 20, "x.csv", "bad_encoding"),
    (b"{not json", "x.json", "bad_json"),
])
def test_garbage_fails_with_a_clear_message(shop, user, data, name, code):
    record = start_import(data, name, shop.id, user)
    assert record.status == "failed" and record.error_code == code and record.error
    assert fact_count() == 0


@pytest.mark.parametrize("data, name, code", [
    (b"PK\x03\x04rest", "report.csv", "extension_mismatch"),
    (b"a,b\n", "report.xlsx", "extension_mismatch"),
    (b"a,b\n", "report.exe", "bad_extension"),
])
def test_upload_checks_reject_before_storing(shop, user, data, name, code):
    with pytest.raises(ImportRejected) as caught:
        start_import(data, name, shop.id, user)
    assert caught.value.code == code
    assert db.session.execute(select(func.count()).select_from(ImportRecord)).scalar() == 0


def test_size_cap(app, shop, user):
    app.config["MAX_CONTENT_LENGTH"] = 10
    with pytest.raises(ImportRejected) as caught:
        start_import(b"x" * 11, "a.csv", shop.id, user)
    assert caught.value.code == "file_too_large"


def test_range_report_overlapping_a_different_range_is_rejected(shop, user):
    month = import_br(shop, user, business_report([("B0CHILD001", 510, 41, "$1,066.59")]),
                      date(2025, 3, 1), date(2025, 3, 31))
    week = import_br(shop, user, business_report([("B0CHILD001", 100, 4, "$99.00")]),
                     date(2025, 3, 8), date(2025, 3, 14))
    assert month.status == "committed"
    assert week.status == "failed" and week.error_code == "overlapping_range"
    assert f"#{month.id}" in week.error and fact_count() == 5
    day = import_br(shop, user, business_report([("B0CHILD001", 10, 1, "$9.00")]), date(2025, 3, 9),
                    date(2025, 3, 9))
    assert day.status == "failed" and day.error_code == "overlapping_range"


def test_same_range_replaces(shop, user):
    import_br(shop, user, business_report([("B0CHILD001", 510, 41, "$1,066.59")]), D1, date(2025, 3, 31))
    again = import_br(shop, user, business_report([("B0CHILD001", 600, 50, "$1,200.00")]), D1,
                      date(2025, 3, 31))
    assert again.status == "committed" and again.facts_replaced == 5 and fact_count() == 5
    assert facts(measure="sessions")[(D1, "B0CHILD001", "", "sessions")] == 600


def test_generic_template_with_store_column(app, user):
    us, de = store(code="US-1"), store(code="DE-1", currency="EUR")
    data = generic_file([("2025-03-01", "US-1", "SKU1", "cogs", "8.40", "USD"),
                         ("2025-03-01", "DE-1", "", "cs_messages", "12", ""),
                         ("2025-03-01", "XX-9", "", "cs_messages", "3", "")])
    record = start_import(data, "erp.csv", None, user, allow_partial=True)
    assert record.status == "committed" and record.facts_written == 2
    assert record.errors[0]["code"] == "unknown_store" and record.errors[0]["line"] == 4
    assert facts(store_id=de.id) == {(D1, "", "", "cs_messages"): 12}
    assert facts(store_id=us.id)[(D1, "SKU1", "", "cogs")] == Decimal("8.40")


def test_fx_import_upserts(app, user):
    first = start_import(fx_file([("2025-03-01", "EUR", "1.08"), ("2025-03-01", "GBP", "1.27")]), "fx.csv",
                         None, user, kind="fx")
    second = start_import(fx_file([("2025-03-01", "EUR", "1.09")]), "fx2.csv", None, user, kind="fx")
    assert (first.status, second.status) == ("committed", "committed")
    assert second.facts_replaced == 1
    rates = {r.currency: r.rate for r in db.session.execute(select(FxRate)).scalars()}
    assert rates == {"EUR": Decimal("1.09"), "GBP": Decimal("1.27")}


def test_a_failed_import_can_be_submitted_again(shop, user):
    data = ads_report([(D1, "Camp A", "lots", 50, "25.50", "100.00")])
    failed = start_import(data, "ads.csv", shop.id, user)
    again = start_import(data, "ads.csv", shop.id, user)
    assert failed.status == again.status == "failed" and again.id != failed.id


def test_a_report_without_dates_needs_the_range(shop, user):
    record = start_import(business_report([("B0CHILD001", 510, 41, "$1,066.59")]), "BusinessReport.csv",
                          shop.id, user)
    assert record.status == "failed" and record.error_code == "date_range_required"


def test_a_duplicate_that_missed_the_lookup_gets_the_first_record(shop, user):
    data = business_report([("B0CHILD001", 510, 41, "$1,066.59")])
    first = import_br(shop, user, data)
    racer, run = create_record_and_job(data, "again.csv", first.sha256, first.dedupe_key, "facts", shop.id,
                                       user, None, D1, D1, False)
    assert racer.id == first.id and run is None
    assert db.session.execute(select(func.count()).select_from(ImportRecord)).scalar() == 1


class FakeJob:
    """What RQ hands an on_failure callback: the job's meta and retries left."""

    def __init__(self, run, retries_left=None):
        self.meta, self.args, self.retries_left = {"job_run_id": run.id}, (run.id,), retries_left


def test_failure_callback_never_undoes_a_committed_import(shop, user):
    from workers.jobs import job_failed

    record = import_br(shop, user, business_report([("B0CHILD001", 510, 41, "$1,066.59")]))
    run = job_run(record)
    job_failed(FakeJob(run), None, RuntimeError, RuntimeError("late"), None)  # rq#2424
    db.session.expire_all()
    assert db.session.get(ImportRecord, record.id).status == "committed" and fact_count() == 5
    assert db.session.get(JobRun, run.id).status == "done"


def test_failure_callback_marks_a_running_import_failed(shop, user):
    from workers.jobs import job_failed

    record = import_br(shop, user, business_report([("B0CHILD001", 510, 41, "$1,066.59")]), D2, D2)
    run = job_run(record)
    record.status, run.status = "running", "running"
    db.session.commit()
    job_failed(FakeJob(run), None, RuntimeError, RuntimeError("boom"), None)
    assert db.session.get(ImportRecord, record.id).status == "failed"
    assert (run.status, run.reason) == ("failed", "job_failed")


def test_a_dead_running_import_does_not_block_the_same_file(shop, user):
    from datetime import datetime, timedelta, timezone

    data = business_report([("B0CHILD001", 510, 41, "$1,066.59")])
    first = import_br(shop, user, data)
    first.status, first.started_at = "running", datetime.now(timezone.utc) - timedelta(hours=2)
    db.session.commit()
    second = import_br(shop, user, data)
    assert second.id != first.id and second.status == "committed"
    assert db.session.get(ImportRecord, first.id).error_code == "abandoned"


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL only: SQLite stores the bytes uncompressed")
def test_the_upload_is_stored_with_lz4_and_read_back_whole(shop, user):
    """Migration 0035: the upload's bytes go to TOAST compressed with lz4, not the server's
    default pglz (a fifth of the CPU to store them), and the job reads back the same bytes."""
    data = business_report([(f"B0CHILD{n:03d}", 100 + n, n % 7, f"${n}.99") for n in range(200)])
    record = import_br(shop, user, data)
    assert record.status == "committed", record.error
    stored, method = db.session.execute(text(
        "SELECT data, pg_column_compression(data) FROM import_file WHERE import_id = :i"), {"i": record.id}).one()
    assert (bytes(stored), method) == (data, "lz4")


def test_the_overlap_check_of_daily_facts_reads_the_index_of_range_facts(shop, user):
    """Migration 0035: for an import of daily facts find_overlap's query reads the partial index
    of range facts (ix_metric_fact_ranges; on PostgreSQL its copy on the month's partition),
    not every daily fact of the store and family, and still finds the week it overlaps. (At the
    bench's 238,000 facts in a month PostgreSQL picks it with every plan type allowed.)"""
    day_file = business_report([(f"B0CHILD{n:03d}", 100 + n, n % 7, f"${n}.99") for n in range(300)])
    for day in (D1, D2):
        assert import_br(shop, user, day_file, day, day).status == "committed"
    week = import_br(shop, user, business_report([("B0CHILD999", 1, 1, "$1.00")]), date(2025, 3, 3),
                     date(2025, 3, 9))
    assert week.status == "committed", week.error
    fifth = date(2025, 3, 5)
    rows = FactRows(parse_file(day_file, "BusinessReport.csv", date_from=fifth, date_to=fifth).facts,
                    {"": shop.id}, "amazon_sales_traffic", 0)
    conn = db.session.connection()
    query = overlap_query("amazon_sales_traffic", rows)
    sql = str(query.compile(conn, compile_kwargs={"literal_binds": True}))
    if conn.dialect.name == "postgresql":
        # 3,000 facts fit a few pages, which a seq scan reads cheaper than any index: off, the plan
        # shows which index the query can use and costs lowest (the natural key's also fits it)
        conn.execute(text("ANALYZE metric_fact"))
        with settings_for_one_statement(conn, enable_seqscan="off"):
            plan = "\n".join(conn.execute(text("EXPLAIN (COSTS OFF) " + sql)).scalars())
        assert "metric_fact_2025_03_store_id_family_business_date_idx" in plan, plan
    else:
        plan = "\n".join(str(row) for row in conn.execute(text("EXPLAIN QUERY PLAN " + sql)))
        assert "ix_metric_fact_ranges" in plan, plan
    assert {(row.business_date, row.period_end, row.import_id) for row in conn.execute(query)} == {
        (date(2025, 3, 3), date(2025, 3, 9), week.id)}
    statements = []
    event.listen(conn, "before_cursor_execute", lambda *args: statements.append((args[2], args[3])))
    assert "overlaps 2025-03-03..2025-03-09" in find_overlap(conn, "amazon_sales_traffic", rows)
    if conn.dialect.name == "postgresql":  # from the range index, serially; the settings put back after
        _, (before, before_params), (_, _), (after, after_params) = statements
        assert "set_config" in before and list(before_params.values()) == [
            "max_parallel_workers_per_gather", "0", True, "enable_seqscan", "off", True], statements
        assert "set_config" in after and list(after_params.values()) == [
            "max_parallel_workers_per_gather", "2", True, "enable_seqscan", "on", True], statements
