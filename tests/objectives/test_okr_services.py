"""Objectives and key results through the services (docs/objectives.md): field errors, roll-up
with weights, metric key results equal to the same KPI item's actual, check-in history,
at-risk, decomposition that sums exactly, linking KPI items, recompute after imports."""
from decimal import Decimal

import pytest

from kpiapp.extensions import db
from kpiapp.models import AuditEvent, CheckIn, KeyResult, Objective, Scorecard
from kpiapp.objectives import services as okr
from kpiapp.objectives.services import ObjectiveError
from kpiapp.tracking import services as tracking
from tests.objectives.okr_world import QUARTER, Q_END, Q_START, TODAY, company_objective, gmv_kr, load_sales, \
    make_world, monday

pytestmark = pytest.mark.rollback


@pytest.fixture
def w(app):
    return make_world()


def events(action):
    return db.session.query(AuditEvent).filter_by(action=action).order_by(AuditEvent.seq).all()


def refused(call, code, field=None):
    with pytest.raises(ObjectiveError) as error:
        call()
    assert error.value.code == code and error.value.field == field
    return error.value


def dept_objective(w, owner, title="Dept", **values):
    objective = okr.create_objective({"title": title, "level": "department", "owner_id": owner.id,
                                      "period": QUARTER, **values}, w.hr)
    db.session.commit()
    return objective


def manual_kr(objective, actor, start="0", target="100", weight="1", title="Manual"):
    kr = okr.create_key_result(objective, {"title": title, "kind": "manual", "start_value": start,
                                           "target": target, "weight": weight}, actor)
    db.session.commit()
    return kr


# ---- create and edit -------------------------------------------------------------------------

def test_create_objective_takes_the_period_and_audits(w):
    objective = company_objective(w)
    assert (objective.period_start, objective.period_end) == (Q_START, Q_END)
    assert str(objective.period_kind) == "quarter" and objective.owner_id == w.gm.id
    event = events("objective.create")[-1]
    assert event.entity_id == str(objective.id) and QUARTER in event.after_json


def test_field_errors_name_the_field(w):
    refused(lambda: okr.create_objective({"level": "company", "period": QUARTER}, w.hr), "required", "title")
    refused(lambda: okr.create_objective({"title": "x", "level": "company", "period": "2026-Q5"}, w.hr),
            "invalid_period", "period")
    refused(lambda: okr.create_objective({"title": "x", "level": "galaxy", "period": QUARTER}, w.hr),
            "invalid_choice", "level")
    objective = company_objective(w)
    refused(lambda: okr.create_key_result(objective, {"title": "GMV", "kind": "metric", "metric_key": "nope",
                                                      "scope": [{"store_id": w.us.id}], "target": "5"}, w.hr),
            "unknown_metric", "metric_key")
    refused(lambda: okr.create_key_result(objective, {"title": "GMV", "kind": "manual", "target": "x"}, w.hr),
            "invalid_number", "target")
    refused(lambda: okr.create_key_result(objective, {"title": "M", "kind": "milestone", "milestones": ""},
                                          w.hr), "no_milestones", "milestones")


def test_who_may_create_and_edit(w):
    error = refused(lambda: okr.create_objective({"title": "x", "level": "company", "period": QUARTER},
                                                 w.people[0]), "forbidden")
    assert error.status == 403
    mine = okr.create_objective({"title": "Mine", "level": "person", "period": QUARTER}, w.people[0])
    assert mine.owner_id == w.people[0].id
    refused(lambda: okr.create_objective({"title": "x", "level": "person", "period": QUARTER,
                                          "owner_id": w.people[1].id}, w.people[0]), "owner_not_yours", "owner_id")
    refused(lambda: okr.update_objective(mine, {"title": "Taken"}, w.people[1]), "forbidden")
    okr.update_objective(mine, {"title": "Renamed"}, w.head)  # their manager may
    assert mine.title == "Renamed" and events("objective.update")


