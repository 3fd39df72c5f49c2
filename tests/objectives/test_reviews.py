"""The weekly review (docs/objectives.md "Weekly review"): movement since last week computed over
the period up to each day, at-risk items, tasks, disputes, decisions, and a closed review's
snapshot that later imports do not change."""
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal as D

import pytest

from kpiapp.extensions import db
from kpiapp.models import (CheckIn, Dispute, ImportRecord, KeyResult, MetricFact, Objective, ReviewDecision,
                           Task, WeeklyReview)
from kpiapp.models.objectives import Confidence, KrKind, ObjectiveLevel, PeriodKind
from kpiapp.objectives import reviews
from kpiapp.objectives.reviews import ReviewError
from kpiapp.objectives.task_flow import TaskStatus
from kpiapp.tracking import services as tracking
from tests.factories import UserFactory
from tests.web.test_pace_dashboards import TODAY, build, relax_acos

pytestmark = pytest.mark.rollback

WEEK = date(2026, 11, 9)  # the Monday of TODAY's week


@pytest.fixture
def org(app):
    o = build(["Amy", "Zed"])  # one store shared half and half: sales 200 a day from Nov 1 to 10
    relax_acos(o, o.people[0])
    db.session.commit()
    return o


def person(snapshot, name):
    return next(p for p in snapshot["people"] if p["name"] == name)


def item(block, name):
    return next(i for i in block["items"] if i["name"] == name)


def add_sales(shop, day, value, key):
    record = ImportRecord(filename="late.csv", sha256=key.rjust(64, "0"), size=1, dedupe_key=key,
                          store_id=shop.id, status="committed")
    db.session.add(record)
    db.session.flush()
    db.session.add(MetricFact(store_id=shop.id, family="amazon_orders", business_date=day, period_end=day, sku="",
                              ref=key, measure="ordered_sales", value=D(value), currency="USD", import_id=record.id))
    db.session.commit()
    return record


def manual_kr(owner, creator, **extra):
    objective = Objective(title="Grow Europe", level=ObjectiveLevel.person, owner_id=owner.id,
                          period_kind=PeriodKind.quarter, period_start=date(2026, 10, 1),
                          period_end=date(2026, 12, 31), created_by_id=creator.id)
    kr = KeyResult(objective=objective, title="New listings", kind=KrKind.manual, owner_id=owner.id,
                   start_value=D(0), target=D(40), unit="count", **extra)
    db.session.add_all([objective, kr])
    db.session.flush()
    return kr


def test_each_person_moves_from_a_week_ago_to_now(org):
    snap = reviews.build_snapshot(org.boss, WEEK, TODAY)
    assert snap["week"] == "2026-11-09" and snap["as_of"] == "2026-11-10"
    assert [p["name"] for p in snap["people"]] == ["Amy", "Zed"]
    gmv = item(person(snap, "Zed"), "GMV")
    # half of 200 a day: Nov 1..3 is 300, Nov 1..10 is 1,000 (the period up to each day)
    assert (D(gmv["then"]), D(gmv["now"]), D(gmv["change"])) == (D(300), D(1000), D(700))
    assert len(gmv["series"]) == reviews.WEEKS_SHOWN and gmv["series"][:4] == [None] * 4
    # the "now" value is the tracked actual of the same item
    card = org.cards[org.people[1].id]
    assert D(gmv["now"]) == D(next(i for i in card.items if i.name == "GMV").actual)
    # ACoS 0.3 against Zed's threshold 0.28 is at risk; Amy's relaxed threshold is not
    assert item(person(snap, "Zed"), "ACoS")["at_risk"] is True
    assert item(person(snap, "Amy"), "ACoS")["at_risk"] is False
    assert "Teamwork" not in [i["name"] for i in person(snap, "Zed")["items"]]  # manual items have no data


def test_a_past_week_reads_as_it_stood_then(org):
    snap = reviews.build_snapshot(org.boss, date(2026, 11, 2), TODAY)
    assert snap["as_of"] == "2026-11-08"  # that week's Sunday
    gmv = item(person(snap, "Amy"), "GMV")
    assert (D(gmv["then"]), D(gmv["now"])) == (D(100), D(800))


def test_key_results_tasks_and_disputes(org):
    amy, zed = org.people
    kr = manual_kr(zed, org.boss)
    db.session.add_all([
        CheckIn(key_result_id=kr.id, week=date(2026, 11, 2), value=D(10), confidence=Confidence.on_track, author_id=zed.id),
        CheckIn(key_result_id=kr.id, week=WEEK, value=D(16), confidence=Confidence.at_risk, author_id=zed.id),
        Task(title="Fix listing", assignee_id=zed.id, due=date(2026, 11, 5)),
        Task(title="Plan Q1", assignee_id=zed.id, due=date(2026, 11, 18)),
        Task(title="Photos", assignee_id=zed.id, status=TaskStatus.DONE,
             done_at=datetime(2026, 11, 9, 12, tzinfo=timezone.utc)),
        Task(title="Old", assignee_id=zed.id, status=TaskStatus.DONE, done_at=datetime(2026, 11, 1, tzinfo=timezone.utc)),
        Task(title="Amy's", assignee_id=amy.id, due=date(2026, 11, 5)),
    ])
    gmv = next(i for i in org.cards[zed.id].items if i.name == "GMV")
    db.session.add(Dispute(scorecard_item_id=gmv.id, scorecard_id=gmv.scorecard_id, raised_by_id=zed.id,
                           comment="Missing refunds"))
    db.session.commit()
    block = person(reviews.build_snapshot(org.boss, WEEK, TODAY), "Zed")
    row = block["key_results"][0]
    assert (row["then"], row["now"], row["progress_then"], row["progress_now"]) == ("10", "16", "25", "40")
    assert row["at_risk"] is True  # the latest check-in says so
    assert [t["title"] for t in block["tasks"]["overdue"]] == ["Fix listing"]
    assert [t["title"] for t in block["tasks"]["due_next"]] == ["Plan Q1"]
    assert [t["title"] for t in block["tasks"]["done"]] == ["Photos"]
    assert [(d["item"], d["comment"]) for d in block["disputes"]] == [("GMV", "Missing refunds")]
    assert person(reviews.build_snapshot(org.boss, WEEK, TODAY), "Amy")["disputes"] == []


