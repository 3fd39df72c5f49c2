"""Issue 14 in Chromium: the alignment tree in zh and en at 1366 and 390 px (the at-risk branch
marked, nothing wider than the screen), and the decomposition preview swapped by htmx."""
import pytest
from playwright.sync_api import expect

from kpiapp.extensions import db
from kpiapp.objectives import services as okr
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD
from tests.objectives.okr_world import QUARTER, company_objective, gmv_kr, make_world

pytestmark = pytest.mark.browser

FITS = "document.documentElement.scrollWidth <= window.innerWidth"


def new_page(browser, width, height, locale="en-US"):
    context = browser.new_context(locale=locale, viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def cascade():
    w = make_world()
    top = company_objective(w, rollup=True)
    sales = okr.create_objective({"title": "Sales Europe", "level": "department", "owner_id": w.head.id,
                                  "period": QUARTER, "parent_id": top.id}, w.hr)
    ops = okr.create_objective({"title": "Operations on time", "level": "department", "owner_id": w.ops_head.id,
                                "period": QUARTER, "parent_id": top.id}, w.hr)
    gmv = gmv_kr(sales, w.head, [{"store_id": w.de.id, "share_pct": "100"}], target="3000000")
    okr.decompose(gmv, "shares", [{"owner_id": p.id, "share": s} for p, s in zip(w.people, ("50", "30", "20"))],
                  w.head)
    late = okr.create_key_result(ops, {"title": "Orders shipped within 24 hours", "kind": "manual",
                                       "start_value": "80", "target": "98"}, w.hr)
    okr.check_in(late, {"value": "81", "confidence": "off_track", "note": "carrier strike"}, w.ops_head)
    db.session.commit()
    return w, top, gmv


@pytest.mark.parametrize("width, height", [(1366, 900), (390, 844)])
@pytest.mark.parametrize("locale, at_risk, tree", [("en", "At risk", "Alignment tree"), ("zh_CN", "有风险", "对齐树")])
def test_alignment_tree(app, live_server, browser, shot, width, height, locale, at_risk, tree):
    w, top, _gmv = cascade()
    w.gm.locale = locale
    db.session.commit()
    email, top_id, seller = w.gm.email, top.id, w.people[2].name
    db.session.commit()  # read what the test needs first: no open transaction while the server writes
    page = new_page(browser, width, height)
    sign_in(page, live_server, email, PASSWORD)
    page.goto(f"{live_server}/objectives/{top_id}/tree")
    expect(page.locator("h1")).to_have_text(tree)
    branch = page.locator("li.branch-at-risk", has_text="Operations on time").first
    expect(branch).to_be_visible()
    expect(branch.locator("mark.at-risk").first).to_have_text(at_risk)
    expect(page.locator("#tree-objective-%d" % top_id)).to_be_visible()
    expect(page.get_by_text(seller).first).to_be_visible()
    page.wait_for_load_state("load")
    assert page.evaluate(FITS)
    shot(page, f"{locale}-{width}")
    page.context.close()


def test_decomposition_preview_is_swapped_by_htmx(app, live_server, browser, shot):
    w, _top, gmv = cascade()
    email, kr_id = w.head.email, gmv.id
    db.session.commit()
    page = new_page(browser, 1366, 900)
    sign_in(page, live_server, email, PASSWORD)
    page.goto(f"{live_server}/key-results/{kr_id}/decompose")
    page.get_by_label("equal split").check()
    expect(page.locator("#decompose-form tfoot")).to_contain_text("none")  # sums exactly: no difference
    expect(page.locator("#decompose-form")).to_contain_text("1,000,000.00")
    assert page.url.endswith("/decompose")  # swapped in place, no navigation
    shot(page, "preview")
    page.context.close()


@pytest.mark.parametrize("width, height", [(1366, 900), (390, 844)])
def test_key_result_page_checks_in_without_javascript_widths(app, live_server, browser, shot, width, height):
    w, top, _gmv = cascade()
    mine = okr.create_objective({"title": "Reviews", "level": "person", "period": QUARTER,
                                 "parent_id": top.id}, w.people[0])
    kr = okr.create_key_result(mine, {"title": "Reviews collected", "kind": "manual", "target": "200"}, w.people[0])
    db.session.commit()
    email, kr_id = w.people[0].email, kr.id
    db.session.commit()
    page = new_page(browser, width, height)
    sign_in(page, live_server, email, PASSWORD)
    page.goto(f"{live_server}/key-results/{kr_id}")
    page.get_by_label("At risk").check()
    page.get_by_label("Value now").fill("50")
    page.get_by_label("Note", exact=True).fill("slow start")
    page.get_by_role("button", name="Check in").click()
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator("main table").last).to_contain_text("slow start")
    expect(page.locator("h1 mark.at-risk")).to_be_visible()
    page.wait_for_load_state("load")
    assert page.evaluate(FITS)
    shot(page, f"{width}")
    page.context.close()
