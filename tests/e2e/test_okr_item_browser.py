"""Issue 14's remaining pieces in Chromium, zh and en at 1366 and 390 px: the OKR attainment
item on a scorecard with its key results, the comments on a manual KPI item posted in place,
and the task board's "More tasks" appending the next page (and a plain link without JS)."""
from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from kpiapp.appraisal import services
from kpiapp.extensions import db
from kpiapp.models import Scorecard
from kpiapp.objectives import services as okr
from kpiapp.objectives import tasks
from tests.appraisal.factories import ITEMS, HRFactory, make_template
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD, DepartmentFactory, PositionFactory, UserFactory
from tests.objectives.helpers_tasks import make_crew

pytestmark = pytest.mark.browser

SIZES = {"1366": (1366, 900), "390": (390, 844)}
LANGS = {"zh": "zh_CN", "en": "en"}
FITS = "document.documentElement.scrollWidth <= window.innerWidth"
WORDS = {"zh": {"okr": "OKR 达成率", "item_comments": "KPI 项评论"},
         "en": {"okr": "OKR attainment", "item_comments": "Comments on KPI items"}}


def okr_card(locale):
    department, position = DepartmentFactory(), PositionFactory()
    hr = HRFactory(department=department)
    manager = UserFactory(department=department, position=None, name="Li Wei", locale=locale)
    person = UserFactory(department=department, position=position, manager=manager, name="Zhao Lei", locale=locale)
    make_template(hr, position, ITEMS)
    cycle = services.create_cycle(hr, name="2026 Q4", kind="quarterly", period_start=date(2026, 10, 1),
                                  period_end=date(2026, 12, 31), participants=[{"position_id": position.id}],
                                  okr_weight=Decimal(20))
    objective = okr.create_objective({"title": "Grow AMZ-DE profitably", "level": "person",
                                      "owner_id": person.id, "period": "2026-Q4"}, hr)
    for title, value, weight in (("DE GMV 300k", "150", "2"), ("Margin above 25 %", "180", "1")):
        kr = okr.create_key_result(objective, {"title": title, "kind": "manual", "start_value": "0",
                                               "target": "200", "weight": weight}, hr)
        okr.check_in(kr, {"confidence": "on_track", "value": value}, hr)
    services.start_cycle(cycle.id, hr.id)
    card = db.session.query(Scorecard).filter_by(cycle_id=cycle.id, person_id=person.id).one()
    values = {"manager": manager.email, "card": card.id}
    db.session.commit()
    db.session.close()
    return values


def open_page(browser, width, height, js=True):
    context = browser.new_context(viewport={"width": width, "height": height}, java_script_enabled=js)
    page = context.new_page()
    page.set_default_timeout(10_000)
    return context, page


@pytest.mark.parametrize("lang", list(LANGS))
@pytest.mark.parametrize("size", list(SIZES))
def test_okr_item_and_item_comments(app, browser, shot, size, lang, request):
    made = okr_card(LANGS[lang])
    live_server = request.getfixturevalue("live_server")
    context, page = open_page(browser, *SIZES[size])
    sign_in(page, live_server, made["manager"], PASSWORD)
    page.goto(f"{live_server}/scorecards/{made['card']}")
    row = page.locator("tr.item-row", has_text=WORDS[lang]["okr"])
    assert row.count() == 1 and "80 %" in row.inner_text()  # (2 x 75 % + 1 x 90 %) / 3
    provenance = page.locator(".okr-provenance")
    assert "DE GMV 300k" in provenance.inner_text() and "Margin above 25 %" in provenance.inner_text()
    assert page.evaluate(FITS), "the scorecard is wider than the window"
    shot(page, f"okr-{size}-{lang}")
    teamwork = page.locator("#item-comments details", has_text="Teamwork").first
    teamwork.locator("summary").click()
    teamwork.locator("textarea[name=body]").fill("How was teamwork measured?")
    teamwork.locator("button[type=submit]").click()
    page.wait_for_selector("details[id$='-comments'] .comment-list li")
    assert "How was teamwork measured?" in page.inner_text("#item-comments")
    assert WORDS[lang]["item_comments"] in page.inner_text("#item-comments")
    assert page.evaluate(FITS)
    shot(page, f"item-comments-{size}-{lang}")
    context.close()


def crowded_board(locale, count):
    crew = make_crew()
    crew.manager.name, crew.manager.locale = "Li Wei", locale
    for n in range(count):
        tasks.create_task({"title": f"Relist ASIN batch {n:03d}", "assignee_id": crew.worker.id,
                           "due": f"2026-12-{1 + n % 28:02d}"}, crew.manager)
    values = {"manager": crew.manager.email}
    db.session.commit()
    db.session.close()
    return values


@pytest.mark.parametrize("lang", list(LANGS))
@pytest.mark.parametrize("size", list(SIZES))
def test_board_more(app, browser, shot, size, lang, request, monkeypatch):
    monkeypatch.setattr(tasks, "BOARD_PAGE", 6)
    made = crowded_board(LANGS[lang], 15)
    live_server = request.getfixturevalue("live_server")
    context, page = open_page(browser, *SIZES[size])
    sign_in(page, live_server, made["manager"], PASSWORD)
    page.goto(f"{live_server}/tasks/board")
    assert page.locator(".task-card").count() == 6
    assert "(15)" in page.inner_text("#column-open")
    page.click("#board-more a")
    expect(page.locator(".task-card")).to_have_count(12)
    page.click("#board-more a")
    expect(page.locator(".task-card")).to_have_count(15)
    assert page.locator("#board-more a").count() == 0
    titles = page.locator(".task-card > a").all_inner_texts()
    assert len(set(titles)) == 15
    assert page.evaluate(FITS)
    shot(page, f"board-more-{size}-{lang}")
    context.close()


def test_board_more_without_javascript(app, browser, request, monkeypatch):
    monkeypatch.setattr(tasks, "BOARD_PAGE", 6)
    made = crowded_board("en", 8)
    live_server = request.getfixturevalue("live_server")
    context, page = open_page(browser, 1366, 900, js=False)
    sign_in(page, live_server, made["manager"], PASSWORD)
    page.goto(f"{live_server}/tasks/board")
    assert page.locator(".task-card").count() == 6
    page.click("#board-more a")
    page.wait_for_url("**/tasks/board?after=*")
    assert page.locator(".task-card").count() == 2 and page.locator("text=First page").count() == 1
    context.close()
