"""Issue 11 in Chromium: the grouped menu fits at 1280 px and folds behind "Menu" at 390 px
(with and without JavaScript), and the scorecard's stepper marks the current stage."""
import pytest
from playwright.sync_api import expect

from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from tests.appraisal.factories import make_team, walk_to
from tests.e2e.conftest import open_menu_entry, sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

FITS = "document.documentElement.scrollWidth <= window.innerWidth"


def new_page(browser, width, height, javascript=True):
    context = browser.new_context(locale="en-US", viewport={"width": width, "height": height},
                                  java_script_enabled=javascript)
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def test_menu_fits_one_row_at_1280_and_marks_the_current_section(app, live_server, browser, shot):
    team = make_team(size=1)
    email = team.hr.email
    db.session.commit()
    page = new_page(browser, 1280, 800)
    sign_in(page, live_server, email, PASSWORD)
    expect(page.locator(".site-menu > summary")).to_be_hidden()
    brand = page.locator(".site-header .brand").bounding_box()
    first_section = page.locator(".site-header .menu-group > summary").first.bounding_box()
    assert abs(brand["y"] + brand["height"] / 2 - (first_section["y"] + first_section["height"] / 2)) < 12
    assert page.evaluate(FITS)
    open_menu_entry(page, "Organisation", "People")
    expect(page).to_have_url(f"{live_server}/org/people")
    expect(page.locator(".menu-group[data-group=org] > summary")).to_have_class("current")
    expect(page.locator(".menu-group[data-group=mine] > summary")).not_to_have_class("current")
    assert page.evaluate(FITS)
    shot(page, "1280")
    page.context.close()


@pytest.mark.parametrize("width", [1366, 1280])
def test_the_admins_six_sections_and_account_fit_one_row(app, live_server, browser, shot, width):
    """The admin has the most sections (six); in English, on People (its section bold), the account
    wrapped to a second row under them at 1366 px, the brand left floating between the two."""
    email = make_team(size=1).admin.email
    db.session.commit()
    page = new_page(browser, width, 800)
    sign_in(page, live_server, email, PASSWORD)
    page.goto(f"{live_server}/org/people")
    expect(page.locator(".site-header .menu-group")).to_have_count(6)
    shot(page, f"admin-{width}")
    sections = page.locator(".site-header .menu-group > summary").last.bounding_box()
    sign_out = page.locator(".site-header form[action='/logout'] button").bounding_box()
    assert abs(sections["y"] + sections["height"] / 2 - (sign_out["y"] + sign_out["height"] / 2)) < 12


@pytest.mark.parametrize("javascript", [True, False])
def test_menu_folds_behind_menu_on_a_phone(app, live_server, browser, shot, javascript):
    team = make_team(size=1)
    email = team.hr.email
    db.session.commit()
    page = new_page(browser, 390, 844, javascript)
    sign_in(page, live_server, email, PASSWORD)
    toggle = page.locator(".site-menu > summary")
    expect(toggle).to_be_visible()
    expect(page.locator(".site-header .menu-group > summary").first).to_be_hidden()
    assert page.evaluate(FITS)
    toggle.click()
    open_menu_entry(page, "Appraisal", "Cycles")
    expect(page).to_have_url(f"{live_server}/cycles/")
    page.wait_for_load_state("load")  # the stylesheets applied: an unstyled table is wider
    assert page.evaluate(FITS)
    shot(page, "390")
    page.context.close()


def test_menu_shows_without_javascript_on_a_wide_screen(app, live_server, browser):
    team = make_team(size=1)
    email = team.hr.email
    db.session.commit()
    page = new_page(browser, 1280, 800, javascript=False)
    sign_in(page, live_server, email, PASSWORD)
    expect(page.locator(".site-header .menu-group > summary").first).to_be_visible()
    expect(page.locator(".site-menu > summary")).to_be_hidden()
    page.context.close()


MENU_OPEN = "() => document.querySelector('.site-menu').open"


def test_a_wide_windows_menu_folds_when_the_window_narrows(app, live_server, browser, shot):
    """A desktop window narrowed to a phone's width, without a reload: the menu folds behind
    "Menu" as on a phone's load. app.js opened it on the wide load and left it open: at 390 px it
    stood unfolded under "Menu", the header 500 px tall (93 px on a phone's load)."""
    email = make_team(size=1).hr.email
    db.session.commit()
    page = new_page(browser, 1366, 844)
    sign_in(page, live_server, email, PASSWORD)
    sections = page.locator(".site-header .menu-group > summary")
    expect(sections.first).to_be_visible()
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.locator(".site-menu > summary")).to_be_visible()
    expect(sections.first).to_be_hidden()
    shot(page, "narrowed-390")
    page.click(".site-menu > summary")
    open_menu_entry(page, "Appraisal", "Cycles")
    expect(page).to_have_url(f"{live_server}/cycles/")


def test_a_phones_menu_is_the_wide_one_when_the_window_widens(app, live_server, browser, shot):
    """A phone's menu (unfolded with a section open, or folded) widened to 1366 px and narrowed
    again, without a reload: at each width it is as a page loaded there has it. Before, the section
    opened on the phone hung open over the page at 1366 px and the menu stayed unfolded when
    narrowed again; a folded menu stayed a closed <details> when widened, shown only by a browser
    that shows its content by CSS (app.css, ::details-content; app.js opens it for the others)."""
    email = make_team(size=1).hr.email
    db.session.commit()
    page = new_page(browser, 390, 844)
    sign_in(page, live_server, email, PASSWORD)
    toggle = page.locator(".site-menu > summary")
    sections = page.locator(".site-header .menu-group > summary")
    toggle.click()
    page.click(".site-header summary:has-text('Appraisal')")
    cycles = page.locator(".site-header a:has-text('Cycles')")
    expect(cycles).to_be_visible()
    shot(page, "opened-390")
    page.set_viewport_size({"width": 1366, "height": 844})
    expect(toggle).to_be_hidden()
    expect(cycles).to_be_hidden()  # no section left open over the page
    brand = page.locator(".site-header .brand").bounding_box()
    first = sections.first.bounding_box()
    assert abs(brand["y"] + brand["height"] / 2 - (first["y"] + first["height"] / 2)) < 12
    shot(page, "widened-1366")
    page.set_viewport_size({"width": 390, "height": 844})
    expect(sections.first).to_be_hidden()
    expect(toggle).to_be_visible()
    shot(page, "narrowed-390")
    page.set_viewport_size({"width": 1366, "height": 844})  # the folded menu widened
    expect(sections.first).to_be_visible()
    page.wait_for_function(MENU_OPEN)  # as app.js opens it on a wide load


@pytest.mark.parametrize("width, height", [(1280, 800), (390, 844)])
def test_stepper_marks_the_current_stage(app, live_server, browser, shot, width, height):
    team = make_team(size=1)
    person = team.people[0]
    card = walk_to(team, person, S.SELF_REVIEW)
    card_id, email = card.id, person.email
    db.session.commit()
    page = new_page(browser, width, height)
    sign_in(page, live_server, email, PASSWORD)
    page.goto(f"{live_server}/scorecards/{card_id}")
    steps = page.locator(f"#scorecard-{card_id}-standing .stepper li")
    expect(steps).to_have_count(7)
    expect(page.locator(".stepper [aria-current=step]")).to_have_text("Self-review")
    expect(page.locator(".projection")).to_contain_text("Projected score 110")
    assert page.evaluate(FITS)
    shot(page, f"stepper-{width}")
    page.context.close()
