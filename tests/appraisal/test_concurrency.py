"""Optimistic locking: of concurrent approvals exactly one wins, every other one gets ConflictError (409)."""

import re
import threading

import pytest

from kpiapp.appraisal import services
from kpiapp.appraisal.workflow import Action
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from kpiapp.models import AuditEvent, Scorecard, ScorecardEvent, User
from tests.appraisal.factories import make_team, metric_item, walk_to
from tests.conftest import PG_URL
from tests.factories import UserFactory
from tests.helpers import csrf_from, signed_in_client


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


RACERS = 20  # SECURITY.md §5: K = 20 parallel approvals on PostgreSQL, exactly one winner
BARRIER_WAIT = 180  # seconds; only reached when a racer is lost, so generous for a loaded machine


def approvers_above(team, count):
    """`count` people who may approve: the manager, the boss, and a line of bosses above."""
    line = [team.manager, team.boss]
    while len(line) < count:
        top = UserFactory(department=team.boss.department, position=None)
        line[-1].manager = top
        line.append(top)
    db.session.commit()
    return line


def race(count, run):
    """Start `count` threads at one barrier; run(i) returns an outcome; outcomes in thread order."""
    barrier, results = threading.Barrier(count), [None] * count

    def racer(index):
        results[index] = run(index, barrier)

    threads = [threading.Thread(target=racer, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=BARRIER_WAIT * 2)
    assert not any(thread.is_alive() for thread in threads)
    return results


def approve_audits(card_id):
    return db.session.query(AuditEvent).filter_by(action="scorecard.approve", entity_id=str(card_id)).count()


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL only: SQLite serialises writers")
@pytest.mark.parametrize("app_config", [{"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": RACERS + 5}}])
def test_concurrent_approvals_in_threads_on_postgresql(app):
    team = make_team(size=1)
    card_id = walk_to(team, team.people[0], S.SUBMITTED).id
    approver_ids = [u.id for u in approvers_above(team, RACERS)]

    def approve(index, barrier):
        with app.app_context():
            card, actor = db.session.get(Scorecard, card_id), db.session.get(User, approver_ids[index])
            assert card.state == S.SUBMITTED and actor.is_manager_of(card.person) and card.cycle.name
            barrier.wait(timeout=BARRIER_WAIT)
            try:
                services.apply_action(card_id, Action.APPROVE, actor)
                db.session.commit()
                return "ok"
            except services.ConflictError:
                return "conflict"
            finally:
                db.session.remove()

    results = race(RACERS, approve)
    assert sorted(results) == ["conflict"] * (RACERS - 1) + ["ok"]
    db.session.expire_all()
    assert db.session.get(Scorecard, card_id).state == S.APPROVED and approvals(card_id) == 1
    assert approve_audits(card_id) == 1


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL only: SQLite serialises writers")
@pytest.mark.parametrize("app_config", [{"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": RACERS + 5}}])
def test_twenty_approvals_over_http_one_winner_nineteen_409(app, figures):
    team = make_team(size=1)
    card = walk_to(team, team.people[0], S.SUBMITTED)
    card_id, seen_version = card.id, card.version_id
    approvers = approvers_above(team, RACERS)
    names = {u.id: u.name for u in approvers}
    clients = [signed_in_client(app, user) for user in approvers]
    forms = [approve_form(client, card_id) for client in clients]
    assert {form["expected_version"] for form in forms} == {str(seen_version)}

    def approve(index, barrier):
        with app.app_context():
            barrier.wait(timeout=BARRIER_WAIT)
            response = clients[index].post(f"/scorecards/{card_id}/actions/approve", data=forms[index],
                                           headers={"HX-Request": "true"})
            return response.status_code, response.get_data(as_text=True)

    results = race(RACERS, approve)
    assert sorted(status for status, _body in results) == [200] + [409] * (RACERS - 1)
    db.session.expire_all()
    card = db.session.get(Scorecard, card_id)
    assert card.state == S.APPROVED and card.version_id == seen_version + 1
    winner = names[card.updated_by_id]
    for status, body in results:  # every loser is told its version is stale, and by whom
        assert status == 200 or ("Changed in the meantime" in body and f"changed by {winner}" in body)
    assert approvals(card_id) == 1 and approve_audits(card_id) == 1
    figures.tally("Concurrent approvals over HTTP (PostgreSQL)", racers=RACERS,
                  winners=sum(status == 200 for status, _body in results),
                  conflicts_409=sum(status == 409 for status, _body in results))


def approve_form(client, card_id):
    page = client.get(f"/scorecards/{card_id}").get_data(as_text=True)
    version = re.search(r'name="expected_version" value="(\d+)"', page)
    assert version and f"/scorecards/{card_id}/actions/approve" in page
    return {"csrf_token": csrf_from(page), "expected_version": version.group(1)}
