"""Issue 12, "done means": each dashboard rendered in Chromium at 1366 and 390 px, in Chinese
and English, over the demo data; every chart has its table, and the page is no wider than
the window. A full-page screenshot per (role, dashboard, width, language) goes to
artifacts/dashboards/ (ignored by git) for a person to look at.

The dashboards are found as each role finds them: the links of /dashboards/.
"""
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from kpiapp import demo
from tests.demo_db import demo_app
from tests.e2e.conftest import CHART_TEXT, off_size, sign_in, wait_for_charts

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "dashboards"
SIZES = {"1366": (1366, 900), "390": (390, 844)}
LANGS = {"zh": "zh-CN", "en": "en-US"}
ROLES = {"hr": "hr", "head": "ops.head", "manager": "na.lead", "employee": "li.lei"}
FITS = "document.documentElement.scrollWidth <= window.innerWidth"
# every chart figure: its data table with rows, and (JavaScript on) the chart drawn
CHARTS = """() => [...document.querySelectorAll('figure[data-chart]')].map(f => ({
  id: f.id, rows: f.querySelectorAll('table.chart-data tbody tr').length,
  drawn: !!f.querySelector('.chart-view svg')}))"""


@pytest.fixture(scope="module")
def demo_server(demo_template, tmp_path_factory):
    """A copy of the demo (tests/demo_db.py) served on localhost; users read the browser's language."""
    with demo_app(demo_template, tmp_path_factory.mktemp("dashboards"), locale=None) as app:
        # the browser keeps the static files (vega, pico, app.js) for the hour instead of asking
        # again on each of the ~10 page loads of a test: 876 of its 992 requests were these 304s
        app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 3600
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{server.server_port}"
        server.shutdown()
        thread.join(timeout=5)


def dashboards_of(page, base):
    """The links of /dashboards/, and the first store of the store list (a page of its own)."""
    page.goto(f"{base}/dashboards/")
    links = page.eval_on_selector_all("main .dashboard-list a", "links => links.map(a => a.getAttribute('href'))")
    for link in [link for link in links if link.rstrip("/").endswith("/stores")]:
        page.goto(base + link)
        links += page.eval_on_selector_all("main a[href*='/dashboards/stores/']",
                                           "links => links.slice(0, 1).map(a => a.getAttribute('href'))")
    return links


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("lang", list(LANGS))
def test_every_dashboard_shows_each_chart_with_its_table(demo_server, browser, role, lang):
    # demo_server first: the demo signs PDFs with asyncio, which cannot run inside Playwright's loop
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(locale=LANGS[lang], viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        # the language comes from the browser's (users of this demo have none of their own)
        sign_in(page, demo_server, demo.email_of(ROLES[role]), demo.DEMO_PASSWORD)
        page.wait_for_selector("header .account")
        links = dashboards_of(page, demo_server)
        assert links, f"{role} is offered no dashboard"
        for link in links:
            for width, (w, h) in SIZES.items():
                page.set_viewport_size({"width": w, "height": h})
                page.goto(demo_server + link)
                wait_for_charts(page)
                charts = page.evaluate(CHARTS)
                name = link.split("?")[0].strip("/").replace("/", "-")
                page.screenshot(path=str(SHOTS / f"{role}-{name}-{width}-{lang}.png"), full_page=True)
                assert all(c["rows"] > 0 for c in charts), (link, charts)
                assert all(c["drawn"] for c in charts), (link, charts)
                assert page.evaluate(FITS), (link, width)
                # a phone draws each chart at its box's width, its text at its own size: scaled down
                # whole, the 11 px labels read 5-7 px at 390 px (the screen walk's "small labels");
                # a chart narrower than its box is drawn for it too (scaled up, 16-19 px at 1366 px);
                # and its text follows the page's (11 px times the root font / 16: 13.75 px at 1366)
                off = off_size(page.evaluate(CHART_TEXT))
                assert not off, (link, width, off)
    finally:
        context.close()
