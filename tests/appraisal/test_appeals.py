"""Appeals (申诉): the state machine, who may take each step, the services, audit and history."""

from itertools import combinations

import pytest

from kpiapp.appraisal import appeal_flow, notifications, queries, services
from kpiapp.appraisal.appeal_flow import AppealFacts, AppealStep
from kpiapp.appraisal.appeal_flow import AppealState as AS
from kpiapp.appraisal.workflow import Relation as R
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.appraisal.workflow import TransitionError
from kpiapp.extensions import db
from kpiapp.models import Appeal, AuditEvent, Notification, Scorecard, ScorecardItem
from tests.appraisal.factories import make_team, walk_to

# who may take each step, written out independently of appeal_flow.TRANSITIONS
EXPECTED = {
    (None, AppealStep.RAISE): {R.OWNER},
    (AS.OPEN, AppealStep.ANSWER): {R.MANAGER, R.HR},
    (AS.ANSWERED, AppealStep.CLOSE): {R.HR},
    (AS.ANSWERED, AppealStep.REOPEN): {R.ADMIN},
}
STATES = [None, *AS]
RELATION_SETS = [set(c) for n in range(1, 3) for c in combinations(R, n)]


@pytest.mark.rollback  # pure logic: no database of its own (the appraisal conftest still gives it the app)
@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("relations", RELATION_SETS, ids=lambda r: "+".join(sorted(r)))
def test_permission_matrix(state, relations):
    owner = R.OWNER in relations
    expected = tuple(step for step in AppealStep
                     if EXPECTED.get((state, step), set()) & relations
                     and (not owner or step == AppealStep.RAISE))
    assert appeal_flow.permitted(state, relations, is_owner=owner) == expected
    for step in AppealStep:
        if step in expected:
            assert appeal_flow.check(state, step, relations, is_owner=owner, text="why") is not None
        else:
            with pytest.raises(TransitionError):
                appeal_flow.check(state, step, relations, is_owner=owner, text="why")


@pytest.mark.rollback  # pure logic: no database of its own
def test_state_machine_paths_and_blockers():
    assert appeal_flow.check(None, AppealStep.RAISE, {R.OWNER}, is_owner=True, text="x") == AS.OPEN
    assert appeal_flow.check(AS.OPEN, AppealStep.ANSWER, {R.MANAGER}, is_owner=False, text="x") == AS.ANSWERED
    assert appeal_flow.check(AS.ANSWERED, AppealStep.CLOSE, {R.HR}, is_owner=False) == AS.CLOSED
    reopened = appeal_flow.check(AS.ANSWERED, AppealStep.REOPEN, {R.ADMIN}, is_owner=False, text="x")
    assert reopened == AS.REOPENED
    for state in (AS.CLOSED, AS.REOPENED):  # final
        assert appeal_flow.permitted(state, set(R), is_owner=False) == ()
    codes = {}
    for name, call in {
        "text": lambda: appeal_flow.check(AS.OPEN, AppealStep.ANSWER, {R.HR}, is_owner=False, text="  "),
        "unlocked": lambda: appeal_flow.check(None, AppealStep.RAISE, {R.OWNER}, is_owner=True, text="x",
                                              facts=AppealFacts(locked=False)),
        "superseded": lambda: appeal_flow.check(AS.OPEN, AppealStep.ANSWER, {R.HR}, is_owner=False, text="x",
                                                facts=AppealFacts(superseded=True)),
        "own": lambda: appeal_flow.check(AS.OPEN, AppealStep.ANSWER, {R.HR, R.OWNER}, is_owner=True,
                                         text="x"),
    }.items():
        with pytest.raises(TransitionError) as refused:
            call()
        codes[name] = refused.value.code
    assert codes == {"text": "reason_required", "unlocked": "not_locked", "superseded": "superseded",
                     "own": "own_scorecard"}


def locked_team():
    team = make_team(size=1)
    person = team.people[0]
    card = walk_to(team, person, S.LOCKED)
    return team, person, card


def audit_actions(card):
    events = db.session.query(AuditEvent).filter_by(entity="scorecard", entity_id=str(card.id))
    return [e.action for e in events.order_by(AuditEvent.seq)]


