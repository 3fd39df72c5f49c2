"""The weekly review in a browser at 1366 and 390 px, in English and Chinese: every sparkline
draws (vega-embed under the CSP), the at-risk row is marked, a decision posts through htmx."""
import pytest
from playwright.sync_api import expect

from kpiapp.extensions import db
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD
from tests.web.test_pace_dashboards import TODAY, build, relax_acos

pytestmark = pytest.mark.browser


@pytest.fixture
def org(app, monkeypatch):
    monkeypatch.setattr("kpiapp.objectives.routes.reviews.utc_today", lambda: TODAY)
    o = build(["Amy", "Zed"])
    relax_acos(o, o.people[0])
    return o


@pytest.mark.parametrize("width", [1366, 390])
@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_the_weekly_review_draws_and_takes_a_decision(org, live_server, browser, shot, width, lang):
    org.boss.locale = lang
    email, boss_id, zed_id = org.boss.email, org.boss.id, org.people[1].id
    db.session.commit()  # and touch no row after: a read would hold SQLite's lock against the server
    context = browser.new_context(locale="en-US", viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, live_server, email, PASSWORD)
    page.goto(f"{live_server}/reviews/{boss_id}?week=2026-11-09")
    charts = page.locator("figure.chart.sparkline")
    assert charts.count() == 4
    for n in range(charts.count()):
        expect(charts.nth(n).locator(".chart-view svg")).to_be_visible()
    expect(page.locator(f"#person-{zed_id} tr.at-risk")).to_have_count(1)
    shot(page, f"review-{lang}-{width}")
    page.fill("#text", "Cut the ad budget" if lang == "en" else "降低广告预算")
    page.select_option("#owner_id", str(zed_id))
    page.click("form.review-decision button[type=submit]")
    expect(page.locator("#decisions table")).to_contain_text("Zed")
    expect(page.locator('#decisions [data-state="task-open"]')).to_have_count(1)  # the owner's task at once
    shot(page, f"review-decided-{lang}-{width}")
    context.close()
    assert errors == []
