"""At-risk notifications: once per owner and ISO week, safe when the job runs twice (docs/pace.md)."""
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from kpiapp.appraisal.notifications import text
from kpiapp.extensions import db
from kpiapp.models import Notification, PaceAlert
from kpiapp.tracking import alerts
from tests.tracking.test_paces import TODAY, world  # noqa: F401  (the fixture)

pytestmark = pytest.mark.rollback


def notes(person_id):
    return db.session.execute(select(Notification).where(Notification.user_id == person_id,
                                                         Notification.key == alerts.KEY)).scalars().all()


def test_owners_with_an_item_at_risk_are_told_once_a_week(world):  # noqa: F811
    _, _, cards = world
    cycle_id = cards[0].cycle_id
    # ACoS 0.3 against a threshold of 0.28 is at risk for both owners; GMV is on pace
    assert alerts.notify_at_risk(cycle_id, TODAY) == 2
    assert alerts.notify_at_risk(cycle_id, TODAY) == 0  # the job ran again
    assert alerts.notify_at_risk(cycle_id, TODAY + timedelta(days=3)) == 0  # same ISO week (Sunday 15th)
    for card in cards:
        [note] = notes(card.person_id)
        assert note.scorecard_id == card.id and note.params["items"] == "ACoS"
        assert text(note, "en") == ("At the current pace these items of Nov will miss their threshold: ACoS.")
    rows = db.session.execute(select(PaceAlert)).scalars().all()
    assert {(r.person_id, r.week.isoformat()) for r in rows} == {(c.person_id, "2026-11-09") for c in cards}
    # the next week, still at risk: told again
    assert alerts.notify_at_risk(cycle_id, TODAY + timedelta(days=7)) == 2
    assert [len(notes(card.person_id)) for card in cards] == [2, 2]


def test_nobody_is_told_when_nothing_is_at_risk(world):  # noqa: F811
    _, _, cards = world
    for card in cards:
        next(i for i in card.items if i.metric_key == "acos").threshold = "0.35"
    db.session.flush()
    assert alerts.notify_at_risk(cards[0].cycle_id, TODAY) == 0
    assert notes(cards[0].person_id) == []


def test_kpi_at_risk_command(world, app, monkeypatch):  # noqa: F811
    monkeypatch.setattr("kpiapp.tracking.alerts.utc_today", lambda: TODAY)
    result = CliRunner().invoke(app.cli, ["kpi", "at-risk"], catch_exceptions=False)
    assert result.exit_code == 0 and result.output == "2 owners notified of items at risk\n"


def test_no_notice_once_the_period_is_over(world):  # noqa: F811
    _, _, cards = world
    # 1 December: ACoS still misses its threshold, but November's result is in, not at risk
    assert alerts.notify_at_risk(cards[0].cycle_id, TODAY + timedelta(days=21)) == 0
