"""Two gaps the last screen walk (every role, zh and en, 1366 and 390 px) named, in Chromium:
a chart on a 390 px phone was its desktop drawing scaled down, its 11 px labels to about 6 px;
the people list was wider than the window from 768 to 1024 px (1,142 px at 800 in English). And
one named after them: at 1366 px a chart narrower than its box was scaled up, its labels to 16-19 px;
then drawn for it at 11 px, small beside the page's 20 px text: its text follows the root font."""
import pytest
from playwright.sync_api import expect

from kpiapp.extensions import db
from kpiapp.models import Role
from tests.appraisal.factories import make_team, walk_to
from tests.e2e.conftest import CHART_TEXT, OWN_SIZE_JS, off_size, sign_in, wait_for_charts
from tests.factories import PASSWORD, ClientUserFactory, DepartmentFactory, PositionFactory, UserFactory

pytestmark = pytest.mark.browser

LANGS = {"zh": "zh_CN", "en": "en"}
FITS = "document.documentElement.scrollWidth <= window.innerWidth"
TABLE_FITS = """() => { const box = document.querySelector('#people-table .table-scroll');
  return box.scrollWidth <= box.clientWidth; }"""


def use_language(page, base, lang):
    page.set_viewport_size({"width": 1366, "height": 900})  # the switch is in the menu at 390 px
    page.goto(f"{base}/")
    switch = page.locator(f"header button[name=locale][value={LANGS[lang]}]")
    if switch.count():
        switch.click()
        page.wait_for_load_state()


def signed_in_with_a_locked_card(page, base):
    """Sign the page in as the one person of a new team whose scorecard is locked (it has the
    points-per-item chart); returns the card's id."""
    from kpiapp.appraisal.workflow import ScorecardState as S

    team = make_team(size=1)
    person = team.people[0]
    walk_to(team, person, S.LOCKED)
    card_id, email = team.card(person).id, person.email
    db.session.commit()
    sign_in(page, base, email, PASSWORD)
    return card_id


@pytest.mark.parametrize("lang", list(LANGS))
def test_a_phone_and_a_desktop_draw_the_chart_at_its_own_text_size(app, live_server, page, shot, lang):
    card_id = signed_in_with_a_locked_card(page, live_server)
    use_language(page, live_server, lang)
    sizes = {}
    for width in (390, 1366):
        page.set_viewport_size({"width": width, "height": 844})
        page.goto(f"{live_server}/scorecards/{card_id}")
        wait_for_charts(page)
        shot(page, f"{width}-{lang}")
        (chart,) = page.evaluate(CHART_TEXT)
        sizes[width] = chart
        # not scaled down or up with the SVG; 11 px times the root font / 16 (13.75 px at 1366 px)
        assert not off_size([chart]), (width, chart)
        assert chart["drawn"] <= chart["box"] + 0.5, (width, chart)  # nothing past the box's edge
        assert page.evaluate(FITS)
    # the phone's chart is narrower than the desktop's drawing, not the same drawing made small
    assert sizes[390]["drawn"] < sizes[1366]["drawn"]
    table = page.locator(f"#scorecard-{card_id}-points table.chart-data")
    expect(table).to_have_class("chart-data visually-hidden")


def demo_like_people():
    """People as the demo has them: long department paths, positions, addresses and roles."""
    top = DepartmentFactory(name="Harbor & Pine")
    operations = DepartmentFactory(name="Operations", parent=top)
    emea = DepartmentFactory(name="Amazon EU & JP", parent=operations)
    position = PositionFactory(title="Amazon operations specialist")
    admin_title = PositionFactory(title="System administrator")
    hr = UserFactory(role=Role.hr, name="周敏 Zhou Min", email="hr@demo.kpiapp.org", department=top)
    boss = UserFactory(name="王芳 Wang Fang", email="ops.head@demo.kpiapp.org", department=operations)
    for n, name in enumerate(["Jonas Becker", "佐藤 Sato Yui", "韩梅梅 Han Meimei", "Nguyen Thi Lan"]):
        UserFactory(name=name, email=f"{name.split()[-1].lower()}.{n}@demo.kpiapp.org", department=emea,
                    position=position, manager=boss)
    UserFactory(role=Role.admin, name="Alex Morgan", email="admin@demo.kpiapp.org", department=top,
                position=admin_title, manager=boss)
    ClientUserFactory(name="Erik Lindqvist", email="client@demo.kpiapp.org")
    email = hr.email
    db.session.commit()  # the test's own transaction must not hold SQLite's write lock
    return email


@pytest.mark.parametrize("lang", list(LANGS))
def test_the_people_list_fits_from_phone_to_desktop(app, live_server, page, shot, lang):
    email = demo_like_people()
    sign_in(page, live_server, email, PASSWORD)
    use_language(page, live_server, lang)
    for width in (390, 800, 1024, 1366):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server}/org/people")
        shot(page, f"{width}-{lang}")
        assert page.evaluate(FITS), width
        if width >= 768:  # narrower, every table scrolls in its own box (app.css)
            assert page.evaluate(TABLE_FITS), width
    row = page.locator("#people-table tbody tr", has_text="Jonas Becker")
    assert "becker.0@demo.kpiapp.org" in row.inner_text()  # the address is still on the row


@pytest.mark.parametrize("first, then", [(1366, 390), (390, 1366)])
def test_a_chart_is_drawn_again_for_its_box_when_the_window_is_resized(app, live_server, page, shot,
                                                                        first, then):
    """A phone turned, a desktop window narrowed or widened: the chart drawn at the first width is
    drawn again for its new box, not left as the first drawing scaled down (7.1 px text at 390 px)
    or up (16 px at 1366 px), nor left at the first width's root font (16 px, then 20 px)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    card_id = signed_in_with_a_locked_card(page, live_server)
    page.set_viewport_size({"width": first, "height": 844})
    page.goto(f"{live_server}/scorecards/{card_id}")
    wait_for_charts(page)
    (before,) = page.evaluate(CHART_TEXT)
    page.set_viewport_size({"width": then, "height": 844})  # no reload
    fits = f"() => ({CHART_TEXT})().every(c => c.drawn <= c.box + 0.5 && {OWN_SIZE_JS})"
    try:
        page.wait_for_function(fits, timeout=10_000)
    except PlaywrightTimeoutError:
        pass  # the assertions below name what is wrong
    shot(page, f"resized-{then}")
    (after,) = page.evaluate(CHART_TEXT)
    assert (after["drawn"] < before["drawn"]) == (then < first), (before, after)
    assert not off_size([after]), after
    assert after["drawn"] <= after["box"] + 0.5, after
