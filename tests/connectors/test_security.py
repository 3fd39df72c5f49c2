"""Stored credentials never leave the vault: not in logs, audit rows, the API or any page.

A known secret is planted as a credential and as the tokens the stand-in rotates in; then
the pulls run with logging at DEBUG, an admin walks every page without URL arguments plus
the connection pages, the API is walked with a token, and the audit table is read raw."""
import logging
from datetime import date

import pytest
from sqlalchemy import text

from config import Config
from kpiapp.app import create_app
from kpiapp.connectors import services
from kpiapp.extensions import db
from kpiapp.models import StoreConnection
from kpiapp.startup import StartupRefused
from tests.connectors import testshop
from tests.connectors.conftest import connect_testshop

DAY = date(2026, 11, 20)


def plain_secrets():
    connection = db.session.query(StoreConnection).one()
    values = list(connection.credentials.values()) + [v for v in connection.tokens.values() if v]
    return [v for v in values if v not in ("test-client",)] + [testshop.CLIENT["client_secret"], testshop.REFRESH]


def no_secret_in(text_, secrets, where):
    found = [s for s in secrets if s in text_]
    assert not found, f"{where} shows a secret"


def get_routes(app):
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.arguments and rule.endpoint not in ("static", "auth.logout"):
            yield rule.rule


def test_credentials_never_leak(app, login, admin, shop, wire, caplog):
    caplog.set_level(logging.DEBUG)
    connection = connect_testshop(shop)
    services.test_connection(connection)
    db.session.commit()
    [pull] = services.sync("AMZ-US", DAY, DAY)
    assert pull.status == "done"
    secrets = plain_secrets()
    assert len(secrets) >= 4  # client secret, the planted refresh token, the rotated access and refresh tokens
    no_secret_in(caplog.text, secrets, "the log")
    raw = db.session.execute(text("SELECT before_json, after_json FROM audit_event")).all()
    no_secret_in(repr(raw), secrets, "the audit table")
    stored = db.session.execute(text("SELECT credentials_sealed, tokens_sealed, settings FROM store_connection")).one()
    no_secret_in(repr(stored), secrets, "the store_connection row")
    browser = login(admin)
    pages = list(get_routes(app)) + [f"/org/stores/{shop.id}", f"/org/stores/{shop.id}/connections/testshop",
                                     "/connections", f"/admin/audit?entity=store_connection"]
    shown = 0
    for path in pages:
        response = browser.get(path)
        no_secret_in(response.get_data(as_text=True), secrets, path)
        shown += response.status_code == 200
    assert shown >= 30  # the walk really saw the pages
    token = api_token(browser)
    api = app.test_client()
    answered = 0
    for path in [p for p in get_routes(app) if p.startswith("/api/")]:
        answer = api.get(path, headers={"Authorization": f"Bearer {token}"})
        no_secret_in(answer.get_data(as_text=True), secrets, path)
        answered += answer.status_code == 200
    assert answered >= 3
    no_secret_in(caplog.text, secrets, "the log")


def api_token(browser):
    from tests.helpers import csrf_from
    import re

    page = browser.get("/account/api-tokens").get_data(as_text=True)
    answer = browser.post("/account/api-tokens", data={"name": "walk", "csrf_token": csrf_from(page)})
    body = answer.get_data(as_text=True) if answer.status_code == 200 else browser.get("/account/api-tokens").get_data(as_text=True)
    return re.search(r"kpi_[A-Za-z0-9_\-]{20,}", body).group(0)


def production(tmp_path, **settings):
    attrs = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.sqlite'}", "INSTANCE_DIR": tmp_path,
             "SECRET_KEY": "x", "REDIS_URL": None, "INPROCESS_JOBS": True, **settings}
    return type("ProductionConfig", (Config,), attrs)


def test_production_warns_without_vault_keys(tmp_path, monkeypatch, caplog):
    monkeypatch.delenv("VAULT_KEYS", raising=False)
    with caplog.at_level(logging.WARNING):
        create_app(production(tmp_path))
    assert "VAULT_KEYS is not set" in caplog.text


def test_production_refuses_keys_that_are_not_fernet_keys(tmp_path, monkeypatch):
    monkeypatch.setenv("VAULT_KEYS", "not-a-key")
    with pytest.raises(StartupRefused) as caught:
        create_app(production(tmp_path))
    assert str(caught.value).startswith("kpiapp refuses to start: VAULT_KEYS cannot be used")