def test_child_must_fit_the_parent(w):
    top = company_objective(w)
    refused(lambda: okr.create_objective({"title": "x", "level": "department", "owner_id": w.head.id,
                                          "period": f"{TODAY.year}", "parent_id": top.id}, w.hr),
            "outside_parent_period", "period")
    person = okr.create_objective({"title": "p", "level": "person", "owner_id": w.people[0].id,
                                   "period": QUARTER}, w.hr)
    refused(lambda: okr.create_objective({"title": "x", "level": "department", "owner_id": w.head.id,
                                          "period": QUARTER, "parent_id": person.id}, w.hr),
            "parent_level", "parent_id")
    dept = dept_objective(w, w.head, parent_id=top.id)
    refused(lambda: okr.update_objective(top, {"title": top.title, "parent_id": dept.id}, w.hr),
            "parent_level", "parent_id")


# ---- progress and roll-up ------------------------------------------------------------------

def test_objective_progress_is_the_weighted_mean_of_its_key_results(w):
    objective = company_objective(w)
    a = manual_kr(objective, w.hr, weight="3", title="A")
    b = manual_kr(objective, w.hr, weight="1", title="B")
    manual_kr(objective, w.hr, weight="1", title="C (no check-in yet)")
    okr.check_in(a, {"value": "40", "confidence": "on_track"}, w.gm)
    okr.check_in(b, {"value": "80", "confidence": "on_track"}, w.gm)
    db.session.commit()
    rolled = okr.objective_progress(objective)
    assert rolled.progress == Decimal("50.00")  # (40 * 3 + 80 * 1) / 4
    assert rolled.weight_covered == Decimal("80.00")  # C carries 1 of 5
    assert objective.progress == Decimal("50.00")


def test_cascade_rolls_up_children_by_their_weights(w):
    top = company_objective(w, rollup=True)
    sales = dept_objective(w, w.head, "Sales", parent_id=top.id, weight="2")
    ops = dept_objective(w, w.ops_head, "Ops", parent_id=top.id, weight="1")
    s = manual_kr(sales, w.hr)
    o = manual_kr(ops, w.hr)
    okr.check_in(s, {"value": "90", "confidence": "on_track"}, w.head)
    okr.check_in(o, {"value": "30", "confidence": "on_track"}, w.ops_head)
    db.session.commit()
    assert okr.objective_progress(top).progress == Decimal("70.00")  # (90 * 2 + 30) / 3
    assert top.progress == Decimal("70.00")  # stored up the cascade by the check-in
    okr.update_objective(top, {"title": top.title, "rollup": False}, w.hr)
    assert top.progress is None  # its own key results: none


def test_lower_is_better_progress_and_milestones(w):
    objective = company_objective(w)
    acos = okr.create_key_result(objective, {"title": "ACoS", "kind": "manual", "start_value": "30",
                                             "target": "25", "unit": "percent"}, w.hr)
    okr.check_in(acos, {"value": "27", "confidence": "on_track"}, w.gm)
    assert acos.progress == Decimal("60.00")
    steps = okr.create_key_result(objective, {"title": "Launch", "kind": "milestone",
                                              "milestones": "Listing\nA+ content\nAds live\nReviews"}, w.hr)
    okr.set_milestone(steps.milestones[0], True, w.gm)
    assert steps.progress == Decimal("25.00")
    okr.set_milestone(steps.milestones[0], False, w.gm)
    assert steps.progress == Decimal("0.00") and events("milestone.update")


# ---- metric key results ----------------------------------------------------------------------

def test_metric_key_result_equals_the_same_kpi_item_actual(w):
    load_sales(w)
    seller = w.people[0]
    card = db.session.query(Scorecard).filter_by(cycle_id=w.cycle.id, person_id=seller.id).one()
    tracking.recompute_scorecard(card.id)
    item = card.items[0]
    mine = okr.create_objective({"title": "Sell", "level": "person", "period": QUARTER}, seller)
    kr = gmv_kr(mine, seller, item.scope, target="10000")
    # US 1000 + 50 % of DE 500 EUR at 1.10 = 1275
    assert item.actual == Decimal("1275") and kr.current == item.actual
    assert kr.progress == Decimal("12.75")
    assert kr.provenance["inputs"] == item.provenance["inputs"] and kr.data_as_of == item.data_as_of


def test_recompute_after_import_updates_metric_key_results(w):
    objective = company_objective(w)
    kr = gmv_kr(objective, w.hr, [{"store_id": w.us.id, "share_pct": "100"}])
    assert kr.current is None and kr.progress is None  # no data is no progress, never 0
    assert kr.provenance["reason"] == "no_data"
    records = load_sales(w)
    assert okr.recompute_after_import(records[0].id) == 1
    db.session.refresh(kr)
    assert kr.current == Decimal("1000") and events("key_result.recompute")
    assert okr.recompute_after_import(records[0].id) == 0  # nothing new


