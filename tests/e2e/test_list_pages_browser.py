"""The list pages of the screenshot walk (HR's calibration and cycle health, the admin's audit log,
the imports list) with the demo's kind of content, in Chromium: a long row stays inside the page's
column at 1366 px, and a store code or a button's label is not broken over lines."""
import pytest

from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.audit import record
from kpiapp.extensions import db
from kpiapp.models import ImportRecord
from tests.appraisal.factories import make_team, walk_to
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD, StoreFactory

pytestmark = pytest.mark.browser

# how far `selector`'s box reaches past the right edge of <main>'s content (negative: inside)
PAST_MAIN = """(selector) => {
  const main = document.querySelector('main'), style = getComputedStyle(main);
  const inner = main.getBoundingClientRect().right - parseFloat(style.paddingRight);
  return Math.round(document.querySelector(selector).getBoundingClientRect().right - inner);
}"""
# the lines each matching element's text is drawn on
LINES = """(selector) => [...document.querySelectorAll(selector)].map(e => {
  const range = document.createRange(); range.selectNodeContents(e);
  return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
})"""

ONE_LINES = """(e) => { const range = document.createRange(); range.selectNodeContents(e);
  return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size; }"""


def open_as(browser, base, email, width, path):
    context = browser.new_context(locale="en-US", viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    sign_in(page, base, email, PASSWORD)
    page.goto(base + path)
    return context, page


@pytest.fixture
def calibrating(app):
    """Three scorecards in calibration, named and placed as the demo's are."""
    team = make_team(size=3)
    team.people[0].department.name = "Customer Service"
    for person, name in zip(team.people, ("韩梅梅 Han Meimei", "黄磊 Huang Lei", "Nguyen Thi Lan")):
        person.name = name
        walk_to(team, person, S.CALIBRATION, actual="120000", manager_score="5")
    team.manager.name = "王芳 Wang Fang"
    hr, path = team.hr, f"/cycles/{team.cycle.id}"
    email = hr.email  # read before the commit: a read after it would hold SQLite's lock against the server
    db.session.commit()
    return hr, email, path


def test_calibration_list_stays_inside_the_page_at_1366(live_server, browser, shot, calibrating):
    _hr, email, cycle = calibrating
    context, page = open_as(browser, live_server, email, 1366, f"{cycle}/calibration")
    shot(page, "calibration")
    assert page.locator("table.calibration-list tbody tr").count() == 3
    assert page.evaluate(PAST_MAIN, "table.calibration-list") <= 0
    context.close()


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_remind_buttons_of_cycle_health_are_one_line(live_server, browser, shot, calibrating, locale):
    hr, email, cycle = calibrating
    hr.locale = locale
    db.session.commit()
    context, page = open_as(browser, live_server, email, 1366, f"{cycle}/health")
    shot(page, f"health-{locale}")
    lines = page.evaluate(LINES, "main > table:first-of-type td button")
    assert lines and lines == [1] * len(lines)
    context.close()


def test_audit_log_with_long_action_names_stays_inside_the_page_at_1366(app, live_server, browser, shot):
    email = make_team(size=1).admin.email
    for n in range(3):
        record(db.session, "contract_report_revision.update", "contract_report_revision", str(n),
               before={"state": "draft"}, after={"state": "sent", "note": "x" * 60})
    record(db.session, "user.update", "user", "9", before={"locale": "en"}, after={"locale": "zh_CN"})
    db.session.commit()
    context, page = open_as(browser, live_server, email, 1366, "/admin/audit")
    shot(page, "audit")
    assert page.evaluate(PAST_MAIN, "main table") <= 0
    short = page.locator("main tbody tr", has_text="user.update").first.locator("code").first
    assert short.evaluate(ONE_LINES) == 1  # user.update never breaks inside a word ("use/r")
    context.close()


def test_imports_list_keeps_store_codes_whole_on_a_phone(app, live_server, browser, shot):
    email = make_team(size=1).hr.email
    store = StoreFactory(code="LZD-MY")
    db.session.add_all([ImportRecord(filename=f"LZD-MY_orders_2026-10-01_2026-11-26_0{n}.json", sha256=f"{n}" * 64,
                                     size=1, dedupe_key=f"k{n}", status="committed", store=store) for n in range(3)])
    db.session.commit()
    context, page = open_as(browser, live_server, email, 390, "/imports/")
    shot(page, "imports")
    assert page.evaluate(LINES, "main table tbody td:nth-child(3)") == [1, 1, 1]  # the store
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    context.close()


def test_cycle_health_on_a_phone_shows_each_stage_whole(live_server, browser, shot, calibrating):
    """At 390 px the table squeezed the names into a word-wide column and put the 'Remind them'
    button out of sight to the right; each stage is a card now."""
    _hr, email, cycle = calibrating
    context, page = open_as(browser, live_server, email, 390, f"{cycle}/health")
    shot(page, "health-390")
    who = page.locator("#health-calibrate td").nth(3).bounding_box()
    remind = page.locator("#health-calibrate button").bounding_box()
    assert who["width"] > 250, who
    assert remind["x"] + remind["width"] <= 390
    nobody = page.locator("#health-draft td").nth(3).bounding_box()
    assert nobody["height"] < 1, nobody  # no one to name: no "Who" heading over an empty line
    context.close()
