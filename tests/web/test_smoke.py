import pytest

from tests.appraisal.factories import metric_item

pytestmark = pytest.mark.rollback  # one transaction per test, rolled back (tests/conftest.py)


def test_pages_render(team, browser):
    person = team.people[0]
    card = team.card(person)
    me = browser(person)
    assert "2026 Q4" in me.page("/scorecards/")
    html = me.page(f"/scorecards/{card.id}")
    assert "GMV" in html and "Draft" in html
    r = me.post(
        f"/scorecards/{card.id}/targets",
        {f"items-{metric_item(card).id}-target": "105000", "expected_version": card.version_id},
        htmx=True,
    )
    assert r.status_code == 200, r.get_data(as_text=True)
    r = me.post(f"/scorecards/{card.id}/actions/submit", {"expected_version": card.version_id}, htmx=True)
    assert r.status_code == 200, r.get_data(as_text=True)
    assert "Submitted" in r.get_data(as_text=True)
    boss = browser(team.manager)
    html = boss.page("/scorecards/team")
    assert "Approve targets" in html
    assert "Waiting" in boss.page("/inbox/")
