"""Every guard refuses with its own code; nobody acts on their own scorecard."""

from datetime import date

import pytest

from kpiapp.appraisal import services
from kpiapp.appraisal.workflow import Action
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from kpiapp.models import Role, ScorecardEvent
from tests.appraisal.factories import HRFactory, make_team, manual_items, metric_item, walk_to
from tests.factories import UserFactory

pytestmark = pytest.mark.rollback  # one transaction per test, rolled back (tests/conftest.py)


def refused(call, code, error=services.AppraisalError):
    with pytest.raises(error) as caught:
        call()
    assert caught.value.code == code, caught.value.message
    db.session.rollback()


def test_submit_needs_weights_total_100():
    team = make_team(size=1)
    person = team.people[0]
    card = team.card(person)
    services.update_items(card, person, {metric_item(card).id: {"weight": "50"}})
    refused(lambda: services.apply_action(card.id, Action.SUBMIT, person), "weights_not_100")


def test_submit_needs_complete_targets():
    team = make_team(size=1)
    person = team.people[0]
    card = team.card(person)
    services.update_items(card, person, {metric_item(card).id: {"target": None}})
    refused(lambda: services.apply_action(card.id, Action.SUBMIT, person), "item_incomplete")
    services.update_items(card, person, {metric_item(card).id: {"target": "100000", "threshold": None}})
    refused(lambda: services.apply_action(card.id, Action.SUBMIT, person), "item_incomplete")


def test_submit_self_review_needs_comment_and_manual_scores():
    team = make_team(size=1)
    person = team.people[0]
    card = walk_to(team, person, S.SELF_REVIEW)
    refused(
        lambda: services.apply_action(card.id, Action.SUBMIT_SELF_REVIEW, person), "self_review_incomplete"
    )
    services.save_self_review(card, person, comment="Done")
    refused(
        lambda: services.apply_action(card.id, Action.SUBMIT_SELF_REVIEW, person), "self_review_incomplete"
    )
    refused(
        lambda: services.save_self_review(card, person, items={metric_item(card).id: {"self_score": "90"}}),
        "invalid_field",
    )
    refused(
        lambda: services.save_self_review(
            card, person, items={manual_items(card)[0].id: {"self_score": "9"}}
        ),
        "manual_score_out_of_range",
    )


def test_manager_review_needs_final_points_and_override_reason():
    team = make_team(size=1)
    person = team.people[0]
    card = walk_to(team, person, S.MANAGER_REVIEW)
    refused(
        lambda: services.apply_action(card.id, Action.SUBMIT_MANAGER_REVIEW, team.manager),
        "final_points_missing",
    )
    refused(
        lambda: services.save_manager_review(
            card, team.manager, items={metric_item(card).id: {"manager_score": "100"}}
        ),
        "override_reason_required",
    )
    services.save_manager_review(
        card, team.manager, items={metric_item(card).id: {"manager_score": "110"}}
    )  # equal to the computed score: no override
    assert metric_item(card).final_points == 110


def test_lock_needs_final_points():
    team = make_team(size=1)
    person = team.people[0]
    card = walk_to(team, person, S.CALIBRATION)
    services.set_actual(metric_item(card), "100000", date(2026, 12, 31), {})
    db.session.commit()
    assert services._guard_lock(card) is None
    metric_item(card).final_points = None  # as if data vanished (guard defends the lock)
    refused(lambda: services.apply_action(card.id, Action.LOCK, team.hr), "final_points_missing")


def test_lock_refused_with_pending_change_request():
    team = make_team(size=1)
    person = team.people[0]
    card = walk_to(team, person, S.MANAGER_REVIEW)
    services.request_change(card, person, {metric_item(card).id: {"target": "95000"}}, "Price war")
    walk_to(team, person, S.CALIBRATION)
    refused(lambda: services.apply_action(card.id, Action.LOCK, team.hr), "change_request_pending")


@pytest.mark.parametrize(
    "action, state, reason",
    [
        (Action.RETURN_, S.SUBMITTED, None),
        (Action.RETURN_SELF_REVIEW, S.MANAGER_REVIEW, " "),
    ],
)
def test_returns_need_a_reason(action, state, reason):
    team = make_team(size=1)
    card = walk_to(team, team.people[0], state)
    refused(lambda: services.apply_action(card.id, action, team.manager, reason=reason), "reason_required")


def test_reopen_needs_a_reason_and_an_admin():
    team = make_team(size=1)
    card = walk_to(team, team.people[0], S.LOCKED)
    refused(lambda: services.apply_action(card.id, Action.REOPEN, team.admin), "reason_required")
    refused(lambda: services.apply_action(card.id, Action.REOPEN, team.hr, reason="x"), "forbidden")


