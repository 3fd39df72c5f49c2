"""Data disputes (数据异议): the services, who may take each step, the lock blocked while open,
HR's override, audit and notifications (docs/disputes.md)."""

from datetime import date
from decimal import Decimal

import json

import pytest

from kpiapp.appraisal import disputes, services
from kpiapp.appraisal.dispute_flow import DisputeState as DS
from kpiapp.appraisal.dispute_flow import DisputeStep
from kpiapp.appraisal.workflow import Action
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from kpiapp.models import AuditEvent, ImportRecord, MetricFact, Notification
from kpiapp.tracking import services as tracking
from tests.appraisal.factories import make_team, manual_items, metric_item, walk_to
from tests.factories import StoreFactory, StoreOwnerFactory, UserFactory

pytestmark = pytest.mark.rollback
PERIOD_END = date(2026, 12, 31)


def team_in(state):
    """A team of one whose GMV item is measured on a store owned by a store owner outside the line."""
    team = make_team(size=1)
    person = team.people[0]
    card = walk_to(team, person, state)
    store = StoreFactory()
    owner = StoreOwnerFactory(store=store, person=UserFactory()).person
    item = metric_item(card)
    item.scope = [{"store_id": store.id, "share_pct": "100"}]
    db.session.commit()
    return team, person, card, item, store, owner


def audit_actions(card):
    events = db.session.query(AuditEvent).filter_by(entity="scorecard", entity_id=str(card.id))
    return [e.action for e in events.order_by(AuditEvent.seq) if e.action.startswith("dispute.")]


def refused(call, code, error=services.AppraisalError):
    with pytest.raises(error) as caught:
        call()
    assert caught.value.code == code
    db.session.rollback()


def test_raise_correct_by_hand_and_close():
    team, person, card, item, store, owner = team_in(S.SELF_REVIEW)
    # linear 80,000 -> 0, 100,000 -> 100, 120,000 -> 120: 110,000 is 100 + 10,000/20,000 x 20 = 110
    assert (item.actual, item.computed_points) == (Decimal("110000"), Decimal("110.00"))
    dispute = disputes.raise_dispute(item, person, "  B2B orders of 12-19 Oct are missing.  ")
    db.session.commit()
    assert (dispute.status, dispute.comment, dispute.disputed_value) == (
        DS.OPEN, "B2B orders of 12-19 Oct are missing.", Decimal("110000"))
    assert dispute.store_ids == {store.id}
    told = {n.user_id for n in db.session.query(Notification).filter_by(kind="dispute.raised")}
    assert told == {team.hr.id, team.hr2.id, owner.id}
    # one active dispute per number
    refused(lambda: disputes.raise_dispute(item, team.manager, "again"), "already_disputed")

    version = card.version_id
    refused(lambda: disputes.correct_by_value(dispute, owner, "", "typo"), "invalid_value")
    refused(lambda: disputes.correct_by_value(dispute, owner, "118000", " "), "reason_required")
    disputes.correct_by_value(dispute, owner, "118000", "Added the B2B orders from the ERP export.")
    db.session.commit()
    # 118,000 is 100 + 18,000/20,000 x 20 = 118
    assert (item.actual, item.computed_points, item.final_points) == (
        Decimal("118000"), Decimal("118.00"), Decimal("118.00"))
    assert item.provenance["source"] == "manual" and item.provenance["dispute_id"] == dispute.id
    assert item.provenance["replaced"]["actual"] == "110000.000000"
    assert card.version_id == version + 1  # a person's decision: open forms on the card conflict
    assert (dispute.status, dispute.resolution, dispute.manual_value, dispute.corrected_value) == (
        DS.CORRECTED, "manual", Decimal("118000"), Decimal("118000"))
    assert dispute.handled_by_id == owner.id
    corrected = db.session.query(Notification).filter_by(kind="dispute.corrected")
    assert {n.user_id for n in corrected} == {person.id}

    # the tracking recompute leaves a manual actual alone
    assert tracking.recompute_scorecard(card.id, today=PERIOD_END) == 0
    assert item.actual == Decimal("118000")

    refused(lambda: disputes.close_dispute(dispute, team.boss), "forbidden")  # a viewer, not raiser/handler
    disputes.close_dispute(dispute, person, "Thanks.")
    db.session.commit()
    assert (dispute.status, dispute.closed_by_id, dispute.close_note) == (DS.CLOSED, person.id, "Thanks.")
    assert audit_actions(card) == ["dispute.raise", "dispute.correct", "dispute.close"]
    manual = db.session.query(AuditEvent).filter_by(action="scorecard_item.manual_actual").one()
    assert json.loads(manual.after_json)["reason"] == "Added the B2B orders from the ERP export."


