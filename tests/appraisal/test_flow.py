"""A whole cycle through the services, for several people, in every state."""

from datetime import date
from decimal import Decimal

import pytest

from kpiapp.appraisal import notifications, services
from kpiapp.appraisal.workflow import Action
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.audit import verify_chain
from kpiapp.extensions import db
from kpiapp.models import Acknowledgement, AuditEvent, ChangeRequest, JobRun, Notification, ScorecardEvent
from kpiapp.notifications import delivery, mail
from kpiapp.models.appraisal import ScorecardItemVersion
from tests.appraisal.factories import make_team, manual_items, metric_item, walk_to

pytestmark = pytest.mark.rollback  # one transaction per test, rolled back (tests/conftest.py)


def events_of(card):
    return [
        (e.action, e.old_state, e.new_state)
        for e in db.session.query(ScorecardEvent).filter_by(scorecard_id=card.id).order_by(ScorecardEvent.id)
    ]


def test_full_walk_for_several_people():
    team = make_team(size=3)
    alice, bob, carol = team.people

    # alice: returned once with a reason, then approved
    card = team.card(alice)
    services.update_items(card, alice, {metric_item(card).id: {"target": "105000"}})
    services.apply_action(card.id, Action.SUBMIT, alice)
    services.apply_action(card.id, Action.RETURN_, team.manager, reason="Stretch is too low")
    db.session.commit()
    assert card.state == S.RETURNED
    services.update_items(card, team.manager, {metric_item(card).id: {"stretch": "140000"}})
    services.apply_action(card.id, Action.SUBMIT, alice)
    services.apply_action(card.id, Action.APPROVE, team.boss)  # anyone up the line may approve
    db.session.commit()
    assert card.state == S.APPROVED
    versions = db.session.query(ScorecardItemVersion).filter_by(scorecard_id=card.id).all()
    assert [v.revision for v in versions] == [1, 1]
    approved = db.session.query(AuditEvent).filter_by(action="scorecard.approve").one()
    version_created = db.session.query(AuditEvent).filter_by(action="scorecard_item_version.create").first()
    assert approved.actor_id == version_created.actor_id == team.boss.id  # who did it, in the audit log

    walk_to(team, alice, S.LOCKED)
    walk_to(team, bob, S.CALIBRATION, actual="70000", manager_score="2")
    walk_to(team, carol, S.SELF_REVIEW)

    assert card.state == S.LOCKED and card.total is not None and card.grade
    assert card.locked_by_id == team.hr.id and card.snapshot["formula_versions"]["metrics"] == {"gmv": 1}
    assert [a for a, _, _ in events_of(card)] == [
        "submit",
        "return",
        "submit",
        "approve",
        "open_review",
        "submit_self_review",
        "submit_manager_review",
        "lock",
    ]
    assert team.card(bob).state == S.CALIBRATION and team.card(carol).state == S.SELF_REVIEW
    assert db.session.query(AuditEvent).filter_by(action="scorecard.lock").count() == 1
    assert verify_chain(db.session).ok


def test_points_total_grade_and_snapshot():
    team = make_team(size=1)
    person = team.people[0]
    card = walk_to(team, person, S.LOCKED, actual="110000", manager_score="4")
    gmv, teamwork = metric_item(card), manual_items(card)[0]
    # GMV 110000 is halfway from target 100000 to stretch 120000: 100 + 0.5 x 20
    assert gmv.computed_points == Decimal("110.00") and gmv.final_points == Decimal("110.00")
    assert teamwork.final_points == Decimal("80.00")  # 4 of 5
    assert card.total == Decimal("98.00")  # 110 x 0.6 + 80 x 0.4
    assert card.grade == "S" and card.bonus_coefficient == Decimal("1.5")
    assert card.snapshot["items"][0]["actual"] == "110000.000000"
    assert card.snapshot["computed_grade"] == "S"


def test_change_request_approve_and_reject():
    team = make_team(size=1)
    person = team.people[0]
    card = walk_to(team, person, S.APPROVED)
    gmv = metric_item(card)
    request = services.request_change(
        card, person, {gmv.id: {"target": "90000"}}, "Store was delisted for 2 weeks"
    )
    db.session.commit()
    assert gmv.target == Decimal("100000")  # approved target stays in force while pending
    with pytest.raises(services.ValidationError) as refused:
        services.request_change(card, person, {gmv.id: {"target": "95000"}}, "again")
    assert refused.value.code == "change_request_pending"
    services.decide_change(request, team.manager, "reject", "Delisting was our own fault")
    db.session.commit()
    assert request.status == "rejected" and gmv.target == Decimal("100000") and gmv.revision == 1

    second = services.request_change(
        card, team.manager, {gmv.id: {"target": "90000", "threshold": "70000"}}, "Agreed after delisting"
    )
    asked = db.session.query(Notification).filter_by(kind="change_requested").order_by(Notification.id).all()
    assert [n.user_id for n in asked] == [team.manager.id, team.boss.id]  # never the requester
    with pytest.raises(services.ForbiddenError) as own:
        services.decide_change(second, team.manager, "approve", "ok")
    assert own.value.code == "own_request"
    services.decide_change(second, team.boss, "approve", "ok")
    db.session.commit()
    assert gmv.target == Decimal("90000") and gmv.revision == 2
    versions = db.session.query(ScorecardItemVersion).filter_by(item_id=gmv.id).order_by("revision").all()
    assert [(v.revision, v.data["target"]) for v in versions] == [(1, "100000.000000"), (2, "90000")]
    assert versions[1].change_request_id == second.id
    assert db.session.query(ChangeRequest).count() == 2