@pytest.mark.parametrize(
    "role, state, action, code",
    [
        ("hr", S.APPROVED, Action.OPEN_REVIEW, "own_scorecard"),
        ("hr", S.CALIBRATION, Action.LOCK, "own_scorecard"),
        ("admin", S.LOCKED, Action.REOPEN, "own_scorecard"),
        ("employee", S.SUBMITTED, Action.APPROVE, "forbidden"),  # a manager of others, not of themself
    ],
)
def test_nobody_acts_on_their_own_scorecard(role, state, action, code):
    team = make_team(size=1)
    owner = UserFactory(role=Role(role), position=team.position, manager=team.manager)
    UserFactory(manager=owner)
    services.add_participants(team.cycle, team.hr, [{"person_id": owner.id}])
    services.start_cycle(team.cycle.id, team.hr.id)
    db.session.commit()
    card = walk_to(team, owner, state)
    refused(lambda: services.apply_action(card.id, action, owner, reason="mine"), code)


def test_own_review_lock_and_calibration_refused_for_hr_owner():
    team = make_team(size=1)
    hr_owner = HRFactory(position=team.position, manager=team.manager)
    services.add_participants(team.cycle, team.hr, [{"person_id": hr_owner.id}])
    services.start_cycle(team.cycle.id, team.hr.id)
    db.session.commit()
    card = walk_to(team, hr_owner, S.MANAGER_REVIEW)
    refused(lambda: services.save_manager_review(card, hr_owner, comment="great"), "forbidden")
    walk_to(team, hr_owner, S.CALIBRATION)
    refused(lambda: services.calibrate(card, hr_owner, "S", "I deserve it"), "own_scorecard")
    refused(lambda: services.apply_action(card.id, Action.LOCK, hr_owner), "own_scorecard")
    services.apply_action(card.id, Action.LOCK, team.hr)
    db.session.commit()
    assert card.state == S.LOCKED


@pytest.mark.parametrize("who, code", [("peer", "forbidden"), ("hr", "forbidden"), ("owner", "forbidden")])
def test_only_a_manager_approves(who, code):
    team = make_team(size=2)
    owner, peer = team.people
    card = walk_to(team, owner, S.SUBMITTED)
    actor = {"peer": peer, "hr": team.hr, "owner": owner}[who]
    refused(lambda: services.apply_action(card.id, Action.APPROVE, actor), code)
    assert db.session.query(ScorecardEvent).filter_by(action="approve").count() == 0


def test_wrong_state_and_unknown_fields():
    team = make_team(size=1)
    person = team.people[0]
    card = team.card(person)
    refused(lambda: services.apply_action(card.id, Action.LOCK, team.hr), "not_allowed_in_state")
    refused(
        lambda: services.update_items(card, person, {metric_item(card).id: {"final_points": "120"}}),
        "invalid_field",
    )
    refused(lambda: services.update_items(card, person, {999999: {"target": "1"}}), "invalid_field")
    refused(
        lambda: services.update_items(card, team.hr, {metric_item(card).id: {"target": "1"}}), "forbidden"
    )
    refused(lambda: services.save_self_review(card, person, comment="early"), "not_allowed_in_state")
    walk_to(team, person, S.APPROVED)
    refused(
        lambda: services.update_items(card, person, {metric_item(card).id: {"target": "1"}}), "not_editable"
    )
    refused(
        lambda: services.request_change(card, person, {metric_item(card).id: {"weight": "10"}}, "why"),
        "weights_not_100",
    )
    refused(
        lambda: services.request_change(card, person, {metric_item(card).id: {"target": "1"}}, ""),
        "reason_required",
    )


def test_facts_for_a_list_match_each_scorecard():
    from kpiapp.appraisal.workflow import Facts

    team = make_team(size=2)
    first, second = team.people
    old = walk_to(team, first, S.LOCKED)
    services.acknowledge(old, first)
    new = services.reopen(old, team.admin, "wrong FX rate")
    card = walk_to(team, second, S.APPROVED)
    services.request_change(card, second, {metric_item(card).id: {"target": "95000"}}, "price war")
    db.session.commit()
    assert services.facts_for([old, new, card], second) == {
        old.id: Facts(superseded=True, acknowledged=True),
        new.id: Facts(),
        card.id: Facts(change_pending=True, change_requested_by_actor=True),
    }
    assert services.facts_of(card, team.manager) == Facts(change_pending=True)
    assert services.facts_for([], team.manager) == {}
