"""The connector framework end to end with a tiny test connector (tests/connectors/testshop.py)
and the in-process stand-in: pulls become imports, idempotent, all or nothing, locked per store."""
import json
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text

from kpiapp.connectors import services
from kpiapp.connectors.fake import common, data
from kpiapp.extensions import db
from kpiapp.imports.services import start_import
from kpiapp.models import AuditEvent, ConnectionPull, ImportRecord, JobRun, MetricFact, StoreConnection
from kpiapp.models.connectors import ConnectionStatus, PullStatus
from tests.connectors import testshop
from tests.connectors.conftest import connect_testshop

DAY = date(2026, 11, 20)


def facts(store_id):
    rows = db.session.execute(select(MetricFact).where(MetricFact.store_id == store_id)).scalars().all()
    return {(f.business_date, f.sku, f.measure): f.value for f in rows}


def fact_count():
    return db.session.execute(select(func.count()).select_from(MetricFact)).scalar()


def fail(stand_in, failure):
    with stand_in.app_context():
        common.set_failure(testshop.PLATFORM, failure)


def test_credentials_are_sealed_at_rest_and_masked_in_audit(shop):
    connection = connect_testshop(shop)
    raw = db.session.execute(text("SELECT credentials_sealed, settings FROM store_connection")).one()
    assert testshop.CLIENT["client_secret"] not in raw[0] and testshop.REFRESH not in raw[0]
    assert connection.credentials["client_secret"] == testshop.CLIENT["client_secret"]
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "store_connection.create")).scalar_one()
    assert json.loads(event.after_json)["credentials_sealed"] == "***"
    assert testshop.CLIENT["client_secret"] not in event.after_json


def test_connect_keeps_credentials_left_empty(shop):
    connection = connect_testshop(shop)
    services.connect(shop, "testshop", {}, {"client_secret": "", "client_id": "other"})
    db.session.commit()
    assert connection.credentials == {**testshop.CLIENT, "client_id": "other", "refresh_token": testshop.REFRESH}


def test_sync_pulls_a_day_into_facts_and_keeps_rotated_tokens(shop, wire):
    connect_testshop(shop)
    [pull] = services.sync("AMZ-US", DAY, DAY)
    assert pull.status == PullStatus.done, pull.detail
    record = db.session.get(ImportRecord, pull.import_ids[0])
    assert record.status == "committed" and record.uploaded_by_id is None and record.store_id == shop.id
    assert pull.facts == record.facts_written > 0
    tokens = db.session.get(StoreConnection, pull.connection_id).tokens
    assert tokens["refresh_token"] != testshop.REFRESH and tokens["access_token"]


def test_a_pulled_day_equals_the_uploaded_day(shop, wire, app):
    connect_testshop(shop)
    [pull] = services.sync("AMZ-US", DAY, DAY)
    pulled = facts(shop.id)
    db.session.execute(db.delete(MetricFact))
    db.session.commit()
    upload = json.dumps(data.sales_traffic("AMZ-US", DAY, DAY)).encode()
    record = start_import(upload, "sales_traffic.json", shop.id, None)
    assert record.status == "committed", record.error
    assert facts(shop.id) == pulled and pulled


def test_the_same_day_pulled_twice_is_one_set_of_facts(shop, wire):
    connect_testshop(shop)
    first = services.sync("AMZ-US", DAY, DAY + timedelta(days=1))[0]
    count = fact_count()
    second = services.sync("AMZ-US", DAY, DAY + timedelta(days=1))[0]
    assert second.status == PullStatus.done and fact_count() == count
    assert second.import_ids == first.import_ids  # the same bytes are the same import


@pytest.mark.parametrize("failure, code", [("truncated", "truncated"), ("fatal", "report_fatal"),
                                           ("expired_token", "auth_expired")])
def test_a_failed_report_leaves_nothing_written(shop, wire, stand_in, failure, code):
    connection = connect_testshop(shop)
    fail(stand_in, failure)
    [pull] = services.sync("AMZ-US", DAY, DAY + timedelta(days=2))
    assert (pull.status, pull.failure) == (PullStatus.failed, code)
    assert fact_count() == 0 and db.session.execute(select(func.count()).select_from(ImportRecord)).scalar() == 0
    db.session.refresh(connection)
    assert connection.last_error == code
    reconnect = code == "auth_expired"
    assert (connection.status == ConnectionStatus.needs_reconnect) == reconnect
    assert code in services.FAILURE_WORDS


