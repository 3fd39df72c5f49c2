"""Never lose typed work, numbers as people think of them, KPI items on a phone (issue 11)."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from kpiapp.models import ScorecardItem
from tests.appraisal.factories import make_team, manual_items, metric_item, walk_to
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD
from tests.web.test_forms import as_acos

pytestmark = pytest.mark.browser


def phone(browser):
    page = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844}).new_page()
    page.set_default_timeout(10_000)
    return page


def no_sideways_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_refused_manager_review_keeps_every_typed_value(app, live_server, page, shot):
    team = make_team(size=1)
    card = walk_to(team, team.people[0], S.MANAGER_REVIEW)
    card_id, manual, data = card.id, manual_items(card)[0].id, metric_item(card).id
    email = team.manager.email
    db.session.commit()
    sign_in(page, live_server, email, PASSWORD)
    page.goto(f"{live_server}/scorecards/{card_id}")
    typed = {f"items-{manual}-manager_score": "3.5", f"items-{manual}-manager_comment": "Ran the stand-ups",
             f"items-{data}-manager_score": "100",  # an override, and no reason for it: the server refuses
             f"items-{data}-manager_comment": "Strong December", "manager_comment": "Agreed, with one correction."}
    for name, value in typed.items():
        page.fill(f"[name='{name}']", value)
    page.get_by_role("button", name="Save review").click()
    expect(page.locator(".flash-error")).to_contain_text("Overriding a computed score needs a reason.")
    reason = page.locator(f"[name='items-{data}-override_reason']")
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(reason).to_be_focused()
    for name, value in typed.items():
        assert page.locator(f"[name='{name}']").input_value() == value, name
    shot(page, "refused-review")


def test_a_self_review_draft_survives_a_reload_on_a_phone(app, live_server, browser, shot):
    team = make_team(size=1)
    person = team.people[0]
    card = walk_to(team, person, S.SELF_REVIEW)
    card_id, manual, email = card.id, manual_items(card)[0].id, person.email
    db.session.commit()
    page = phone(browser)
    sign_in(page, live_server, email, PASSWORD)
    page.goto(f"{live_server}/scorecards/{card_id}")
    assert no_sideways_scroll(page)
    page.fill(f"[name='items-{manual}-self_score']", "4")
    with page.expect_response(lambda r: "/drafts/self_review" in r.url
                              and "marketplace" in (r.request.post_data or "")) as saved:
        page.fill("[name='self_comment']", "Three launches and a marketplace audit")
    assert saved.value.ok
    expect(page.locator("#draft-self_review")).to_contain_text("Draft saved")
    page.reload()
    assert page.locator("[name='self_comment']").input_value() == "Three launches and a marketplace audit"
    assert page.locator(f"[name='items-{manual}-self_score']").input_value() == "4"
    expect(page.locator("text=Your unsaved draft from")).to_be_visible()
    assert no_sideways_scroll(page)
    shot(page, "draft-restored-390")
    page.get_by_role("button", name="Save self-review").click()
    expect(page.locator(".flash-success")).to_have_text("Self-review saved.")
    expect(page.locator("text=Your unsaved draft from")).to_have_count(0)
    page.context.close()


def test_percent_targets_live_weight_total_and_item_cards(app, live_server, browser, page, shot):
    team = make_team(size=1)
    person = team.people[0]
    card = team.card(person)
    acos = as_acos(metric_item(card))
    card_id, acos_id, email = card.id, acos.id, person.email
    db.session.commit()
    sign_in(page, live_server, email, PASSWORD)
    page.goto(f"{live_server}/scorecards/{card_id}")
    target = page.locator(f"[name='items-{acos_id}-target']")
    assert target.input_value() == "25"
    total = page.locator("[data-weights-total]")
    expect(total.locator("output")).to_have_text("100")
    page.fill(f"[name='items-{acos_id}-weight']", "50")
    expect(total.locator("output")).to_have_text("90")
    expect(total).to_have_class("weights-total field-error")
    page.fill(f"[name='items-{acos_id}-weight']", "60")
    expect(total).to_have_class("weights-total ok")
    target.fill("22")
    page.get_by_role("button", name="Save targets").click()
    expect(page.locator(".flash-success")).to_have_text("Targets saved.")
    assert db.session.get(ScorecardItem, acos_id).target == Decimal("0.22")  # stored as the fraction
    db.session.rollback()  # the test's transaction must not hold SQLite's lock while the app writes
    shot(page, "percent-1366")

    small = phone(browser)
    sign_in(small, live_server, email, PASSWORD)
    small.goto(f"{live_server}/scorecards/{card_id}")
    assert no_sideways_scroll(small)
    row = small.locator(f"#item-{acos_id}")
    box, actual = row.bounding_box(), row.locator("td.col-actual").bounding_box()
    assert box["width"] <= 390 and actual["x"] + actual["width"] <= 390  # Actual is on screen
    shot(small, "cards-390")
    small.context.close()
