"""The dashboards' rendered panels in the memo (docs/dashboards.md, "The memo"): a repeat request
serves the body HTML kept beside the built panels (no panel is rendered again) and equals the page
built afresh; the language, the reader and their rights, the person shown and the data (the token)
are all in the key; the store dashboards and the person dashboard are memoized too.

Real commits (rollback(False)): the token changes at COMMIT on PostgreSQL."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, update

from kpiapp.dashboards.memo import memo
from kpiapp.dashboards.panels import Panel
from kpiapp.extensions import db
from kpiapp.models import FxRate, MetricFact, StoreOwner
from kpiapp.web.kept_pages import page_memo
from tests.web import test_pace_dashboards as pace
from tests.web.test_company_dashboard import org  # noqa: F401 (the org fixture)
from tests.web.test_dashboard_memo import SIGNED, built_fresh, changes_page, company, page_of, served
from tests.web.test_dashboard_memo import day, hr  # noqa: F401 (fixtures)

pytestmark = pytest.mark.rollback(False)


@pytest.fixture
def rendered(monkeypatch):
    """How many panels' tables were turned into cells (what rendering a panel does first)."""
    count = {"n": 0}
    cells = Panel.cells

    def counted(self, lang):
        count["n"] += 1
        return cells(self, lang)
    monkeypatch.setattr(Panel, "cells", counted)
    return count


def paths(org):
    cycle = org.team.cycle.id
    return [company(org), f"/dashboards/company/stores?cycle={cycle}", f"/dashboards/team?cycle={cycle}",
            f"/dashboards/stores?cycle={cycle}", f"/dashboards/stores/{org.de.id}?cycle={cycle}"]


def test_a_hit_renders_no_panel_and_serves_the_html_a_build_gives(org, hr, rendered):
    for path in paths(org):
        first, from_memo = served(hr, path)
        assert not from_memo and rendered["n"], path
        before = rendered["n"]
        again, from_memo = served(hr, path)
        assert from_memo and again == first and rendered["n"] == before, path  # no panel rendered
        fragment = SIGNED.sub("(csrf)", hr.get(path, htmx=True).get_data(as_text=True))
        assert rendered["n"] == before and fragment in again and "<html" not in fragment, path
        assert built_fresh(hr, path) == again, path
        memo().clear()
        page_memo().clear()
        assert SIGNED.sub("(csrf)", hr.get(path, htmx=True).get_data(as_text=True)) == fragment, path


def test_the_publish_form_is_rendered_every_time_and_only_for_hr(org, hr, browser):
    from kpiapp.dashboards import services as settings

    settings.set_public("company", "freshness", True, org.team.hr)
    db.session.commit()
    page = hr.page(company(org))
    again = hr.page(company(org))
    tokens = [SIGNED.findall(p) for p in (page, again)]
    assert 'name="panel" value="freshness" checked' in again and tokens[0] and tokens[1]
    employee = browser(org.team.people[0])
    seen = employee.page(company(org))
    assert served(employee, company(org)) == (page_of(employee, company(org)), True)
    assert "dashboard-publish" not in seen


def set_language(client, locale):
    """The language of this session only (as the language switch keeps it): no write, the token stays."""
    with client.client.session_transaction() as session:
        session["locale"] = locale


def test_the_language_switch_serves_the_other_languages_html(org, hr):
    pages = {}
    for path in paths(org):
        pages[path] = served(hr, path)[0]
    set_language(hr, "zh_CN")
    for path in paths(org):
        chinese, from_memo = served(hr, path)
        assert not from_memo and chinese != pages[path], path
        assert served(hr, path) == (chinese, True), path
    chinese = page_of(hr, company(org))
    assert "按部门的达成度" in chinese and "Attainment by department" not in chinese
    assert "Latest data" not in page_of(hr, paths(org)[3])
    set_language(hr, "en")
    for path in paths(org):
        assert served(hr, path) == (pages[path], True), path


