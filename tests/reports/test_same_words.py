"""The page and the signed report word a scorecard the same way (issue 8): one presentation
module formats targets, actuals, points, explanations and approval steps for both."""

import html
import re

import pytest

from kpiapp.extensions import db
from kpiapp.reports import services
from tests.helpers import signed_in_client


def page_text(app, card, lang):
    card.person.locale = lang
    db.session.commit()
    client = signed_in_client(app, card.person)
    response = client.get(f"/scorecards/{card.id}")
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_items_read_the_same_on_the_page_and_in_the_report(app, locked, lang):
    _team, (card, _none) = locked
    page = page_text(app, card, lang)
    rows = services.item_rows(card, lang)
    assert all(row["explanation"] for row in rows)
    for row in rows:
        shown = ["points", "explanation"] + ([] if row["manual"] else ["target", "threshold", "actual"])
        for key in shown:
            assert row[key] in page, (lang, row["name"], key, row[key])


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_approval_steps_read_the_same_on_the_page_and_in_the_report(app, locked, lang):
    _team, (card, _none) = locked
    page = page_text(app, card, lang)
    report = services.render_scorecard_html(card, lang, "doc-same-words")
    steps = re.findall(r'<td class="nowrap">[^<]*</td><td>([^<]*)</td>', report)
    assert len(steps) >= 4  # submitted, approved, review opened, ... locked
    for step in steps:
        assert html.unescape(step) in page, (lang, step)
