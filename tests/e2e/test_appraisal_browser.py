"""An employee drafts and submits targets; the manager approves in place with htmx."""

import re

import pytest
from playwright.sync_api import expect

from kpiapp.extensions import db
from tests.appraisal.factories import make_team, metric_item
from tests.e2e.conftest import open_menu_entry, sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def load_marker(page):
    """app.js marks each page load; it runs after htmx (both deferred), so htmx is ready too."""
    expect(page.locator("html")).to_have_attribute("data-page-load", re.compile(".+"))
    return page.locator("html").get_attribute("data-page-load")


def test_draft_submit_and_approve_in_place(app, live_server, browser, page, shot):
    team = make_team(size=1)
    person, manager = team.people[0], team.manager
    card = team.card(person)
    card_id, item_id, emails = card.id, metric_item(card).id, (person.email, manager.email)
    person_name = person.name
    db.session.commit()
    status = page.locator(f"#scorecard-{card_id}-status")

    # the employee finds the scorecard and adjusts a target in place
    sign_in(page, live_server, emails[0], PASSWORD)
    open_menu_entry(page, "Mine", "My scorecards")
    page.click("text=2026 Q4")
    expect(status.locator(".state-badge")).to_have_text("Draft")
    assert "GMV" in page.locator(f"#scorecard-{card_id}-items").inner_text()
    shot(page, "1-employee-draft")
    marker = load_marker(page)
    page.fill(f"input[name='items-{item_id}-target']", "105000")
    page.click("text=Save targets")
    expect(page.locator(".flash-success")).to_have_text("Targets saved.")
    assert page.locator(f"input[name='items-{item_id}-target']").input_value() == "105000"
    assert load_marker(page) == marker  # swapped in place, not reloaded
    shot(page, "2-employee-saved")

    # submit: the status panel changes in place and the target inputs are gone
    page.click("button:has-text('Submit targets')")
    expect(status.locator(".state-badge")).to_have_text("Submitted")
    expect(page.locator(f"input[name='items-{item_id}-target']")).to_have_count(0)
    assert load_marker(page) == marker
    shot(page, "3-employee-submitted")

    # the manager sees it on the team page and approves on the scorecard, in place
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    boss = context.new_page()
    boss.set_default_timeout(10_000)
    sign_in(boss, live_server, emails[1], PASSWORD)
    open_menu_entry(boss, "Mine", "My team")
    row = boss.locator(f"#scorecard-{card_id}-row")
    expect(row).to_contain_text(person_name)
    expect(row.locator(".state-badge")).to_have_text("Submitted")
    shot(boss, "4-manager-team")
    # a return without a reason is refused by the browser (required field) before any request
    row.locator("a", has_text=person_name).click()
    boss_status = boss.locator(f"#scorecard-{card_id}-status")
    expect(boss_status.locator(".state-badge")).to_have_text("Submitted")
    marker = load_marker(boss)
    boss.click("button:has-text('Approve targets')")
    expect(boss_status.locator(".state-badge")).to_have_text("Approved")
    expect(boss.locator(".flash-success")).to_have_text("Approve targets: done.")
    assert load_marker(boss) == marker  # the same page: htmx swapped the panel
    expect(boss.locator(f"#scorecard-{card_id}-history")).to_contain_text("Targets approved")
    shot(boss, "5-manager-approved")
    context.close()

    # the employee reloads and sees the approved targets and their history
    page.reload()
    expect(status.locator(".state-badge")).to_have_text("Approved")
    expect(page.locator(f"#scorecard-{card_id}-history")).to_contain_text("Targets submitted")
    shot(page, "6-employee-approved")