def test_the_store_pages_are_kept_per_reader_and_what_they_may_see(org, hr, browser):
    cycle = org.team.cycle.id
    listing = f"/dashboards/stores?cycle={cycle}"
    person = org.team.people[0]  # in the cycle; owns SHP-SG only
    db.session.add(StoreOwner(store_id=org.sg.id, person_id=person.id, share_pct=Decimal("100")))
    db.session.commit()
    everything = served(hr, listing)[0]
    assert all(f">{code}</a>" in everything for code in ("AMZ-US", "AMZ-DE", "SHP-SG"))  # the panel's rows
    owner = browser(person)
    theirs, from_memo = served(owner, listing)
    assert not from_memo and ">SHP-SG</a>" in theirs and "AMZ-US" not in theirs and "AMZ-DE" not in theirs
    assert served(owner, listing) == (theirs, True)
    assert served(hr, listing) == (everything, True)
    de = f"/dashboards/stores/{org.de.id}?cycle={cycle}"
    served(hr, de)
    assert served(hr, de)[1]
    assert owner.get(de).status_code == 404  # kept for HR: still not theirs
    mine = f"/dashboards/stores/{org.sg.id}?cycle={cycle}"
    assert served(owner, mine)[0] == served(owner, mine)[0] and served(owner, mine)[1]
    assert built_fresh(owner, mine) == page_of(owner, mine)


def test_a_write_changes_the_store_pages(org, hr):
    cycle = org.team.cycle.id
    for path in (f"/dashboards/stores?cycle={cycle}", f"/dashboards/stores/{org.de.id}?cycle={cycle}"):
        changes_page(org, hr, lambda: db.session.execute(
            update(FxRate).where(FxRate.currency == "EUR").values(rate=FxRate.rate + 1)), path)


# ---- the person dashboard ------------------------------------------------------------------

@pytest.fixture
def team_of_two(app, monkeypatch):
    monkeypatch.setattr("kpiapp.dashboards.routes.person.utc_today", lambda: pace.TODAY)
    o = pace.build(["Amy", "Zed"])
    pace.relax_acos(o, o.people[0])
    db.session.commit()
    return o


def items_of(o, person):
    return [f'href="/provenance/items/{i.id}"' for i in o.cards[person.id].items if i.metric_key]


def test_a_person_never_sees_another_persons_panels(team_of_two, browser, rendered):
    o = team_of_two
    amy, zed = o.people
    path = f"/dashboards/person?cycle={o.cycle.id}"
    zeds = browser(zed)
    own, from_memo = served(zeds, path)
    assert not from_memo and all(link in own for link in items_of(o, zed))
    assert served(zeds, path) == (own, True)
    before = rendered["n"]
    amys = browser(amy)
    hers, from_memo = served(amys, path)
    assert not from_memo and rendered["n"] > before
    assert all(link in hers for link in items_of(o, amy))
    assert not any(link in hers for link in items_of(o, zed))
    assert served(amys, path) == (hers, True)
    theirs = f"/dashboards/person/{zed.id}?cycle={o.cycle.id}"
    boss = browser(o.boss)
    seen = served(boss, theirs)[0]
    assert all(link in seen for link in items_of(o, zed)) and served(boss, theirs) == (seen, True)
    assert amys.get(theirs).status_code == 404  # kept for the boss: still not hers
    assert built_fresh(boss, theirs) == seen and built_fresh(zeds, path) == own


def test_a_write_changes_the_person_page(team_of_two, browser):
    o = team_of_two
    zed = o.people[1]
    path = f"/dashboards/person?cycle={o.cycle.id}"
    page = changes_page(o, browser(zed), lambda: db.session.execute(
        update(MetricFact).where(MetricFact.store_id == o.shop.id, MetricFact.measure == "ordered_sales",
                                 MetricFact.business_date == pace.TODAY).values(value=Decimal("5000"))), path)
    assert "Progress of Zed" in page


