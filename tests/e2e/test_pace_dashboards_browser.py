"""The person and team dashboards in a browser at 1366 and 390 px, in English and Chinese:
every chart draws (vega-embed under the CSP) and has its data table (docs/pace.md)."""
import pytest
from playwright.sync_api import expect

from kpiapp.extensions import db
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD
from tests.web.test_pace_dashboards import TODAY, build, relax_acos

pytestmark = pytest.mark.browser


@pytest.fixture
def org(app, monkeypatch):
    for module in ("person", "team"):
        monkeypatch.setattr(f"kpiapp.dashboards.routes.{module}.utc_today", lambda: TODAY)
    o = build(["Amy", "Zed"])
    relax_acos(o, o.people[0])
    return o


@pytest.mark.parametrize("width", [1366, 390])
@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_dashboards_draw_every_chart_with_its_table(org, live_server, browser, shot, width, lang):
    org.boss.locale = lang
    email, cycle_id = org.boss.email, org.cycle.id
    db.session.commit()  # and touch no row after: a read would hold SQLite's lock against the server
    context = browser.new_context(locale="en-US", viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, live_server, email, PASSWORD)
    page.goto(f"{live_server}/dashboards/team?cycle={cycle_id}")
    expect(page.locator("#panel-people table")).to_be_visible()
    expect(page.locator("#panel-at_risk")).to_contain_text("Zed")
    shot(page, f"team-{lang}-{width}")
    page.click("#panel-people a:has-text('Zed')")
    charts = page.locator("figure.chart")
    expect(charts.first.locator(".chart-view svg")).to_be_visible()
    assert charts.count() == 2
    for n in range(charts.count()):
        expect(charts.nth(n).locator(".chart-view svg")).to_be_visible()
        assert charts.nth(n).locator("table.chart-data tbody tr").count() == 10  # 1-10 Nov
    assert ("有风险" if lang == "zh_CN" else "At risk") in page.locator("#panel-pace").inner_text()
    shot(page, f"person-{lang}-{width}")
    context.close()
    assert errors == []