# ---- check-ins and at-risk -------------------------------------------------------------------

def test_check_in_history_is_kept_and_private_notes_stay_private(w):
    mine = okr.create_objective({"title": "Sell", "level": "person", "period": QUARTER}, w.people[0])
    kr = manual_kr(mine, w.people[0])
    first = okr.check_in(kr, {"value": "10", "confidence": "on_track", "note": "started",
                              "week": monday().isoformat()}, w.people[0])
    okr.check_in(kr, {"value": "20", "confidence": "at_risk", "note": "slow", "private_note": "supplier late"},
                 w.people[0])
    db.session.commit()
    assert db.session.query(CheckIn).filter_by(key_result_id=kr.id).count() == 2
    assert first.week.weekday() == 0 and kr.current == Decimal("20") and str(kr.confidence) == "at_risk"
    assert [v for _, v in okr.weekly_values(kr)] == [Decimal("20")]  # the week's last value
    seen = {u.id: [r["private_note"] for r in okr.check_in_history(kr, u)] for u in (w.head, w.people[1])}
    assert seen[w.head.id][0] == "supplier late" and seen[w.people[1].id][0] is None
    refused(lambda: okr.check_in(kr, {"confidence": "on_track", "value": "1"}, w.people[1]), "forbidden")
    refused(lambda: okr.check_in(kr, {"confidence": "on_track"}, w.people[0]), "required", "value")
    refused(lambda: okr.check_in(kr, {"value": "3"}, w.people[0]), "required", "confidence")
    assert len(events("key_result.check_in")) == 2


def test_at_risk_marks_the_branch(w):
    top = company_objective(w, rollup=True)
    sales = dept_objective(w, w.head, "Sales", parent_id=top.id)
    ops = dept_objective(w, w.ops_head, "Ops", parent_id=top.id)
    s = manual_kr(sales, w.hr)
    manual_kr(ops, w.hr)
    okr.check_in(s, {"value": "10", "confidence": "off_track"}, w.head)
    db.session.commit()
    tree = okr.alignment_tree(top, w.hr)
    assert tree.at_risk and [c.at_risk for c in tree.children] == [True, False]
    assert okr.kr_at_risk(s)


def test_metric_key_result_behind_pace_is_at_risk(w):
    objective = company_objective(w)
    load_sales(w)
    kr = gmv_kr(objective, w.hr, [{"store_id": w.us.id, "share_pct": "100"}], target="1000000")
    late = Q_END  # at the end of the quarter, 0.1 % done is behind
    assert okr.kr_at_risk(kr, today=late)
    assert not okr.kr_at_risk(kr, today=Q_START)


# ---- alignment tree and links --------------------------------------------------------------------

def test_alignment_tree_hides_what_the_user_may_not_see(w):
    top = company_objective(w, rollup=True)
    sales = dept_objective(w, w.head, "Sales", parent_id=top.id)
    private = okr.create_objective({"title": "Private", "level": "person", "owner_id": w.people[0].id,
                                    "period": QUARTER, "parent_id": sales.id, "shared": ""}, w.head)
    db.session.commit()
    assert not private.shared
    for_outsider = okr.alignment_tree(top, w.outsider)
    assert [c.objective.id for c in for_outsider.children] == [sales.id]
    assert for_outsider.children[0].children == [] and for_outsider.children[0].hidden_children == 1
    for_head = okr.alignment_tree(top, w.head)
    assert [c.objective.id for c in for_head.children[0].children] == [private.id]


def test_link_item_aligns_a_kpi_item_to_a_key_result(w):
    objective = company_objective(w)
    kr = gmv_kr(objective, w.hr, [{"store_id": w.us.id, "share_pct": "100"}])
    card = db.session.query(Scorecard).filter_by(cycle_id=w.cycle.id, person_id=w.people[0].id).one()
    item = card.items[0]
    refused(lambda: okr.link_item(item, kr, w.people[1]), "forbidden")
    okr.link_item(item, kr, w.people[0])
    db.session.commit()
    assert item.key_result_id == kr.id and events("scorecard_item.link_key_result")
    tree = okr.alignment_tree(objective, w.head)
    assert tree.key_results[0].items == [item]
    assert okr.alignment_tree(objective, w.people[1]).key_results[0].items == []  # not their scorecard
    okr.link_item(item, None, w.head)
    assert item.key_result_id is None


