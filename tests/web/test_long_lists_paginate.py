"""Issue 10: the cycle board, calibration and team pages list scorecards in keyset pages
(?after=<id>, plain links): page 2 exists and every scorecard is on exactly one page; the
counts above the lists cover the whole cycle, not the page."""
import re

import pytest

from kpiapp.appraisal import queries, services
from kpiapp.appraisal.routes import cycle_helpers
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from kpiapp.models import Notification
from tests.appraisal.factories import make_team, walk_to
from tests.factories import DepartmentFactory

CARD_LINK = re.compile(r'href="/scorecards/(\d+)"')
NEXT_LINK = re.compile(r'<a href="([^"]+)" rel="next">')
TEAMS_NEXT_LINK = re.compile(r'<a href="([^"]+teams=[^"]+)" rel="next">')
TEAM_ROW = re.compile(r'<tr><th scope="row">([^<]+)</th>')


@pytest.fixture
def team(app, monkeypatch):
    monkeypatch.setattr(queries, "PAGE_SIZE", 2)
    team = make_team(size=5)
    for person in team.people[:3]:
        walk_to(team, person, S.CALIBRATION, actual="120000", manager_score="5")
    return team


def walk_pages(browser, path, htmls=None):
    """[set of scorecard ids linked on each page], following the "Next" links from `path`."""
    pages, htmls = [], htmls if htmls is not None else []
    while path:
        html = browser.page(path)
        htmls.append(html)
        pages.append({int(i) for i in CARD_LINK.findall(html)})
        found = NEXT_LINK.search(html)
        path = found.group(1).replace("&amp;", "&") if found else None
        assert len(pages) < 10
    return pages


def assert_each_once(pages, expected):
    assert len(pages) >= 2 and all(pages)
    seen = [card for page in pages for card in page]
    assert sorted(seen) == sorted(expected)  # no card twice, none missing


def test_cycle_board_pages_cover_every_card_once(team, browser):
    pages = walk_pages(browser(team.hr), f"/cycles/{team.cycle.id}")
    assert len(pages) == 3
    assert_each_once(pages, [c.id for c in queries.cycle_scorecards(team.cycle.id)])


def test_team_pages_cover_every_card_once(team, browser):
    htmls = []
    pages = walk_pages(browser(team.boss), "/scorecards/team", htmls)
    assert_each_once(pages, [c.id for c in queries.cycle_scorecards(team.cycle.id)])
    assert len(pages[-1]) == 1 and "(3)" in htmls[-1]  # the section counts all three, not the page's one


def test_calibration_pages_the_open_cards_and_counts_the_whole_cycle(team, browser):
    pages = walk_pages(browser(team.hr), f"/cycles/{team.cycle.id}/calibration")
    open_ids = [c.id for c in queries.cycle_scorecards(team.cycle.id) if c.state == S.CALIBRATION]
    assert len(pages) == 2
    assert_each_once(pages, open_ids)
    _bands, (rows, next_teams), _page, overall = cycle_helpers.calibration(team.cycle)
    assert next_teams is None  # one team: one page of teams
    assert overall == services.cycle_distribution(team.cycle.id) and overall["graded"] == 3
    assert sum(n for _team, _dept, n, _counts, _over in rows) == 3


def test_cycle_health_shows_the_first_people_and_reminds_the_whole_stage(team, browser):
    hr = browser(team.hr)
    calibrate = next(row for row in cycle_helpers.health(team.cycle) if row.stage == "calibrate")
    assert (calibrate.owing, len(calibrate.shown)) == (3, 2)
    assert "and 1 more" in hr.page(f"/cycles/{team.cycle.id}/health")
    hr.post(f"/cycles/{team.cycle.id}/remind", {"stage": "calibrate", "back": f"/cycles/{team.cycle.id}/health"})
    reminded = {n.scorecard_id for n in db.session.query(Notification).filter_by(kind="reminder")}
    open_ids = {c.id for c in queries.cycle_scorecards(team.cycle.id) if c.state == S.CALIBRATION}
    assert reminded == open_ids and len(open_ids) == 3


@pytest.fixture
def teams(team, monkeypatch):
    """The team's five people each in a department of their own; two teams per page."""
    monkeypatch.setattr(cycle_helpers, "TEAM_PAGE_SIZE", 2)
    for person in team.people:
        person.department = DepartmentFactory()
    db.session.commit()
    return team


def walk_team_pages(browser, path, table):
    """[[team names in the per-team table] per page], following the teams' "Next" links."""
    pages = []
    while path:
        html = browser.page(path)
        rows, below = html.split(f'<table class="{table}">', 1)[1].split("</table>", 1)
        pages.append([name for name in TEAM_ROW.findall(rows) if name != "Whole cycle"])
        found = TEAMS_NEXT_LINK.search(below.split("<h2>", 1)[0])  # the table's own pager
        path = found.group(1).replace("&amp;", "&") if found else None
        assert len(pages) < 10
    return pages


def test_cycle_board_pages_its_departments(teams, browser):
    pages = walk_team_pages(browser(teams.hr), f"/cycles/{teams.cycle.id}", "board")
    names = sorted(person.department.name for person in teams.people)
    assert [len(page) for page in pages] == [2, 2, 1]
    assert sorted(name for page in pages for name in page) == names  # each department once


def test_calibration_pages_its_teams_and_counts_the_whole_cycle(teams, browser):
    pages = walk_team_pages(browser(teams.hr), f"/cycles/{teams.cycle.id}/calibration", "distribution")
    _bands, (rows, next_teams), _page, overall = cycle_helpers.calibration(teams.cycle, teams_from=2)
    graded = sorted(grade_teams(teams.cycle))
    assert len(graded) == 3 and [len(page) for page in pages] == [2, 1]
    assert sorted(name for page in pages for name in page) == graded  # each team once
    assert [row[0] for row in rows] == graded[2:] and next_teams is None
    assert overall["graded"] == 3  # every team's cards, not the page's


def grade_teams(cycle):
    """The departments of the cycle's cards that have a grade (the per-team table's teams)."""
    bands = services.grade_bands(cycle.grade_table)
    return {name for _dept, name, _grade, _n in queries.cycle_grade_counts(cycle.id, bands)}
