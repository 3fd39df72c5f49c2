"""The agency's contract pages in a browser: the clause editor's live weight total (htmx), and
the terms and report pages at desktop and phone widths without sideways scrolling."""
from datetime import date

import pytest
from playwright.sync_api import expect

from kpiapp.contracts import reports, terms
from kpiapp.extensions import db
from tests.contracts.factories import make_contract, month_of_facts
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def no_sideways_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_live_weight_total_and_the_pages_at_two_widths(app, live_server, browser, shot):
    setup = make_contract()
    for store in setup.stores:
        month_of_facts(store, 2026, 7, sales=60000, ad_spend=7000, ad_sales=30000)
    report = reports.generate_report(setup.contract, date(2026, 7, 1), setup.lead)
    amendment = terms.draft_amendment(setup.contract, setup.lead)
    db.session.commit()
    base = f"{live_server}/contracts/{setup.contract.id}"
    ids = {"amendment": amendment.id, "clause": amendment.clauses[0].id, "report": report.id}
    email = setup.lead.email
    db.session.commit()

    page = browser.new_context(locale="en-US", viewport={"width": 1366, "height": 900}).new_page()
    page.set_default_timeout(10_000)
    sign_in(page, live_server, email, PASSWORD)
    page.goto(f"{base}/versions/{ids['amendment']}/clauses/{ids['clause']}/edit")
    total = page.locator("#weights-total")
    expect(total).to_contain_text("Weights total with this clause: 100")
    page.fill("input[name=clause-weight]", "50")
    expect(total).to_contain_text("Weights total with this clause: 90")
    expect(page.locator("input[name=clause-weight]")).to_have_value("50")  # the swap leaves the input alone
    shot(page, "clause-editor")
    for path, name in ((f"{base}/versions/{ids['amendment']}", "terms"), (f"{base}/reports/{ids['report']}", "report"),
                       (base, "detail")):
        page.goto(path)
        assert no_sideways_scroll(page), name
        shot(page, f"{name}-1366")

    phone = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844}).new_page()
    phone.set_default_timeout(10_000)
    sign_in(phone, live_server, email, PASSWORD)
    for path, name in ((f"{base}/versions/{ids['amendment']}", "terms"), (f"{base}/reports/{ids['report']}", "report"),
                       (f"{live_server}/contracts/", "list")):
        phone.goto(path)
        assert no_sideways_scroll(phone), name
        shot(phone, f"{name}-390")
