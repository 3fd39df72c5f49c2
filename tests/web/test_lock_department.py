"""Calibration: totals, self scores and managers per person, the grade chart with its table,
and locking a whole department after one confirmation listing who (with the warnings)."""
from datetime import date, datetime, timezone

import pytest

from kpiapp.appraisal.routes import cycle_helpers
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from kpiapp.models import AuditEvent
from tests.appraisal.factories import walk_to

pytestmark = pytest.mark.rollback


def calibrate_all(team):
    return [walk_to(team, person, S.CALIBRATION) for person in team.people]


def test_calibration_page_shows_totals_self_scores_managers_and_the_chart(team, browser):
    cards = calibrate_all(team)
    page = browser(team.hr).page(f"/cycles/{team.cycle.id}/calibration")
    assert 'id="grade-chart"' in page and "data-chart-spec" in page  # the Vega-Lite spec and its table
    assert "Quota (at most)" in page and "Self score" in page
    assert page.count(f'<td data-label="Manager">{team.manager.name}</td>') == len(cards)  # one cell per card
    department = team.people[0].department_id
    assert f"/cycles/{team.cycle.id}/lock?department_id={department}" in page


def test_lock_a_department_after_one_confirmation(team, browser):
    cards = calibrate_all(team)
    hr = browser(team.hr)
    department = team.people[0].department_id
    url = f"/cycles/{team.cycle.id}/lock?department_id={department}"
    page = hr.page(url)
    for card in cards:
        assert card.person.name in page and f'value="{card.id}:{card.version_id}"' in page
    # the walk's data is as of the period end; the period has not ended before 2027
    if date.today() <= team.cycle.period_end:
        assert "The period has not ended yet" in page
    assert all(c.state == S.CALIBRATION for c in cards)  # a GET locks nothing

    entries = [f"{c.id}:{c.version_id}" for c in cards]
    r = hr.post(f"/cycles/{team.cycle.id}/lock", {"department_id": department, "card": entries[1:]})
    assert r.status_code == 302
    db.session.expire_all()
    assert [c.state for c in cards] == [S.CALIBRATION] + [S.LOCKED] * (len(cards) - 1)  # only those listed
    locks = db.session.query(AuditEvent).filter_by(action="scorecard.lock").count()
    assert locks == len(cards) - 1


def test_a_stale_confirmation_is_refused_and_others_still_lock(team, browser):
    cards = calibrate_all(team)
    hr = browser(team.hr)
    entries = [f"{c.id}:{c.version_id}" for c in cards]
    entries[0] = f"{cards[0].id}:{cards[0].version_id - 1}"  # the page was shown before a change
    hr.post(f"/cycles/{team.cycle.id}/lock", {"department_id": team.people[0].department_id, "card": entries})
    db.session.expire_all()
    assert cards[0].state == S.CALIBRATION and all(c.state == S.LOCKED for c in cards[1:])


def test_only_hr_reaches_the_lock_pages(team, browser):
    calibrate_all(team)
    boss = browser(team.manager)
    assert boss.get(f"/cycles/{team.cycle.id}/lock?department_id=1").status_code in (403, 404)
    r = boss.post(f"/cycles/{team.cycle.id}/lock", {"card": [f"{team.card(team.people[0]).id}:1"]})
    assert r.status_code in (403, 404)
    assert team.card(team.people[0]).state == S.CALIBRATION


def test_lock_warnings_name_the_data_date_and_the_period_end(team, app):
    card = walk_to(team, team.people[0], S.CALIBRATION)
    item = next(i for i in card.items if not i.is_manual)
    item.data_as_of = datetime(2026, 11, 26, tzinfo=timezone.utc)
    with app.test_request_context():
        warnings = cycle_helpers.lock_warnings(team.cycle, [card], today=date(2027, 1, 5))
        assert warnings == ["Data as of 11/26/26 for a period ending 12/31/26."]
        assert len(cycle_helpers.lock_warnings(team.cycle, [card], today=date(2026, 12, 1))) == 2