def test_the_person_download_comes_from_the_kept_panels(team_of_two, browser):
    o = team_of_two
    boss = browser(o.boss)
    path = f"/dashboards/person/{o.people[1].id}?cycle={o.cycle.id}"
    boss.page(path)
    assert served(boss, path)[1]
    hits = memo().hits
    csv = boss.get(path + "&download=pace&format=csv").get_data().decode("utf-8-sig")
    assert memo().hits > hits and next(line for line in csv.splitlines() if line.startswith("GMV"))
    assert boss.get(path + "&download=nothing&format=csv").status_code == 404


def test_a_new_day_builds_the_store_and_person_pages_again(org, hr, monkeypatch):
    listing = f"/dashboards/stores?cycle={org.team.cycle.id}"
    hr.page(listing)
    assert served(hr, listing)[1]
    tomorrow = date.today() + timedelta(days=1)
    monkeypatch.setattr("kpiapp.dashboards.routes.stores.utc_today", lambda: tomorrow)
    monkeypatch.setattr("kpiapp.web.kept_pages.today", lambda: (tomorrow, tomorrow))  # the whole page's day
    assert not served(hr, listing)[1]


# ---- the menu's answers ----------------------------------------------------------------------

def statements_of(client, path):
    seen = []
    listener = lambda _conn, _cursor, statement, *_args: seen.append(statement)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        page = page_of(client, path)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return page, seen


def test_the_menu_is_kept_with_the_page_and_follows_the_data(team_of_two, browser):
    o = team_of_two
    amy, zed = o.people
    path = f"/dashboards/person?cycle={o.cycle.id}"
    zeds = browser(zed)
    first, asked = statements_of(zeds, path)
    menu = lambda s: "manager_id = " in s or "store_owner" in s  # noqa: E731 (has_reports, the store rule)
    assert "My team" not in first and any(menu(s) for s in asked)
    again, asked = statements_of(zeds, path)
    assert again == first and not any(menu(s) for s in asked), asked
    queries = [s for s in asked if s.lstrip().upper().startswith(("SELECT", "WITH"))]
    assert len(queries) == 2, queries  # the session's user, the token (the whole page kept: kept_pages.py)
    amy.manager_id = zed.id
    db.session.commit()
    assert "My team" in zeds.page(path)
    assert "My team" not in browser(amy).page(path)


def test_a_warm_dashboard_reads_the_session_and_the_token_only(org, hr):
    """The whole page is kept (kpiapp/web/kept_pages.py). (One store's page is built around its kept
    panels and reads the cycle, its store, the rule's check and its connections' freshness too: the
    badge follows the clock.)"""
    for path in paths(org)[:4]:
        first = page_of(hr, path)
        again, asked = statements_of(hr, path)
        queries = [s for s in asked if s.lstrip().upper().startswith(("SELECT", "WITH"))]
        assert again == first and len(queries) == 2, (path, queries)


def my_team_in_menu(page):
    return 'href="/scorecards/team"' in page[page.index("<header"):page.index("</header>")]


@pytest.mark.parametrize("path", ["/scorecards/", "/metrics/"])
def test_every_page_keeps_the_menu_per_reader_and_follows_the_data(team_of_two, browser, path):
    """Not only the dashboards: any signed-in page reads the token (unless it did) and keeps the
    menu's answers per reader in the menu's own memo (a reader's menu pushes no page out)."""
    from kpiapp.dashboards.memo import menu_memo

    o = team_of_two
    amy, zed = o.people
    zeds = browser(zed)
    menu = lambda s: s.lstrip().startswith("SELECT EXISTS") and ("manager_id = " in s or "store_owner" in s)  # noqa: E731
    menu_memo().clear()
    first, asked = statements_of(zeds, path)
    assert not my_team_in_menu(first) and any(menu(s) for s in asked)
    kept = len(memo().entries)
    again, asked_again = statements_of(zeds, path)
    assert not any(menu(s) for s in asked_again), [s[:300] for s in asked_again if menu(s)]
    assert len(asked_again) < len(asked) and len(memo().entries) == kept and menu_memo().hits
    amy.manager_id = zed.id
    db.session.commit()
    assert my_team_in_menu(zeds.page(path))
    assert not my_team_in_menu(browser(amy).page(path))