# ---- decomposition -----------------------------------------------------------------------------

def test_decompose_by_store_owner_shares_sums_exactly(w):
    """Q GMV 3,000,000 for DE split 50/30/20 by the owners' shares, and 100 split three ways:
    each child gets its exact part floored to the cent, the cents left go to the largest
    remainders (ties: the earlier child), so the children sum to the parent exactly."""
    top = company_objective(w)
    sales = dept_objective(w, w.head, "Sales", parent_id=top.id)
    kr = gmv_kr(sales, w.head, [{"store_id": w.de.id, "share_pct": "100"}], target="3000000")
    owners = okr.store_owner_shares(kr)
    assert [(p.id, s) for p, s in owners] == [(w.people[0].id, Decimal("50.00")),
                                               (w.people[1].id, Decimal("30.00")),
                                               (w.people[2].id, Decimal("20.00"))]
    split, children = okr.decompose(kr, "shares", [{"owner_id": p.id, "share": str(s)} for p, s in owners], w.head)
    db.session.commit()
    assert [c.target for c in children] == [Decimal("1500000"), Decimal("900000"), Decimal("600000")]
    assert split.difference == 0 and all(c.parent_kr_id == kr.id for c in children)
    assert {c.objective.owner_id for c in children} == {p.id for p, _ in owners}
    assert all(c.objective.parent_id == sales.id for c in children)
    assert children[1].scope == [{"store_id": w.de.id, "share_pct": "30.0000"}]
    assert events("key_result.decompose")
    third = manual_kr(sales, w.head, target="100", title="Hundred")
    split, parts = okr.decompose(third, "equal", [{"owner_id": p.id} for p in w.people], w.head)
    assert split.amounts == [Decimal("33.34"), Decimal("33.33"), Decimal("33.33")]
    assert sum(c.target for c in parts) == Decimal("100")
    # the children reuse the person objectives made by the first split
    assert db.session.query(Objective).filter_by(parent_id=sales.id).count() == 3


def test_typed_split_shows_the_difference_and_metric_children_share_the_value(w):
    load_sales(w)
    top = company_objective(w)
    kr = gmv_kr(top, w.hr, [{"store_id": w.us.id, "share_pct": "100"}], target="3000")
    split, children = okr.decompose(kr, "typed", [{"owner_id": w.head.id, "amount": "1000"},
                                                  {"owner_id": w.ops_head.id, "amount": "750"}], w.hr)
    assert split.difference == Decimal("1250.00")  # short, shown, never spread
    # their parts of the parent's 1000 (a child's store share is kept to 4 decimals of a percent)
    assert [c.current for c in children] == [Decimal("333.333"), Decimal("250")]
    refused(lambda: okr.decompose(kr, "typed", [{"owner_id": w.head.id, "amount": "x"}], w.hr),
            "invalid_number", "amount")
    refused(lambda: okr.decompose(kr, "shares", [{"owner_id": w.head.id, "share": "1"}], w.people[0]),
            "forbidden")
    refused(lambda: okr.decompose(kr, "equal", [{"owner_id": w.outsider.id}], w.head), "forbidden")
    assert db.session.query(KeyResult).filter_by(parent_kr_id=kr.id).count() == 2


def test_an_import_job_recomputes_metric_key_results(w):
    """The after-import job (workers/jobs.py) recomputes key results as it does KPI items."""
    from kpiapp.imports.services import start_import
    from tests.imports.files import generic_file
    from tests.objectives.okr_world import D1

    objective = company_objective(w)
    kr = gmv_kr(objective, w.hr, [{"store_id": w.us.id, "share_pct": "50"}])
    start_import(generic_file([(D1.isoformat(), "", "", "ordered_sales", "800.00", "USD")]), "us.csv", w.us.id, w.hr)
    db.session.refresh(kr)
    assert kr.current == Decimal("400") and kr.progress == Decimal("13.33")
    assert objective.progress == Decimal("13.33")
