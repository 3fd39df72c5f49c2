"""Cycle health's reminder history in Chromium, zh and en, at 1366 and 390 px wide."""
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from kpiapp.reminders import services
from tests.appraisal.factories import make_team, walk_to
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser
DUE = date(2026, 12, 31)


@pytest.mark.parametrize("locale, title", [("en", "Reminders sent"), ("zh_CN", "已发送的提醒")])
def test_reminder_history_on_cycle_health(app, live_server, browser, shot, locale, title):
    team = make_team(size=3)
    for person in team.people:
        walk_to(team, person, S.SELF_REVIEW)
    team.cycle.self_review_due = DUE
    team.hr.locale = locale
    db.session.flush()
    for offset in (-3, -1, 0, 1, 3):
        services.send_reminders(DUE + timedelta(days=offset))
    cycle_id, email = team.cycle.id, team.hr.email
    db.session.commit()
    for width in (1366, 390):
        context = browser.new_context(locale="en-US", viewport={"width": width, "height": 900})
        page = context.new_page()
        page.set_default_timeout(10_000)
        sign_in(page, live_server, email, PASSWORD)
        page.goto(f"{live_server}/cycles/{cycle_id}/health")
        section = page.locator("#reminder-log")
        expect(section.locator("h2")).to_have_text(title)
        expect(section.locator("tbody tr")).to_have_count(3 * 5 + 3)  # 3 people x 5 days + escalation about each
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{width}px: the page scrolls sideways by {overflow}px"
        shot(page, f"{locale}-{width}")
        context.close()