def test_reject_with_a_reason_and_a_new_dispute_after_it():
    team, person, card, item, store, owner = team_in(S.MANAGER_REVIEW)
    dispute = disputes.raise_dispute(item, team.manager, "Looks too high for October.")
    db.session.commit()
    refused(lambda: disputes.reject_dispute(dispute, team.hr, ""), "reason_required")
    disputes.reject_dispute(dispute, team.hr, "Checked the Business Report: the number is right.")
    db.session.commit()
    assert (dispute.status, dispute.resolution_note, dispute.handled_by_id) == (
        DS.REJECTED, "Checked the Business Report: the number is right.", team.hr.id)
    assert item.actual == Decimal("110000")  # untouched
    rejected = db.session.query(Notification).filter_by(kind="dispute.rejected").all()
    assert {n.user_id for n in rejected} == {team.manager.id, person.id}
    refused(lambda: disputes.close_dispute(dispute, team.hr), "not_allowed_in_state")
    again = disputes.raise_dispute(item, person, "Still missing the B2B orders.")
    assert again.id != dispute.id and again.status == DS.OPEN


def test_correct_by_import_recomputes_from_the_facts():
    team, person, card, item, store, owner = team_in(S.SELF_REVIEW)
    dispute = disputes.raise_dispute(item, person, "The late B2B file is not in.")
    db.session.commit()
    record = ImportRecord(filename="b2b.csv", sha256="b" * 64, size=1, dedupe_key="b2b", store_id=store.id,
                          status="committed")
    db.session.add(record)
    db.session.flush()
    db.session.add_all(MetricFact(store_id=store.id, family="amazon_orders", business_date=date(2026, 10, d),
                                  period_end=date(2026, 10, d), sku="", ref="", measure="ordered_sales",
                                  value=Decimal(value), currency="USD", import_id=record.id)
                       for d, value in ((12, "60000.50"), (19, "45000.25")))
    unused = ImportRecord(filename="other.csv", sha256="c" * 64, size=1, dedupe_key="other",
                          status="committed")
    db.session.add(unused)
    db.session.commit()
    refused(lambda: disputes.correct_by_import(dispute, owner, 999999, "x", today=PERIOD_END),
            "import_not_committed")
    refused(lambda: disputes.correct_by_import(dispute, owner, unused.id, "x", today=PERIOD_END),
            "import_not_used")
    disputes.correct_by_import(dispute, owner, record.id, "The B2B file was imported.", today=PERIOD_END)
    db.session.commit()
    # 60,000.50 + 45,000.25 = 105,000.75; linear: 100 + 5,000.75 / 20,000 x 20 = 105.00075 -> 105.00
    assert item.actual == Decimal("105000.75") and item.computed_points == Decimal("105.00")
    assert item.provenance["import_ids"] == [record.id]
    assert (dispute.status, dispute.resolution, dispute.corrected_import_id, dispute.corrected_value) == (
        DS.CORRECTED, "import", record.id, Decimal("105000.75"))


def test_lock_is_blocked_while_open_until_closed():
    team, person, card, item, store, owner = team_in(S.CALIBRATION)
    assert Action.LOCK in services.permitted(card, team.hr).actions
    dispute = disputes.raise_dispute(item, person, "GMV misses the B2B orders.")
    db.session.commit()
    assert Action.LOCK not in services.permitted(card, team.hr).actions
    assert services.facts_of(card, team.hr).dispute_open
    refused(lambda: services.lock(card, team.hr), "dispute_open")
    assert card.state == S.CALIBRATION
    disputes.correct_by_value(dispute, team.hr2, "115000", "B2B orders added.")
    db.session.commit()
    refused(lambda: services.lock(card, team.hr), "dispute_open")  # corrected is not closed yet
    disputes.close_dispute(dispute, person)
    db.session.commit()
    closed = db.session.query(Notification).filter_by(kind="dispute.closed").all()
    assert [n.user_id for n in closed] == [person.id]  # the raiser is the person here: told once
    services.lock(card, team.hr)
    db.session.commit()
    assert card.state == S.LOCKED and card.snapshot["items"][0]["actual"] == "115000.000000"


