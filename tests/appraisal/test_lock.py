"""Locked means frozen: the services refuse, and the database refuses what slips past."""

import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from kpiapp import audit
from kpiapp.appraisal import services
from kpiapp.appraisal.workflow import Action
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from kpiapp.models import AuditEvent, ChangeRequest, ScorecardItem
from kpiapp.models.appraisal import ChangeStatus
from tests.appraisal.factories import make_team, manual_items, metric_item, walk_to
from tests.conftest import PG_URL

FROZEN_TABLES = ("scorecard", "scorecard_item", "scorecard_item_version", "change_request")


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
    audit.record_refusal(db.session, "workflow.refused", "scorecard", card.id, refused.value.code,
                         actor=audit.actor_for(team.manager))
    db.session.commit()
    event = db.session.query(AuditEvent).filter_by(action="workflow.refused").one()
    assert (event.actor_id, event.entity_id, '"reason":"locked"' in event.after_json) == (
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


@pytest.fixture
def locked_with_history():
    """A locked scorecard with a row in every frozen table (a decided change request included)."""
    team = make_team(size=1)
    card = walk_to(team, team.people[0], S.CALIBRATION)
    db.session.add(ChangeRequest(scorecard_id=card.id, requested_by_id=card.person_id, changes={},
                                 reason="earlier", status=ChangeStatus.rejected))
    db.session.commit()
    services.lock(card, team.hr)
    db.session.commit()
    return card


def row_counts():
    return {t: db.session.execute(text(f'SELECT count(*) FROM "{t}"')).scalar() for t in FROZEN_TABLES}


@pytest.mark.parametrize("table", FROZEN_TABLES)
def test_delete_of_every_row_is_rejected(locked_with_history, table):
    """SQLite has no TRUNCATE; its DELETE without WHERE still runs the row triggers (no truncate shortcut)."""
    before = row_counts()
    assert all(before.values())
    assert_rejected_by_db(lambda: db.session.execute(text(f'DELETE FROM "{table}"')))
    assert row_counts() == before


def disable_append_only_truncate_guards():
    """In this transaction only: the append-only tables that CASCADE reaches would refuse first."""
    names = db.session.execute(text("SELECT tgrelid::regclass::text, tgname FROM pg_trigger "
                                    "WHERE tgname LIKE '%\\_no\\_truncate'")).all()
    assert names
    for table, trigger in names:
        db.session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}"))


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL only: SQLite has no TRUNCATE")
@pytest.mark.parametrize("table", FROZEN_TABLES)
def test_truncate_is_rejected_while_a_locked_row_exists(locked_with_history, table):
    before = row_counts()
    assert all(before.values())
    disable_append_only_truncate_guards()
    with pytest.raises(IntegrityError) as caught:
        db.session.execute(text(f'TRUNCATE "{table}" CASCADE'))
    assert re.search(r"(scorecard|scorecard_item|scorecard_item_version|change_request) holds rows of a "
                     r"locked scorecard: TRUNCATE refused", str(caught.value))
    db.session.rollback()
    assert row_counts() == before


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL only: SQLite has no TRUNCATE")
def test_truncate_passes_without_locked_rows():
    team = make_team(size=1)
    card = walk_to(team, team.people[0], S.APPROVED)
    assert row_counts()["scorecard_item_version"] > 0
    db.session.execute(text("TRUNCATE scorecard_item_version, change_request"))
    db.session.commit()
    assert row_counts()["scorecard_item_version"] == 0 and card.state == S.APPROVED
