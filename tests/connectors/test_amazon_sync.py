"""The Amazon connectors through the sync service (run_pull) against the stand-in host
(fake/__init__.py with fake/amazon.py) on a loopback port: facts written, tokens kept sealed and
reused, and a FATAL, truncated or unauthorised pull writing nothing."""
import threading
from datetime import timedelta
from functools import partial

import pytest
import requests
from sqlalchemy import func, select, text
from werkzeug.serving import make_server

from kpiapp.connectors import lwa, services
from kpiapp.connectors.fake import amazon as fake
from kpiapp.connectors.fake import create_app as host_app
from kpiapp.connectors.http import Client
from kpiapp.extensions import db
from kpiapp.models import ImportRecord, MetricFact
from kpiapp.models.connectors import ConnectionStatus, PullStatus
from tests.connectors.test_amazon_connectors import DAY
from tests.factories import StoreFactory


@pytest.fixture
def host():
    app = host_app()
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", app
    httpd.shutdown()
    thread.join()


@pytest.fixture
def sleeps(monkeypatch):
    """The connectors' waits (polls, backoff) recorded instead of slept."""
    waited = []
    monkeypatch.setattr(services.http, "Client", partial(Client, sleep=waited.append))
    return waited


@pytest.fixture
def shop(app):
    store = StoreFactory(code="AMZ-US", timezone="America/Los_Angeles")
    for platform, settings in fake.demo_store_settings("AMZ-US").items():
        services.connect(store, platform, settings, fake.DEMO_CREDENTIALS[platform])
    db.session.commit()
    return store


def count(model):
    return db.session.execute(select(func.count()).select_from(model)).scalar()


def test_a_sync_pulls_sales_and_ads_into_facts_with_one_sealed_token_per_connection(shop, host, sleeps):
    base_url, app = host
    pulls = services.sync("AMZ-US", DAY, DAY, kinds=["sales", "ads"], endpoint=base_url)
    assert [(p.kind, p.status) for p in pulls] == [("sales", PullStatus.done), ("ads", PullStatus.done)]
    ads_pull = pulls[1]
    assert (ads_pull.date_from, ads_pull.date_to) == (DAY, DAY)
    days = db.session.execute(select(MetricFact.business_date).where(
        MetricFact.family == "amazon_ads").distinct()).scalars().all()
    assert len(days) == 14 and min(days) == DAY - timedelta(days=13)  # the trailing 14 days
    assert pulls[0].facts > 0 and count(ImportRecord) == 2
    next_day = DAY + timedelta(days=1)
    services.sync("AMZ-US", next_day, next_day, kinds=["sales"], endpoint=base_url)
    assert len(app.extensions["fake_amazon"].tokens) == 2  # one SP, one Ads token; the 2nd sync reused one
    connection = services.find_connection(shop.id, "amazon_sp")
    assert connection.tokens[lwa.ACCESS] in app.extensions["fake_amazon"].tokens
    sealed = db.session.execute(text("SELECT tokens_sealed FROM store_connection")).scalars().all()
    assert not any(connection.tokens[lwa.ACCESS] in raw for raw in sealed)  # ciphertext at rest


@pytest.mark.parametrize("failure, code", [("fatal", "report_fatal"), ("truncated", "truncated")])
def test_a_fatal_or_truncated_report_leaves_nothing_written(shop, host, sleeps, failure, code):
    base_url, _app = host
    requests.post(base_url + "/_fake/fail", json={"platform": "amazon_sp", "failure": failure}, timeout=5)
    [pull] = services.sync("AMZ-US", DAY, DAY + timedelta(days=2), kinds=["sales"], endpoint=base_url)
    assert (pull.status, pull.failure, pull.import_ids) == (PullStatus.failed, code, [])
    assert count(MetricFact) == 0 and count(ImportRecord) == 0
    assert services.find_connection(shop.id, "amazon_sp").status == ConnectionStatus.connected


def test_a_revoked_authorisation_asks_for_a_reconnect_and_writes_nothing(shop, host, sleeps):
    base_url, _app = host
    switch = {"platform": "amazon", "failure": "expired_token"}
    requests.post(base_url + "/_fake/fail", json=switch, timeout=5)
    pulls = services.sync("AMZ-US", DAY, DAY, kinds=["sales", "ads"], endpoint=base_url)
    assert {(p.status, p.failure) for p in pulls} == {(PullStatus.failed, "auth_expired")}
    assert count(MetricFact) == 0
    for platform in ("amazon_sp", "amazon_ads"):
        assert services.find_connection(shop.id, platform).status == ConnectionStatus.needs_reconnect


def test_the_connection_test_checks_the_credentials_and_the_profile(shop, host):
    base_url, _app = host
    for platform in ("amazon_sp", "amazon_ads"):
        assert services.test_connection(services.find_connection(shop.id, platform), base_url) is None
    ads = services.find_connection(shop.id, "amazon_ads")
    services.connect(shop, "amazon_ads", {"profile_id": "42"}, {})
    assert services.test_connection(ads, base_url) == "auth_failed"
