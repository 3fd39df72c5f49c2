"""Locked means frozen: the services refuse, and the database refuses what slips past."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from kpiapp.appraisal import services
from kpiapp.appraisal.workflow import Action
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from kpiapp.models import AuditEvent, ChangeRequest, ScorecardItem
from tests.appraisal.factories import make_team, manual_items, metric_item, walk_to


@pytest.fixture
def locked():
    team = make_team(size=1)
    card = walk_to(team, team.people[0], S.LOCKED)
    return team, card


SERVICE_CALLS = {
    "update_items": lambda t, c: services.update_items(c, c.person, {metric_item(c).id: {"target": "1"}}),
    "request_change": lambda t, c: services.request_change(
        c, c.person, {metric_item(c).id: {"target": "1"}}, "x"
    ),
    "save_self_review": lambda t, c: services.save_self_review(c, c.person, comment="later"),
    "save_manager_review": lambda t, c: services.save_manager_review(c, t.manager, comment="later"),
    "calibrate": lambda t, c: services.calibrate(c, t.hr, "D", "late"),
    "set_actual": lambda t, c: services.set_actual(metric_item(c), "1", date(2027, 1, 5), {}),
    "lock": lambda t, c: services.apply_action(c.id, Action.LOCK, t.hr),
    "submit": lambda t, c: services.apply_action(c.id, Action.SUBMIT, c.person),
}


def test_every_service_refuses_a_locked_scorecard(locked):
    team, card = locked  # one locked scorecard for all calls: building one per call is slow
    for name, call in SERVICE_CALLS.items():
        with pytest.raises(services.FrozenError) as refused:
            call(team, card)
        assert refused.value.code == "locked", name
        db.session.rollback()


def test_a_refused_write_can_be_audited(locked):
    team, card = locked
    with pytest.raises(services.FrozenError) as refused:
        services.save_manager_review(card, team.manager, comment="late")
    db.session.rollback()
    services.record_refusal(refused.value, team.manager, card.id)
    db.session.commit()
    event = db.session.query(AuditEvent).filter_by(action="scorecard.refused").one()
    assert (event.actor_id, event.entity_id, '"code":"locked"' in event.after_json) == (
        team.manager.id,
        str(card.id),
        True,
    )


def test_decide_change_refuses_after_lock(locked):
    team, card = locked
    pending = ChangeRequest(scorecard=card, requested_by_id=card.person_id, changes={}, reason="x")
    with pytest.raises(services.FrozenError):
        services.decide_change(pending, team.manager, "approve", "ok")


def assert_rejected_by_db(statement_or_commit):
    with pytest.raises(IntegrityError) as caught:  # the trigger, on both databases
        statement_or_commit()
    assert "locked" in str(caught.value).lower()
    db.session.rollback()


def test_orm_change_of_a_locked_scorecard_is_rejected(locked):
    _team, card = locked
    total = card.total
    card.total = Decimal("1")
    assert_rejected_by_db(db.session.commit)
    db.session.expire_all()
    assert card.total == total


def test_orm_change_of_a_locked_item_is_rejected(locked):
    _team, card = locked
    item = manual_items(card)[0]
    item.final_points = Decimal("120")
    assert_rejected_by_db(db.session.commit)
    db.session.expire_all()
    assert item.final_points == Decimal("80.00")


def test_raw_sql_update_and_delete_are_rejected(locked):
    _team, card = locked
    total = card.total
    assert_rejected_by_db(
        lambda: db.session.execute(text("UPDATE scorecard SET total = 1 WHERE id = :id"), {"id": card.id})
    )
    assert_rejected_by_db(
        lambda: db.session.execute(
            text("DELETE FROM scorecard_item WHERE scorecard_id = :id"), {"id": card.id}
        )
    )
    assert_rejected_by_db(
        lambda: db.session.execute(
            text("UPDATE scorecard_item SET final_points = 0 WHERE scorecard_id = :id"), {"id": card.id}
        )
    )
    assert_rejected_by_db(
        lambda: db.session.execute(text("DELETE FROM scorecard WHERE id = :id"), {"id": card.id})
    )
    assert_rejected_by_db(
        lambda: db.session.execute(
            text("UPDATE scorecard_item_version SET data = '{}' WHERE scorecard_id = :id"), {"id": card.id}
        )
    )
    db.session.expire_all()
    assert card.total == total and len(card.items) == 2


def test_no_item_can_be_added_to_a_locked_scorecard(locked):
    _team, card = locked
    db.session.add(
        ScorecardItem(
            scorecard_id=card.id,
            name="sneaky",
            kind="manual",
            weight=1,
            rule={"kind": "manual", "scale_max": "5"},
        )
    )
    assert_rejected_by_db(db.session.commit)


def test_unlocked_scorecards_stay_writable_in_sql():
    team = make_team(size=1)
    card = walk_to(team, team.people[0], S.CALIBRATION)
    db.session.execute(text("UPDATE scorecard SET manager_comment = 'raw' WHERE id = :id"), {"id": card.id})
    db.session.commit()
    services.lock(card, team.hr)  # the transition INTO locked passes the trigger
    db.session.commit()
    assert card.state == S.LOCKED and card.manager_comment == "raw"


def test_events_and_acknowledgements_are_append_only(locked):
    _team, card = locked
    services.acknowledge(card, card.person)
    db.session.commit()
    for table in ("scorecard_event", "acknowledgement"):
        with pytest.raises(DBAPIError):
            db.session.execute(text(f"UPDATE {table} SET scorecard_id = scorecard_id"))
        db.session.rollback()
