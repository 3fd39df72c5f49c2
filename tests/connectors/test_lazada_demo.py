"""The demo's Shopee, TikTok and Lazada stores connected to the stand-in and filled by pulls;
LZD-MY, which has no upload, over every demo day."""
from sqlalchemy import func, select

from kpiapp.demo import connections as demo_connections
from kpiapp.demo.marketplace import DEMO_TODAY, FIRST_DAY
from kpiapp.extensions import db
from kpiapp.models import MetricFact
from kpiapp.models.connectors import PullStatus
from tests.factories import StoreFactory

STORES = [("SHP-SG", "shopee", "SGD", "Asia/Singapore"), ("TTS-UK", "tiktok", "GBP", "Europe/London"),
          ("LZD-MY", "lazada", "MYR", "Asia/Kuala_Lumpur")]


def test_demo_asia_stores_are_connected_and_lazada_is_filled_from_the_first_day(app, monkeypatch):
    stores = {code: StoreFactory(code=code, platform=platform, currency=currency, timezone=tz)
              for code, platform, currency, tz in STORES}
    db.session.commit()
    monkeypatch.setattr(demo_connections, "DEMO_CONNECTIONS", [(code, platform) for code, platform, *_ in STORES])
    connections = demo_connections.connect_demo_stores()
    assert sorted(c.platform for c in connections) == ["lazada", "shopee", "tiktok"]
    pulls = demo_connections.pull_demo_days(connections, DEMO_TODAY)  # the demo's own in-process stand-in
    assert pulls and all(p.status == PullStatus.done for p in pulls), [(p.kind, p.failure, p.detail) for p in pulls]
    lazada = [p for p in pulls if p.connection.platform == "lazada"]
    assert {(p.kind, p.date_from, p.date_to) for p in lazada} == {
        ("orders", FIRST_DAY, DEMO_TODAY), ("settlement", FIRST_DAY, DEMO_TODAY)}
    days = db.session.execute(select(func.count(func.distinct(MetricFact.business_date))).where(
        MetricFact.store_id == stores["LZD-MY"].id, MetricFact.measure == "units_ordered")).scalar()
    assert days == (DEMO_TODAY - FIRST_DAY).days + 1
