"""End-to-end fixtures: the real app served on localhost, driven by Debian's Chromium.

Playwright for Python drives /usr/bin/chromium (Debian's package; no browser download).
Screenshots go to artifacts/screenshots/ (ignored by git) so a person can look at them.
"""
import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from kpiapp.charts import CONFIG
from kpiapp.extensions import db

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def live_server(app):
    # the browser keeps the static files (vega, pico, app.js) for the hour instead of asking
    # again on each page load of a context (test_walk_browser.py: 815 of its 997 requests)
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 3600
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    db.session.commit()  # the test's own transaction must not hold SQLite's write lock
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser():
    # module scope: Playwright's sync API keeps an asyncio loop running in this thread
    # while open, and later tests (pyHanko signing) need to start loops of their own
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"{CHROMIUM} missing: apt-get install chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def shot(request):
    """shot(page, 'step-name') saves a full-page PNG named after the test."""
    SHOTS.mkdir(parents=True, exist_ok=True)

    def save(page, name):
        path = SHOTS / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save


def sign_in(page, base, email, password):
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("main form button[type=submit]")


def open_menu_entry(page, section, entry):
    """Open a section of the header menu (a dropdown) and follow one of its entries."""
    page.click(f".site-header summary:has-text('{section}')")
    page.click(f".site-header a:has-text('{entry}')")


# every chart of the page drawn by kpiapp/static/charts.js: vega-embed's SVG in place and, once its
# promise resolved, the data table hidden from view
CHARTS_DRAWN = """() => [...document.querySelectorAll('figure[data-chart]')].every(f =>
  f.querySelector('.chart-view svg') && f.querySelector('.chart-data')?.classList.contains('visually-hidden'))"""


# each chart's drawn text: its font size times the scale its SVG is shown at (app.css lets the
# SVG follow its box up to 48 rem, the viewBox keeping the drawing's own size), whether it fits its
# box, and the page's root font (pico's: 16 px on a phone, 20 px at 1366 px)
CHART_TEXT = """() => [...document.querySelectorAll('figure[data-chart] .chart-view')].map(view => {
  const svg = view.querySelector('svg'), scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  const sizes = [...svg.querySelectorAll('text')].filter(t => t.textContent.trim())
    .map(t => parseFloat(getComputedStyle(t).fontSize) * scale);
  return {id: view.parentElement.id, smallest: Math.min(...sizes), largest: Math.max(...sizes),
          drawn: svg.viewBox.baseVal.width, box: view.clientWidth,
          root: parseFloat(getComputedStyle(document.documentElement).fontSize)};
})"""
# the spec's text size: every font size of kpiapp.charts.CONFIG (axes, legends, text marks; one
# size, or this unpacking fails and a chart's texts need sizes of their own here)
(SPEC_TEXT_PX,) = {size for part in CONFIG.values() if isinstance(part, dict)
                   for key, size in part.items() if key.lower().endswith("fontsize")}
# charts.js draws it times the root font over 16 px (as if in rem), as wide as it is shown or at
# most 1 px narrower: shown at that size, or up to this much larger (a chart scaled up to fill its
# box showed 16-24 px; scaled down to a phone's, 5-7 px)
TEXT_SLACK_PX = 0.5
# the same check in JavaScript, for page.wait_for_function: `c` one of CHART_TEXT's charts
OWN_SIZE_JS = (f"c.smallest >= {SPEC_TEXT_PX} * c.root / 16 && "
               f"c.largest <= {SPEC_TEXT_PX} * c.root / 16 + {TEXT_SLACK_PX}")


def own_size(chart):
    """The size a chart's text should show at: the spec's, times the page's root font over 16 px."""
    return SPEC_TEXT_PX * chart["root"] / 16


def off_size(charts):
    """Of CHART_TEXT's charts, those whose text is not shown at its own size (own_size, + the slack)."""
    return [c for c in charts
            if not own_size(c) <= c["smallest"] <= c["largest"] <= own_size(c) + TEXT_SLACK_PX]


def wait_for_charts(page, timeout=15_000):
    """Until every chart of the loaded page is drawn; no fixed wait (networkidle waited 500 ms of
    quiet after each page). A chart that never draws is left to the caller's assertion, which
    names it: the timeout is not an error here."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    try:
        page.wait_for_function(CHARTS_DRAWN, timeout=timeout)
    except PlaywrightTimeoutError:
        pass
