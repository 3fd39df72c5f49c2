"""Optimistic locking: of two concurrent approvals exactly one wins, the other gets ConflictError."""

import threading

import pytest

from kpiapp.appraisal import services
from kpiapp.appraisal.workflow import Action
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from kpiapp.models import Scorecard, ScorecardEvent, User
from tests.appraisal.factories import make_team, metric_item, walk_to
from tests.conftest import PG_URL


def approvals(card_id):
    return db.session.query(ScorecardEvent).filter_by(scorecard_id=card_id, action="approve").count()


def test_two_sessions_approve_one_conflicts(app):
    team = make_team(size=1)
    card_id = walk_to(team, team.people[0], S.SUBMITTED).id
    manager_id, boss_id = team.manager.id, team.boss.id
    db.session.commit()  # SQLite: a read transaction holds the write lock (BEGIN IMMEDIATE)

    with app.app_context():  # session B reads the scorecard and keeps it in memory
        stale_session = db.session()
        stale_session.expire_on_commit = False
        stale_card, boss = stale_session.get(Scorecard, card_id), stale_session.get(User, boss_id)
        assert stale_card.person.manager.manager.id == boss_id and stale_card.cycle.grade_table
        stale_session.commit()  # SQLite: release the write lock a read transaction holds

        with app.app_context():  # session A approves and commits
            services.apply_action(card_id, Action.APPROVE, db.session.get(User, manager_id))
            db.session.commit()

        with pytest.raises(services.ConflictError) as conflict:
            services.apply_action(card_id, Action.APPROVE, boss)
        assert conflict.value.changed_by.id == manager_id and conflict.value.code == "conflict"

    db.session.expire_all()
    card = db.session.get(Scorecard, card_id)
    assert card.state == S.APPROVED and card.updated_by_id == manager_id and approvals(card_id) == 1


def test_expected_version_is_compare_and_set():
    team = make_team(size=1)
    person = team.people[0]
    card = team.card(person)
    seen = card.version_id
    services.update_items(card, team.manager, {metric_item(card).id: {"target": "101000"}})
    db.session.commit()
    with pytest.raises(services.ConflictError) as conflict:
        services.apply_action(card.id, Action.SUBMIT, person, expected_version=seen)
    assert conflict.value.changed_by.id == team.manager.id
    services.apply_action(card.id, Action.SUBMIT, person, expected_version=card.version_id)
    db.session.commit()
    assert card.state == S.SUBMITTED


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL only: SQLite serialises writers")
def test_concurrent_approvals_in_threads_on_postgresql(app):
    team = make_team(size=1)
    card_id = walk_to(team, team.people[0], S.SUBMITTED).id
    approver_ids = [team.manager.id, team.boss.id]
    barrier, results = threading.Barrier(len(approver_ids)), []

    def approve(approver_id):
        with app.app_context():
            card, actor = db.session.get(Scorecard, card_id), db.session.get(User, approver_id)
            assert card.state == S.SUBMITTED and card.person.manager.manager and card.cycle.name
            barrier.wait(timeout=10)
            try:
                services.apply_action(card_id, Action.APPROVE, actor)
                db.session.commit()
                results.append("ok")
            except services.ConflictError:
                results.append("conflict")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=approve, args=(i,)) for i in approver_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == ["conflict", "ok"]
    db.session.expire_all()
    assert db.session.get(Scorecard, card_id).state == S.APPROVED and approvals(card_id) == 1