def test_hr_template_weights_cycle_start_and_calibration(app, live_server, page, shot):
    from kpiapp.appraisal.workflow import ScorecardState as S
    from tests.appraisal.factories import walk_to

    team = make_team(size=2)
    for person in team.people:
        walk_to(team, person, S.CALIBRATION, actual="120000", manager_score="5")
    hr_email, cycle_id = team.hr.email, team.cycle.id
    first = team.card(team.people[0])
    first_id, first_name = first.id, team.people[0].name
    db.session.commit()
    sign_in(page, live_server, hr_email, PASSWORD)

    # a new template: the weight total follows the typing
    page.goto(f"{live_server}/kpi-templates/new")
    load_marker(page)
    page.fill("input[name='items-1-name']", "GMV")
    page.fill("input[name='items-1-weight']", "60")
    expect(page.locator("#weights-total")).to_contain_text("Weights total: 60")
    expect(page.locator("#weights-total")).to_contain_text("they must total 100")
    page.fill("input[name='items-2-name']", "Teamwork")
    page.select_option("select[name='items-2-kind']", "manual")
    page.fill("input[name='items-2-weight']", "40")
    expect(page.locator("#weights-total")).to_contain_text("Weights total: 100 ✓")
    shot(page, "1-template-weights")

    # calibration: both people got S, over the 10% quota; HR moves one to A in place
    page.goto(f"{live_server}/cycles/{cycle_id}/calibration")
    marker = load_marker(page)
    expect(page.locator(".distribution")).to_contain_text("over quota")
    shot(page, "2-calibration-before")
    row = page.locator(f"#scorecard-{first_id}-calibration")
    row.locator("select[name=grade]").select_option("A")
    row.locator("input[name=reason]").fill("Quota: S only for the top 10%")
    row.locator("button").click()
    expect(row).to_contain_text("Grade set.")
    expect(row.locator("strong")).to_have_text("A")
    # the distribution above refreshes itself (HX-Trigger: scorecard-changed): one S, one A now
    whole = page.locator(".distribution tr", has_text="Whole cycle")
    expect(whole.locator("td").nth(1)).to_contain_text("1")  # S: 2 -> 1
    expect(whole.locator("td").nth(2)).to_contain_text("1")  # A: 0 -> 1
    assert load_marker(page) == marker
    shot(page, "3-calibration-adjusted")

    page.goto(f"{live_server}/cycles/new")
    expect(page.locator("input[name='grade-1-grade']")).to_have_value("S")  # the default grade table
    shot(page, "3b-cycle-form")
    page.goto(f"{live_server}/cycles/{cycle_id}")
    expect(page.locator("table.board")).to_contain_text("2")
    shot(page, "4-cycle-board")
    page.goto(f"{live_server}/cycles/{cycle_id}/health")
    expect(page.locator("#health-calibrate")).to_contain_text(first_name)
    page.locator("#health-calibrate button").click()
    expect(page.locator("#reminded")).to_contain_text("2 reminders sent.")
    shot(page, "5-cycle-health")


def test_review_forms_and_locked_result_look_right(app, live_server, page, shot):
    from kpiapp.appraisal.workflow import ScorecardState as S
    from tests.appraisal.factories import walk_to

    team = make_team(size=2)
    reviewing, locked = team.people
    walk_to(team, reviewing, S.SELF_REVIEW)
    walk_to(team, locked, S.LOCKED)
    ids = team.card(reviewing).id, team.card(locked).id
    emails = reviewing.email, locked.email, team.manager.email
    db.session.commit()

    sign_in(page, live_server, emails[0], PASSWORD)
    page.goto(f"{live_server}/scorecards/{ids[0]}")
    expect(page.locator(f"#scorecard-{ids[0]}-reviews")).to_contain_text("Your self-review")
    expect(page.locator(f"#scorecard-{ids[0]}-items")).to_contain_text("between target")
    shot(page, "1-self-review-form")
    page.click("button:has-text('Submit self-review')")
    expect(page.locator(".flash-error")).to_contain_text(
        "Add a self-review comment"
    )  # a 422 swapped in place
    shot(page, "2-self-review-refused")

    page.context.clear_cookies()
    sign_in(page, live_server, emails[1], PASSWORD)
    page.goto(f"{live_server}/scorecards/{ids[1]}")
    expect(page.locator(".state-badge").first).to_have_text("Locked")
    expect(page.locator(f"#scorecard-{ids[1]}-reviews")).to_contain_text("Acknowledge your result")
    shot(page, "3-locked-result")
    page.click("button[value=zh_CN]")
    expect(page.locator(f"#scorecard-{ids[1]}-items")).to_contain_text("分")
    shot(page, "4-locked-result-zh")
