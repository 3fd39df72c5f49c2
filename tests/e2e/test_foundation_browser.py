"""A person signs in, searches people with htmx, switches to Chinese and signs out."""
import pytest
from playwright.sync_api import expect

from kpiapp.extensions import db
from kpiapp.models import Role
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.browser


def test_sign_in_search_language_sign_out(app, live_server, page, shot):
    hr = UserFactory(role=Role.hr, name="Hana HR")
    UserFactory(name="Zhang Searchable")
    email = hr.email
    db.session.commit()
    sign_in(page, live_server, email, PASSWORD)
    assert page.locator("h1").inner_text() == "Welcome, Hana HR"
    shot(page, "home")
    page.goto(f"{live_server}/org/people")
    page.fill("#people-q", "Searchable")
    expect(page.locator("#people-table tbody tr")).to_have_count(1)  # CSP forbids eval-based waits
    assert "Zhang Searchable" in page.locator("#people-table").inner_text()
    expect(page).to_have_url(f"{live_server}/org/people?q=Searchable")  # hx-push-url keeps the URL meaningful
    shot(page, "people-search")
    page.click("button[value=zh_CN]")
    expect(page.locator("button", has_text="退出登录")).to_be_visible()  # waits for the reloaded page
    shot(page, "people-zh")
    page.click("button:has-text('退出登录')")
    assert "/login" in page.url
    page.goto(f"{live_server}/org/people")
    assert "/login" in page.url
