"""Two gaps the last screen walk (every role, zh and en, 1366 and 390 px) named, in Chromium:
a chart on a 390 px phone was its desktop drawing scaled down, its 11 px labels to about 6 px;
the people list was wider than the window from 768 to 1024 px (1,142 px at 800 in English)."""
import pytest
from playwright.sync_api import expect

from kpiapp.extensions import db
from tests.appraisal.factories import make_team, walk_to
from tests.e2e.conftest import CHART_TEXT, READABLE_PX, sign_in, wait_for_charts
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

LANGS = {"zh": "zh_CN", "en": "en"}
FITS = "document.documentElement.scrollWidth <= window.innerWidth"


def use_language(page, base, lang):
    page.set_viewport_size({"width": 1366, "height": 900})  # the switch is in the menu at 390 px
    page.goto(f"{base}/")
    switch = page.locator(f"header button[name=locale][value={LANGS[lang]}]")
    if switch.count():
        switch.click()
        page.wait_for_load_state()


@pytest.mark.parametrize("lang", list(LANGS))
def test_a_phone_draws_the_chart_at_its_own_text_size(app, live_server, page, shot, lang):
    from kpiapp.appraisal.workflow import ScorecardState as S

    team = make_team(size=1)
    person = team.people[0]
    walk_to(team, person, S.LOCKED)
    card_id, email = team.card(person).id, person.email
    db.session.commit()
    sign_in(page, live_server, email, PASSWORD)
    use_language(page, live_server, lang)
    sizes = {}
    for width in (390, 1366):
        page.set_viewport_size({"width": width, "height": 844})
        page.goto(f"{live_server}/scorecards/{card_id}")
        wait_for_charts(page)
        shot(page, f"{width}-{lang}")
        (chart,) = page.evaluate(CHART_TEXT)
        sizes[width] = chart
        assert chart["smallest"] >= READABLE_PX, (width, chart)
        assert chart["drawn"] <= chart["box"] + 0.5, (width, chart)  # nothing past the box's edge
        assert page.evaluate(FITS)
    # the phone's chart is narrower than the desktop's drawing, not the same drawing made small
    assert sizes[390]["drawn"] < sizes[1366]["drawn"]
    expect(page.locator(f"#scorecard-{card_id}-points table.chart-data")).to_have_class("chart-data visually-hidden")