def test_throttled_pull_backs_off_then_succeeds(shop, stand_in):
    connect_testshop(shop)
    stand_in.extensions["fake_marketplace"].limit = 1  # the second request within a second is refused
    from kpiapp.connectors.fake.transport import session_for
    from kpiapp.connectors import http

    waits = []
    session = session_for(stand_in, "http://stand-in.test")
    clock = [1000.0]
    stand_in.extensions["fake_marketplace"].now = lambda: clock[0]

    def sleep(seconds):
        waits.append(seconds)
        clock[0] += seconds

    original = http.Client.__init__

    def patched(self, session=None, **kwargs):
        original(self, session=session, sleep=sleep, rand=lambda: 0.5)

    http.Client.__init__ = patched
    try:
        [pull] = services.sync("AMZ-US", DAY, DAY, session=session)
    finally:
        http.Client.__init__ = original
    assert pull.status == PullStatus.done, pull.detail
    assert waits and all(w >= 1 for w in waits)  # Retry-After: 1


def test_run_due_launches_pull_jobs_and_not_again_until_the_interval(shop, wire):
    connect_testshop(shop, every_minutes=60)
    now = datetime(2026, 11, 22, 3, 0, tzinfo=timezone.utc)
    [pull_id] = services.run_due(now)
    pull = db.session.get(ConnectionPull, pull_id)
    assert pull.status == PullStatus.done, pull.detail
    assert (pull.date_from, pull.date_to) == (date(2026, 11, 15), date(2026, 11, 21))  # first pull: 7 days
    job = db.session.execute(select(JobRun).where(JobRun.kind == "pull")).scalar_one()
    assert (job.subject_id, job.status) == (pull_id, "done")
    assert services.run_due(now + timedelta(minutes=30)) == []


def test_the_next_range_starts_at_the_last_pulled_day(shop, wire):
    connection = connect_testshop(shop)
    services.sync("AMZ-US", DAY, DAY)
    now = datetime(2026, 11, 25, 3, 0, tzinfo=timezone.utc)
    assert services.default_range(connection, "sales", now) == (DAY, date(2026, 11, 24))
    far = now + timedelta(days=90)
    first, last = services.default_range(connection, "sales", far)
    assert (last - first).days == services.MAX_CATCH_UP_DAYS - 1


def test_ads_are_pulled_for_the_trailing_14_days(shop):
    connection = connect_testshop(shop)
    now = datetime(2026, 11, 25, 3, 0, tzinfo=timezone.utc)
    assert services.default_range(connection, "ads", now) == (date(2026, 11, 11), date(2026, 11, 24))


def test_two_pulls_of_one_store_never_overlap(shop, wire):
    connection = connect_testshop(shop)
    pull = services.new_pull(connection, "sales", DAY, DAY)
    db.session.commit()
    with services.store_lock(shop.id) as held:
        assert held
        with services.store_lock(shop.id) as second:
            assert not second
        busy = services.run_pull(pull.id)
        assert (busy.status, busy.failure) == (PullStatus.failed, "busy")
    pull = services.new_pull(connection, "sales", DAY, DAY)
    db.session.commit()
    assert services.run_pull(pull.id).status == PullStatus.done


def test_stale_connections(shop, wire):
    connection = connect_testshop(shop, freshness_hours=24)
    later = connection.created_at + timedelta(hours=25)
    assert [s.kind for s in services.stale_connections(later)] == ["sales"]
    [pull] = services.sync("AMZ-US", DAY, DAY)
    soon = pull.finished_at + timedelta(hours=1)
    assert services.stale_connections(soon) == []
    [state] = services.kind_states(soon)
    assert state.data_as_of == DAY and not state.stale
    assert services.stale_store_ids(pull.finished_at + timedelta(hours=25)) == {shop.id}


def test_a_successful_pull_clears_the_reconnect_flag(shop, wire, stand_in):
    connection = connect_testshop(shop)
    fail(stand_in, "expired_token")
    services.sync("AMZ-US", DAY, DAY)
    db.session.refresh(connection)
    assert connection.status == ConnectionStatus.needs_reconnect
    fail(stand_in, None)
    assert services.sync("AMZ-US", DAY, DAY)[0].status == PullStatus.done
    db.session.refresh(connection)
    assert (connection.status, connection.last_error) == (ConnectionStatus.connected, None)


def test_a_long_sp_api_sales_catch_up_gets_the_time_it_needs(shop):
    connection = services.connect(shop, "amazon_sp", {"marketplace_id": "ATVPDKIKX0DER"},
                                  {"client_id": "a", "client_secret": "b", "refresh_token": "c"})
    db.session.commit()
    month = (date(2026, 10, 1), date(2026, 10, 30))
    assert services.pull_timeout(connection, "sales", *month) == 30 * 120 + services.PULL_SLACK
    assert services.pull_timeout(connection, "orders", *month) == services.PULL_JOB_TIMEOUT  # one report
    assert services.pull_timeout(connection, "sales", DAY, DAY) == services.PULL_JOB_TIMEOUT
    pull = services.new_pull(connection, "sales", *month)
    pull.status = PullStatus.running
    db.session.commit()
    started = pull.created_at
    assert not services.is_due(connection, "sales", started + timedelta(minutes=65))  # within its 70 min
    assert services.is_due(connection, "sales", started + timedelta(minutes=71))  # lost with its worker
