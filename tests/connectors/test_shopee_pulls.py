"""Shopee, TikTok and Lazada pulls through the connector service into facts (the in-process stand-in):
a pulled day equals the uploaded export's day, the same day pulled twice is one set of facts,
rotated refresh tokens are kept, a truncated response writes nothing."""
from datetime import date

import pytest
from sqlalchemy import func, select

from kpiapp.connectors import services
from kpiapp.connectors.fake import common
from kpiapp.connectors.fake import lazada as fake_lazada
from kpiapp.connectors.fake import shopee as fake_shopee
from kpiapp.connectors.fake import tiktok as fake_tiktok
from kpiapp.demo.marketplace import demo_uploads
from kpiapp.extensions import db
from kpiapp.imports.services import start_import
from kpiapp.models import ImportRecord, MetricFact, StoreConnection
from kpiapp.models.connectors import PullStatus
from tests.connectors.conftest import BASE
from tests.factories import StoreFactory

DAY = date(2026, 11, 20)
STORES = {"shopee": ("SHP-SG", "SGD", "Asia/Singapore", fake_shopee),
          "tiktok": ("TTS-UK", "GBP", "Europe/London", fake_tiktok),
          "lazada": ("LZD-MY", "MYR", "Asia/Kuala_Lumpur", fake_lazada)}
ITEM_MEASURES = ("units_ordered", "order_items", "ordered_sales", "units_cancelled", "cancelled_sales", "orders")


def connected(platform, kinds=("orders",)):
    code, currency, tz, module = STORES[platform]
    store = StoreFactory(code=code, platform=platform, currency=currency, timezone=tz)
    services.connect(store, platform, {**module.DEMO_SETTINGS[platform], "base_url": BASE},
                     module.DEMO_CREDENTIALS[platform], kinds=list(kinds))
    db.session.commit()
    return store


def facts(store_id, day=None):
    query = select(MetricFact).where(MetricFact.store_id == store_id, MetricFact.measure.in_(ITEM_MEASURES))
    if day:
        query = query.where(MetricFact.business_date == day)
    return {(f.business_date, f.sku, f.ref, f.measure): f.value for f in db.session.execute(query).scalars()}


def fact_count():
    return db.session.execute(select(func.count()).select_from(MetricFact)).scalar()


@pytest.mark.parametrize("platform, upload_prefix", [("shopee", "Order.all"), ("tiktok", "All order")])
def test_a_pulled_day_equals_the_uploaded_export(platform, upload_prefix, wire):
    store = connected(platform)
    [pull] = services.sync(store.code, DAY, DAY)
    assert pull.status == PullStatus.done, pull.detail
    pulled = facts(store.id, DAY)
    db.session.execute(db.delete(MetricFact))
    db.session.commit()
    upload = next(u for u in demo_uploads() if u.store == store.code and u.filename.startswith(upload_prefix))
    record = start_import(upload.data, upload.filename, store.id, None, **upload.options)
    assert record.status == "committed", record.error
    assert pulled and facts(store.id, DAY) == pulled


@pytest.mark.parametrize("platform", ["shopee", "tiktok", "lazada"])
def test_the_same_days_pulled_twice_are_one_set_of_facts(platform, wire):
    store = connected(platform)
    first = services.sync(store.code, DAY, date(2026, 11, 21))[0]
    assert first.status == PullStatus.done, first.detail
    count, before = fact_count(), facts(store.id)
    second = services.sync(store.code, DAY, date(2026, 11, 21))[0]
    assert second.status == PullStatus.done and fact_count() == count > 0 and facts(store.id) == before
    tokens = db.session.get(StoreConnection, second.connection_id).tokens
    assert tokens["refresh_token"] != STORES[platform][3].DEMO_CREDENTIALS[platform]["refresh_token"]


def test_shopee_escrow_pull_writes_payout_facts(wire):
    store = connected("shopee", kinds=("orders", "settlement"))
    [pull] = services.sync(store.code, DAY, DAY, kinds=["settlement"])
    assert pull.status == PullStatus.done, pull.detail
    measures = set(db.session.execute(select(MetricFact.measure).where(MetricFact.store_id == store.id)).scalars())
    assert {"escrow_amount", "commission_fees"} <= measures


def test_lazada_finance_pulled_twice_is_one_set_of_facts(wire):
    store = connected("lazada", kinds=("orders", "settlement"))
    first = services.sync(store.code, DAY, date(2026, 11, 21), kinds=["settlement"])[0]
    assert first.status == PullStatus.done and first.facts > 0, first.detail
    count = fact_count()
    second = services.sync(store.code, DAY, date(2026, 11, 21), kinds=["settlement"])[0]
    assert second.status == PullStatus.done and fact_count() == count


def test_a_truncated_response_writes_nothing(wire, stand_in):
    store = connected("lazada")
    with stand_in.app_context():
        common.set_failure("lazada", "truncated")
    [pull] = services.sync(store.code, DAY, DAY)
    assert pull.status == PullStatus.failed and pull.failure == "truncated"
    assert fact_count() == 0 and db.session.execute(select(func.count()).select_from(ImportRecord)).scalar() == 0
