"""The notification settings and the admin's integrations page in Chromium, zh and en, at 1366
and 390 px: no page scrolls sideways, no table scrolls inside its box (the settings stack as
cards on a phone), a choice saved in the browser is kept, and a Chinese reader sees Chinese."""
import pytest
from playwright.sync_api import expect

from kpiapp.extensions import db
from kpiapp.models import Role
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.browser
OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
TABLES_FIT = "[...document.querySelectorAll('main table')].every(t => t.scrollWidth <= t.clientWidth + 1)"
TITLES = {"en": ("Notification settings", "Integrations"), "zh_CN": ("通知设置", "集成")}


@pytest.mark.parametrize("locale", list(TITLES))
def test_notification_pages_fit_and_keep_a_choice(app, live_server, browser, shot, locale):
    email = UserFactory(role=Role.admin, locale=locale).email
    db.session.commit()  # read before: an open read would hold SQLite's lock against the sign-in
    settings_title, integrations_title = TITLES[locale]
    for width in (1366, 390):
        context = browser.new_context(locale="en-US", viewport={"width": width, "height": 900})
        page = context.new_page()
        page.set_default_timeout(10_000)
        sign_in(page, live_server, email, PASSWORD)
        page.goto(f"{live_server}/settings/notifications")
        expect(page.locator("main h1")).to_have_text(settings_title)
        assert page.evaluate(OVERFLOW) <= 0 and page.evaluate(TABLES_FIT), f"{width}px"
        shot(page, f"settings-{locale}-{width}")
        box = page.locator("main tbody input[type=checkbox]").first
        wanted = not box.is_checked()
        box.set_checked(wanted)
        page.click("main form button[type=submit]")
        assert page.locator("main tbody input[type=checkbox]").first.is_checked() == wanted
        page.goto(f"{live_server}/admin/integrations")
        expect(page.locator("main h1")).to_have_text(integrations_title)
        assert page.evaluate(OVERFLOW) <= 0, f"{width}px"
        shot(page, f"integrations-{locale}-{width}")
        context.close()