def test_a_closed_review_keeps_its_numbers_after_new_imports(org):
    review = reviews.open_review(org.boss, TODAY, org.boss)
    reviews.save_notes(review, "Ads are too expensive", org.boss)
    reviews.close_review(review, org.boss, TODAY)
    db.session.commit()
    frozen = dict(review.snapshot)
    record = add_sales(org.shop, date(2026, 11, 5), "1000", "late-1")  # a late report for a day in the week
    tracking.recompute_after_import(record.id, today=TODAY)
    db.session.expire_all()
    review = db.session.get(WeeklyReview, review.id)
    assert review.snapshot == frozen
    assert reviews.review_numbers(org.boss, WEEK, review, TODAY) == frozen
    live = reviews.build_snapshot(org.boss, WEEK, TODAY)
    assert D(item(person(live, "Zed"), "GMV")["now"]) == D(1500)  # the open numbers moved by half of 1,000
    assert D(item(person(frozen, "Zed"), "GMV")["now"]) == D(1000)
    with pytest.raises(ReviewError) as refused:
        reviews.save_notes(review, "changed", org.boss)
    assert refused.value.code == "closed"


def test_only_the_line_and_hr_run_a_review(org):
    amy, zed = org.people
    with pytest.raises(ReviewError):
        reviews.open_review(org.boss, TODAY, amy)
    assert reviews.open_review(org.boss, TODAY, org.hr).week == WEEK
    assert [m.id for m in reviews.teams_for(org.boss)] == [org.boss.id]
    assert reviews.teams_for(amy) == []
    assert org.boss.id in [m.id for m in reviews.teams_for(org.hr)]


def test_decisions_need_text_and_an_owner_in_the_team(org):
    review = reviews.open_review(org.boss, TODAY, org.boss)
    with pytest.raises(ReviewError) as empty:
        reviews.add_decision(review, {"text": "  ", "owner_id": org.people[0].id}, org.boss)
    assert empty.value.field == "text"
    with pytest.raises(ReviewError) as stranger:
        reviews.add_decision(review, {"text": "Cut ads", "owner_id": UserFactory().id}, org.boss)
    assert stranger.value.field == "owner_id"
    decision = reviews.add_decision(review, {"text": "Cut ads", "owner_id": str(org.people[1].id)}, org.boss)
    assert decision.owner_id == org.people[1].id and decision.task_id is None


def test_last_weeks_decisions_open_the_next_review(org):
    last = reviews.open_review(org.boss, WEEK - timedelta(days=7), org.boss)
    db.session.add(ReviewDecision(review=last, text="Cut ads", owner_id=org.people[1].id))
    db.session.commit()
    snap = reviews.build_snapshot(org.boss, WEEK, TODAY)
    assert [(d["text"], d["owner"], d["task_status"]) for d in snap["previous"]] == [("Cut ads", "Zed", None)]


def test_the_demo_reviews(app):
    from kpiapp import demo
    from kpiapp.demo.reviews import seed_reviews_demo

    demo.seed_organisation()
    current = seed_reviews_demo(date(2026, 11, 26))
    last = reviews.find_review(current.manager_id, date(2026, 11, 16))
    assert current.week == date(2026, 11, 23) and current.closed_at is None and current.notes
    assert last.closed_at is not None and [p["name"] for p in last.snapshot["people"]] == [
        "佐藤 Sato Yui", "孙丽 Sun Li", "赵磊 Zhao Lei"]
    assert [(d.task.status if d.task else None) for d in last.decisions] == [TaskStatus.DONE, TaskStatus.OPEN, None]
    previous = reviews.build_snapshot(current.manager, current.week, date(2026, 11, 26))["previous"]
    assert [d["task_status"] for d in previous] == ["done", "open", None]


def test_a_metric_key_result_moves_like_its_kpi_item(org):
    from kpiapp.objectives import services as okr

    zed = org.people[1]
    objective = okr.create_objective({"title": "Grow the store", "level": "person", "owner_id": zed.id,
                                      "period": "2026-11"}, org.boss)
    kr = okr.create_key_result(objective, {"title": "GMV", "kind": "metric", "metric_key": "gmv",
                                           "scope": [{"store_id": org.shop.id, "share_pct": "50"}],
                                           "start_value": "0", "target": "3000"}, org.boss)
    okr.recompute_key_result(kr, TODAY)
    db.session.commit()
    row = person(reviews.build_snapshot(org.boss, WEEK, TODAY), "Zed")["key_results"][0]
    gmv = item(person(reviews.build_snapshot(org.boss, WEEK, TODAY), "Zed"), "GMV")
    assert D(row["now"]) == D(kr.current) == D(gmv["now"]) == D(1000)  # the same metric, scope and period
    assert D(row["then"]) == D(300) and D(row["progress_now"]) == D(kr.progress)
    # a third of November gone and a third of the target reached: not behind pace
    assert row["at_risk"] is False
