"""A day pulled through the connectors and the same day's uploaded report give the same
metric_fact rows (issue 15: Amazon Sales and Traffic and Ads), and a re-pull changes nothing."""
import gzip
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kpiapp.connectors.base import DataKind
from kpiapp.connectors.fake import amazon as fake
from kpiapp.extensions import db
from kpiapp.imports.services import start_import
from kpiapp.models import ImportStatus, MetricFact
from tests.connectors.test_amazon_connectors import DAY, ads, server, sp, stand_in  # noqa: F401 (fixtures)
from tests.imports.files import hr_user, store


@pytest.fixture
def stores(app):
    return {"uploaded": store(code="AMZ-UPLOADED"), "pulled": store(code="AMZ-PULLED"), "hr": hr_user()}


def upload(name, store_id, actor):
    record = start_import(fake.demo_files()[name], name, store_id, actor)
    assert record.status == ImportStatus.committed, record.error
    return record


def import_document(document, store_id):
    """What the sync service does with a pulled document (no actor: the pull made it)."""
    record = start_import(document.content, document.filename, store_id, None, parser=document.parser,
                          date_from=document.date_from, date_to=document.date_to)
    assert record.status == ImportStatus.committed, record.error
    return record


def facts(store_id, first, last):
    rows = db.session.execute(select(MetricFact).where(
        MetricFact.store_id == store_id, MetricFact.business_date.between(first, last))).scalars()
    return {(f.family, f.business_date, f.period_end, f.sku, f.ref, f.measure): (f.value, f.currency)
            for f in rows}


def fact_count(store_id):
    return db.session.execute(select(func.count()).where(MetricFact.store_id == store_id)).scalar()


def test_a_pulled_sales_and_traffic_day_equals_the_uploaded_report_of_that_day(stores, stand_in):
    upload("sales_traffic_AMZ-US_2026-11.json", stores["uploaded"].id, stores["hr"])
    [document] = sp(stand_in)[0].pull(DataKind.sales, DAY, DAY)
    record = import_document(document, stores["pulled"].id)
    uploaded = facts(stores["uploaded"].id, DAY, DAY)
    pulled = facts(stores["pulled"].id, DAY, DAY)
    assert len(pulled) >= 8 and record.facts_written == len(pulled)
    assert pulled == uploaded


def test_pulled_ads_days_equal_the_uploaded_console_report_of_those_days(stores, stand_in):
    upload("sp_campaigns_AMZ-US_2026-11.csv", stores["uploaded"].id, stores["hr"])
    [document] = ads(stand_in)[0].pull(DataKind.ads, DAY, DAY)
    import_document(document, stores["pulled"].id)
    first = DAY - timedelta(days=13)
    pulled = facts(stores["pulled"].id, first, DAY)
    assert len(pulled) == 14 * 3 * 5  # days x campaigns x (impressions, clicks, spend, orders, sales)
    assert pulled == facts(stores["uploaded"].id, first, DAY)


def test_a_pull_over_an_uploaded_day_replaces_it_instead_of_adding_to_it(stores, stand_in):
    shop = stores["uploaded"].id
    upload("sp_campaigns_AMZ-US_2026-11.csv", shop, stores["hr"])
    upload("sales_traffic_AMZ-US_2026-11.json", shop, stores["hr"])
    before = facts(shop, DAY - timedelta(days=13), DAY)
    count = fact_count(shop)
    pulled = [import_document(d, shop) for d in ads(stand_in)[0].pull(DataKind.ads, DAY, DAY)]
    pulled += [import_document(d, shop) for d in sp(stand_in)[0].pull(DataKind.sales, DAY, DAY)]
    assert fact_count(shop) == count
    assert facts(shop, DAY - timedelta(days=13), DAY) == before
    assert sum(r.facts_replaced for r in pulled) == sum(r.facts_written for r in pulled) > 0


def test_the_same_day_pulled_twice_is_one_set_of_facts(stores, stand_in):
    shop = stores["pulled"].id
    first = [import_document(d, shop) for d in sp(stand_in)[0].pull(DataKind.sales, DAY, DAY)]
    count = fact_count(shop)
    again = [import_document(d, shop) for d in sp(stand_in)[0].pull(DataKind.sales, DAY, DAY)]
    assert fact_count(shop) == count > 0
    assert [r.id for r in again] == [r.id for r in first]  # the same bytes: the same import record


def test_a_re_pull_in_other_bytes_replaces_the_days_facts_one_for_one(stores, stand_in):
    shop = stores["pulled"].id
    [document] = sp(stand_in)[0].pull(DataKind.sales, DAY, DAY)
    import_document(document, shop)
    before = facts(shop, DAY, DAY)
    regzipped = replace(document, content=gzip.compress(gzip.decompress(document.content), mtime=1))
    record = import_document(regzipped, shop)
    assert record.facts_written == record.facts_replaced == len(before)
    assert facts(shop, DAY, DAY) == before