def test_calibration_lock_acknowledge_and_reopen():
    team = make_team(size=1)
    person = team.people[0]
    card = walk_to(team, person, S.CALIBRATION)
    with pytest.raises(services.ValidationError) as no_reason:
        services.calibrate(card, team.hr, "A", "")
    assert no_reason.value.code == "reason_required"
    services.calibrate(card, team.hr, "A", "S quota is full; next best in the team")
    services.lock(card, team.hr)
    db.session.commit()
    assert card.grade == "A" and card.snapshot["computed_grade"] == "S"
    assert db.session.query(AuditEvent).filter_by(action="scorecard.calibrate").count() == 1

    ack = services.acknowledge(card, person, objection=True, comment="My GMV excludes the B2B orders")
    db.session.commit()
    assert ack.objection and db.session.query(Acknowledgement).count() == 1
    assert db.session.query(Notification).filter_by(kind="objection", user_id=team.hr2.id).count() == 1

    before = dict(card.snapshot), card.total, card.version_id
    new = services.apply_action(card.id, Action.REOPEN, team.admin, reason="B2B orders were missing")
    db.session.commit()
    db.session.expire_all()
    assert (new.version, new.state, new.reopened_from_id) == (2, S.MANAGER_REVIEW, card.id)
    assert card.state == S.LOCKED and (dict(card.snapshot), card.total, card.version_id) == before
    assert services.is_superseded(card) and not services.is_superseded(new)
    assert [i.final_points for i in new.items] == [i.final_points for i in card.items]
    assert team.card(person).id == new.id

    services.save_manager_review(
        new,
        team.manager,
        items={metric_item(new).id: {"manager_score": "115", "override_reason": "B2B orders added by hand"}},
    )
    services.apply_action(new.id, Action.SUBMIT_MANAGER_REVIEW, team.manager)
    services.lock(new, team.hr)
    db.session.commit()
    assert new.state == S.LOCKED and new.total == Decimal("101.00")
    assert card.total != new.total


def test_hr_approval_cycle():
    team = make_team(size=1, hr_approval=True)
    person = team.people[0]
    card = team.card(person)
    services.apply_action(card.id, Action.SUBMIT, person)
    services.apply_action(card.id, Action.APPROVE, team.manager)
    db.session.commit()
    assert card.state == S.HR_APPROVAL
    assert card in notifications.inbox(team.hr).waiting
    services.apply_action(card.id, Action.RETURN_, team.hr, reason="Weights favour GMV too much")
    assert card.state == S.RETURNED
    walk_to(team, person, S.APPROVED)
    assert card.state == S.APPROVED


def test_notifications_and_inbox_follow_the_next_actor():
    team = make_team(size=1)
    person = team.people[0]
    card = team.card(person)
    assert card in notifications.inbox(person).waiting
    services.apply_action(card.id, Action.SUBMIT, person)
    db.session.commit()
    manager_inbox = notifications.inbox(team.manager)
    assert card in manager_inbox.waiting and card not in notifications.inbox(person).waiting
    assert [n.kind for n in manager_inbox.notifications] == ["scorecard.submitted"]
    assert notifications.mark_read(person, [n.id for n in manager_inbox.notifications]) == 0  # not theirs
    assert notifications.mark_read(team.manager, [n.id for n in manager_inbox.notifications]) == 1
    db.session.commit()
    assert notifications.inbox(team.manager).notifications == []
    walk_to(team, person, S.LOCKED)
    assert card in notifications.inbox(person).waiting  # acknowledge
    services.acknowledge(card, person)
    db.session.commit()
    assert card not in notifications.inbox(person).waiting


def test_mail_only_after_commit_when_configured(app, monkeypatch):
    sent, launched = [], []
    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.example.com")
    monkeypatch.setattr(mail, "send_mail", lambda to, subject, body: sent.append(to))
    monkeypatch.setattr(delivery, "launch", launched.extend)
    team = make_team(size=1)
    launched.clear()
    card = team.card(team.people[0])
    services.apply_action(card.id, Action.SUBMIT, team.people[0])
    assert launched == []
    db.session.rollback()
    assert launched == []
    services.apply_action(card.id, Action.SUBMIT, team.people[0])
    db.session.commit()
    assert len(launched) == 1
    delivery.attempt(db.session.get(JobRun, launched[0]).subject_id)
    assert sent == [team.manager.email]


def test_set_actual_rescores_and_keeps_provenance():
    team = make_team(size=1)
    card = team.card(team.people[0])
    gmv = metric_item(card)
    services.set_actual(gmv, "90000", date(2026, 11, 30), {"imports": [7], "rows": 31})
    db.session.commit()
    assert gmv.computed_points == Decimal("50.00") and gmv.final_points == Decimal("50.00")
    assert gmv.provenance == {"imports": [7], "rows": 31} and gmv.data_as_of.date() == date(2026, 11, 30)
    assert gmv.explanation["code"] == "linear_between_threshold_and_target"
    with pytest.raises(services.ValidationError):
        services.set_actual(manual_items(card)[0], "1", date(2026, 11, 30), {})
