"""The points chart on the scorecard page: a Vega-Lite spec for vega-embed plus the same data as a table."""

import json
import re

from kpiapp.appraisal.workflow import ScorecardState as S
from tests.appraisal.factories import walk_to


def chart_spec(html):
    block = re.search(r'<script type="application/json" data-chart-spec>(.*?)</script>', html, re.S)
    return json.loads(block.group(1))


def test_locked_scorecard_page_carries_the_chart_spec_and_its_table(team, browser):
    person = team.people[0]
    card = walk_to(team, person, S.LOCKED)
    html = browser(person).page(f"/scorecards/{card.id}")
    spec = chart_spec(html)
    assert "vega-lite" in spec["$schema"]
    assert [row["item"] for row in spec["data"]["values"]] == [item.name for item in card.items]
    table = html[html.index('<table class="chart-data">'):]
    assert all(f'<th scope="row">{item.name}</th>' in table for item in card.items)
    assert "/static/vendor/vega-embed.min.js" in html and "/static/charts.js" in html
    executable = re.findall(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>", html)
    assert not executable  # data blocks and files only: the CSP allows no inline script


def test_the_htmx_fragment_carries_the_chart_too(team, browser):
    person = team.people[0]
    card = walk_to(team, person, S.LOCKED)
    fragment = browser(person).get(f"/scorecards/{card.id}", htmx=True).get_data(as_text=True)
    assert "<html" not in fragment and chart_spec(fragment)["data"]["values"]


def test_no_chart_before_any_item_has_points(team, browser):
    person = team.people[0]
    html = browser(person).page(f"/scorecards/{team.card(person).id}")
    assert "data-chart-spec" not in html


def test_chart_labels_follow_the_page_language(team, browser):
    person = team.people[0]
    card = walk_to(team, person, S.LOCKED)
    me = browser(person)
    me.post("/language", {"locale": "zh_CN", "back": "/"})
    spec = chart_spec(me.page(f"/scorecards/{card.id}"))
    assert spec["layer"][0]["encoding"]["x"]["title"] == "得分"
    assert "权重" in spec["data"]["values"][0]["caption"]