def test_hr_overrides_the_lock_with_a_reason_and_the_dispute_stays():
    team, person, card, item, store, owner = team_in(S.CALIBRATION)
    dispute = disputes.raise_dispute(item, person, "GMV misses the B2B orders.")
    db.session.commit()
    refused(lambda: disputes.override_lock_for(card, owner, "x"), "forbidden", services.ForbiddenError)
    refused(lambda: disputes.override_lock_for(card, team.manager, "x"), "forbidden", services.ForbiddenError)
    refused(lambda: disputes.override_lock_for(card, team.hr, "  "), "reason_required")
    disputes.override_lock_for(card, team.hr, "Payroll closes today; the B2B orders go into Q1.")
    db.session.commit()
    assert (dispute.status, dispute.lock_override_by_id, dispute.lock_override_reason) == (
        DS.OPEN, team.hr.id, "Payroll closes today; the B2B orders go into Q1.")
    allowed = db.session.query(Notification).filter_by(kind="dispute.lock_allowed").one()
    assert allowed.user_id == person.id and allowed.params["reason"].startswith("Payroll closes today")
    refused(lambda: disputes.override_lock(dispute, team.hr2, "again"), "already_overridden")
    services.lock(card, team.hr)
    db.session.commit()
    assert card.state == S.LOCKED
    # a locked number is frozen: it can be rejected (or appealed), no longer corrected
    assert disputes.permitted(team.hr2, item, dispute) == (DisputeStep.REJECT,)
    refused(lambda: disputes.correct_by_value(dispute, team.hr2, "1", "x"), "scorecard_locked")
    refused(lambda: disputes.raise_dispute(item, team.manager, "x"), "already_disputed")
    disputes.reject_dispute(dispute, team.hr2, "Moved to Q1 by the override.")
    db.session.commit()
    refused(lambda: disputes.raise_dispute(item, team.manager, "x"), "scorecard_locked")
    assert audit_actions(card) == ["dispute.raise", "dispute.override_lock", "dispute.reject"]
    refused(lambda: disputes.override_lock_for(card, team.hr, "x"), "no_open_dispute")


def test_who_may_raise_and_handle():
    team, person, card, item, store, owner = team_in(S.SELF_REVIEW)
    outsider, other_owner = UserFactory(), StoreOwnerFactory(person=UserFactory()).person
    teamwork = manual_items(card)[0]
    refused(lambda: disputes.raise_dispute(item, outsider, "x"), "forbidden", services.ForbiddenError)
    refused(lambda: disputes.raise_dispute(item, owner, "x"), "forbidden", services.ForbiddenError)
    refused(lambda: disputes.raise_dispute(teamwork, person, "x"), "not_data_backed")
    refused(lambda: disputes.raise_dispute(item, person, " "), "reason_required")
    for viewer in (person, team.manager, team.boss, team.hr, team.admin):
        assert disputes.permitted(viewer, item) == (DisputeStep.RAISE,)
    dispute = disputes.raise_dispute(item, team.hr, "Check the FX rate used for October.")
    db.session.commit()
    # handlers: the other HR, the admin, the store's owner; never the raiser, the card's owner,
    # the manager line, nor the owner of another store
    assert disputes.permitted(team.hr, item, dispute) == ()
    for handler in (team.hr2, team.admin, owner):
        assert set(disputes.permitted(handler, item, dispute)) >= {DisputeStep.CORRECT, DisputeStep.REJECT}
    for nobody in (person, team.manager, other_owner, outsider):
        assert DisputeStep.REJECT not in disputes.permitted(nobody, item, dispute)
    refused(lambda: disputes.reject_dispute(dispute, team.hr, "mine"), "own_dispute", services.ForbiddenError)
    refused(lambda: disputes.reject_dispute(dispute, other_owner, "no"), "forbidden", services.ForbiddenError)