@pytest.mark.rollback
def test_objection_raises_an_appeal_answered_and_closed():
    team, person, card = locked_team()
    services.acknowledge(card, person, objection=True, comment="My GMV excludes the B2B orders")
    db.session.commit()
    appeal = services.appeal_of(card)
    assert (appeal.status, appeal.reason, appeal.raised_by_id) == (AS.OPEN, "My GMV excludes the B2B orders",
                                                                   person.id)
    assert (appeal.deadline - appeal.created_at.date()).days == services.APPEAL_REPLY_DAYS
    # in the manager's and HR's waiting list, not in the employee's or the boss's
    assert notifications.appeals_waiting_for(team.manager) == [appeal]
    assert notifications.appeals_waiting_for(team.hr) == [appeal]
    assert notifications.appeals_waiting_for(person) == []
    assert notifications.appeals_waiting_for(team.boss) == []
    assert db.session.query(Notification).filter_by(kind="objection", user_id=team.manager.id).count() == 1

    with pytest.raises(services.ValidationError) as too_early:
        services.close_appeal(appeal, team.hr)  # not answered yet
    assert too_early.value.code == "not_allowed_in_state"
    with pytest.raises(services.ValidationError) as no_text:
        services.answer_appeal(appeal, team.manager, " ")
    assert no_text.value.code == "reason_required"
    services.answer_appeal(appeal, team.manager, "B2B orders are out of scope by the KPI template.")
    db.session.commit()
    assert (appeal.status, appeal.replied_by_id) == (AS.ANSWERED, team.manager.id)
    assert notifications.appeals_waiting_for(team.manager) == []
    assert notifications.appeals_waiting_for(team.hr) == [appeal]  # HR closes it
    assert db.session.query(Notification).filter_by(kind="appeal.answered", user_id=person.id).count() == 1

    with pytest.raises(services.ForbiddenError):
        services.close_appeal(appeal, team.manager)
    services.close_appeal(appeal, team.hr, "Result stands.")
    db.session.commit()
    assert appeal.status == AS.CLOSED and card.state == S.LOCKED
    assert notifications.appeals_waiting_for(team.hr) == []
    steps = ["scorecard.acknowledge", "appeal.raise", "appeal.answer", "appeal.close"]
    assert audit_actions(card)[-4:] == steps
    steps = [e.step for e in queries.history(card)]
    assert steps[:4] == [AppealStep.CLOSE, AppealStep.ANSWER, AppealStep.RAISE, queries.HistoryStep.OBJECTED]


@pytest.mark.rollback
def test_owner_and_outsiders_cannot_answer():
    team, person, card = locked_team()
    services.acknowledge(card, person, objection=True, comment="Wrong")
    appeal = services.appeal_of(card)
    for who in (person, team.admin):  # the owner; an admin is not the one who answers
        with pytest.raises(services.ForbiddenError):
            services.answer_appeal(appeal, who, "No")
    assert services.appeal_permitted(card, team.manager, appeal) == (AppealStep.ANSWER,)
    assert services.appeal_permitted(card, person, appeal) == ()


@pytest.mark.rollback
def test_reopen_goes_through_the_existing_reopen_and_leaves_the_locked_version():
    team, person, card = locked_team()
    services.acknowledge(card, person, objection=True, comment="B2B missing")
    appeal = services.appeal_of(card)
    services.answer_appeal(appeal, team.hr, "We will recount.")
    db.session.commit()
    before = (dict(card.snapshot), card.total, card.version_id)
    with pytest.raises(services.ForbiddenError):
        services.reopen_from_appeal(appeal, team.hr, "HR is not the admin")
    new = services.reopen_from_appeal(appeal, team.admin, "B2B orders were missing")
    db.session.commit()
    db.session.expire_all()
    assert (new.version, new.state, new.reopened_from_id) == (2, S.MANAGER_REVIEW, card.id)
    assert (appeal.status, appeal.new_scorecard_id) == (AS.REOPENED, new.id)
    assert (dict(card.snapshot), card.total, card.version_id) == before
    assert "scorecard.reopen" in audit_actions(card) and audit_actions(card)[-1] == "appeal.reopen"


@pytest.mark.rollback
def test_a_second_answer_loses_and_nothing_of_it_is_kept():
    team, person, card = locked_team()
    services.acknowledge(card, person, objection=True, comment="Wrong")
    appeal_id = services.appeal_of(card).id
    db.session.commit()
    db.session.execute(db.update(Appeal).where(Appeal.id == appeal_id)
                       .values(status=AS.ANSWERED, reply="first"))
    stale = db.session.get(Appeal, appeal_id)
    db.session.expire(stale)
    with pytest.raises(services.AppraisalError):
        services.answer_appeal(stale, team.manager, "second")


@pytest.mark.rollback
def test_the_locked_score_still_holds_in_the_database():
    team, person, card = locked_team()
    services.acknowledge(card, person, objection=True, comment="Wrong")
    db.session.commit()
    with pytest.raises(Exception):
        db.session.execute(db.update(Scorecard).where(Scorecard.id == card.id).values(total=1))
        db.session.flush()
    db.session.rollback()
    with pytest.raises(Exception):
        db.session.execute(db.update(ScorecardItem).where(ScorecardItem.scorecard_id == card.id)
                           .values(final_points=1))
    db.session.rollback()


@pytest.mark.rollback
def test_history_lists_calibration_changes_and_the_acknowledgement():
    team = make_team(size=1)
    person = team.people[0]
    card = walk_to(team, person, S.CALIBRATION)
    services.calibrate(card, team.hr, "A", "S quota is full")
    services.calibrate(card, team.hr, "B", "second thoughts")
    services.lock(card, team.hr)
    services.acknowledge(card, person)
    db.session.commit()
    entries = queries.history(card)
    calibrated = [e.text for e in entries if e.step == queries.HistoryStep.CALIBRATED]
    assert calibrated == ["B: second thoughts", "A: S quota is full"]
    assert entries[0].step == queries.HistoryStep.ACKNOWLEDGED
    assert services.appeal_of(card) is None
