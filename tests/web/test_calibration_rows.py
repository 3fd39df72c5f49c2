"""The calibration list's rows (cycle_helpers.calibration_rows, issue 10) read each card's items
as plain rows in one query; card by card they must show what the per-card computation shows:
services.shown_result (current_result, or the stored result once locked), services.self_total
and the grade form exactly when services.permitted allows calibrate. Checked on a generated org
whose actuals come from the recompute (shared stores, FX with missing rates, ratios, stores
without data), with manual items reviewed or not, out-of-range self scores, calibrated grades,
locked cards, weights that do not total 100, a zero weight and a card without items."""
import random
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import delete, update

from kpiapp import presentation
from kpiapp.appraisal import services
from kpiapp.appraisal.routes import cycle_helpers
from kpiapp.appraisal.workflow import Edit
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from kpiapp.models import Scorecard, ScorecardItem, StoreOwner
from kpiapp.models.appraisal import ItemKind
from kpiapp.tracking import services as tracking
from tests.appraisal.factories import HRFactory
from tests.factories import DepartmentFactory, PositionFactory, UserFactory
from tests.imports.files import store
from tests.tracking.test_recompute_batch import START, TODAY, generate, metric_items

MANUAL = {"kind": "manual", "name": "Teamwork", "weight": "16", "rule": {"kind": "manual", "scale_max": "8"}}
SELF_SCORES = [None, "4", "8", "2.35", "0.01", "9"]  # 9 > scale_max: no self total
MANAGER_POINTS = [None, "80.00", "47.13"]


def items():
    """Seven metric items (acos, tacos, roas, ctr and cvr are ratios; acos, gmv, roas and tacos need
    FX) at 84 in all, and a manual one. (refund_rate is left out: the generated facts have no
    refunds, so no card would ever have a total.)"""
    metric = [item for item in metric_items() if item["metric_key"] != "refund_rate"]
    for item in metric:
        item["weight"] = "12"
    return metric + [MANUAL]


@pytest.fixture
def org(app):
    """A started cycle of 18 people over six stores, its actuals recomputed from generated facts."""
    currencies = ["USD", "EUR", "GBP", "USD", "EUR", "USD"]
    shops = [(store(code=f"CAL-{n}", currency=c), c) for n, c in enumerate(currencies)]
    dept, pos = DepartmentFactory(), PositionFactory()
    hr = HRFactory(department=dept)
    manager = UserFactory(department=dept, manager=UserFactory(department=dept))
    people = [UserFactory(department=dept, position=pos, manager=manager) for _ in range(18)]
    for n, person in enumerate(people[:-2]):
        for k in range(1 + n % 3):
            db.session.add(StoreOwner(store=shops[(n + k * 2) % len(shops)][0], person=person,
                                      share_pct=Decimal(["100", "50", "33.33", "40"][(n + k) % 4])))
    # the second-last person holds only the store without facts (no data); the last one no store
    db.session.add(StoreOwner(store=shops[-1][0], person=people[-2], share_pct=Decimal("100")))
    db.session.flush()
    services.create_template(hr, code="cal", name="Calibrated", items=items(), position_id=pos.id)
    cycle = services.create_cycle(hr, name="Cal", kind="quarterly", period_start=START,
                                  period_end=START + timedelta(days=90),
                                  participants=[{"position_id": pos.id}])
    services.start_cycle(cycle.id, hr.id)
    generate(random.Random(10), shops)
    db.session.commit()
    tracking.recompute_cycle(cycle.id, today=TODAY)
    vary(cards_of(cycle.id))
    db.session.commit()
    db.session.expire_all()
    return cycle, hr, manager, people


def cards_of(cycle_id):
    return db.session.query(Scorecard).filter_by(cycle_id=cycle_id).order_by(Scorecard.id).all()


def set_item(item, **values):
    db.session.execute(update(ScorecardItem).where(ScorecardItem.id == item.id).values(**values))


def vary(cards):
    """Reviews, states and the odd cases, card by card (written directly: the shapes, not the workflow)."""
    for n, card in enumerate(cards):
        manual = next(i for i in card.items if i.kind == ItemKind.manual)
        points = MANAGER_POINTS[n % len(MANAGER_POINTS)]
        self_score = SELF_SCORES[n % len(SELF_SCORES)]
        set_item(manual, self_score=self_score and Decimal(self_score),
                 final_points=points and Decimal(points), manager_score=points and Decimal("4"))
        if n % 4 == 1:  # a manager override of a data item
            set_item(card.items[0], final_points=Decimal("101.50"), manager_score=Decimal("101.50"))
        if n % 3:  # the manager scores the data items without data (and, on some cards, they get data)
            unscored = [i for i in card.items if i.kind != ItemKind.manual and i.final_points is None]
            for k, item in enumerate(unscored):
                points = Decimal(f"{40 + 9 * n + k}.{n % 10}5")
                set_item(item, final_points=points, manager_score=points,
                         **({"computed_points": points - 3} if n % 2 else {}))
        values = {"state": S.CALIBRATION}
        if n % 5 == 2:
            values.update(calibrated_grade="A", calibration_reason="quota")
        if n in (3, 11):  # locked: the stored result, whatever the items say now
            values.update(state=S.LOCKED, total=Decimal("77.77"), grade="B", bonus_coefficient=Decimal("1"))
        db.session.execute(update(Scorecard).where(Scorecard.id == card.id).values(**values))
    set_item(cards[5].items[1], weight=Decimal("12"))  # weights 101
    set_item(cards[4].items[1], weight=Decimal("0"))  # a zero weight, the rest still 100
    set_item(cards[4].items[2], weight=Decimal("24"))
    db.session.execute(delete(ScorecardItem).where(ScorecardItem.scorecard_id == cards[7].id))


def per_card(card, user):
    """The row as the page computed it before: one card at a time, its ORM items loaded."""
    total, grade, _coefficient = services.shown_result(card)
    return total, grade, services.self_total(card), Edit.CALIBRATE in services.permitted(card, user).edits


def test_rows_show_what_the_per_card_computation_shows(org):
    cycle, hr, manager, people = org
    cards = cards_of(cycle.id)
    for user in (hr, manager, people[0]):
        rows = cycle_helpers.calibration_rows(cards, user)
        assert [row.card for row in rows] == cards
        shown = [(r.total, r.grade, r.self_total, r.can_calibrate) for r in rows]
        assert shown == [per_card(c, user) for c in cards]
    rows = cycle_helpers.calibration_rows(cards, hr)
    # the generated org covers every path
    provenances = [i.provenance or {} for c in cards for i in c.items]
    assert any(p.get("fx") for p in provenances) and any(p.get("missing_rates") for p in provenances)
    assert {"no_data", "no_scope", "missing_rates", None} <= {p.get("reason") for p in provenances}
    assert {r.total is None for r in rows} == {r.self_total is None for r in rows} == {True, False}
    assert {r.grade for r in rows} >= {None, "A", "B"} and len({r.grade for r in rows}) > 3
    assert any(r.card.is_locked and r.total == Decimal("77.77") for r in rows)
    assert {r.can_calibrate for r in rows} == {True, False}
    assert len({r.total for r in rows if r.total is not None}) > 5


def cell(row_html, label):
    return re.search(rf'data-label="{label}"[^>]*>(.*?)</td>', row_html, re.S).group(1)


def test_the_page_shows_each_row_as_the_per_card_computation(org, browser):
    cycle, hr, _manager, _people = org
    page = browser(hr).page(f"/cycles/{cycle.id}/calibration")
    shown = [c for c in cards_of(cycle.id) if c.state == S.CALIBRATION]
    assert len(shown) == 16
    for card in shown:
        total, grade, self_total, can = per_card(card, hr)
        row = re.search(rf'<tr id="scorecard-{card.id}-calibration".*?</tr>', page, re.S).group(0)
        assert cell(row, "Total") == presentation.number(total)
        assert cell(row, "Self score") == presentation.number(self_total)
        assert f"<strong>{grade or '—'}</strong>" in row
        assert (f"/scorecards/{card.id}/calibrate" in row) == can
        if can and grade:
            assert f'<option value="{grade}" selected>' in row


def test_a_grade_change_answers_htmx_with_the_row_as_the_page_shows_it(org, browser):
    cycle, hr, _manager, _people = org
    card = next(c for c in cards_of(cycle.id) if c.state == S.CALIBRATION and c.calibrated_grade is None
                and services.shown_result(c)[0] is not None)
    client = browser(hr)
    answer = client.post(f"/scorecards/{card.id}/calibrate", {
        "grade": "C", "reason": "quota", "view": "calibration", "expected_version": card.version_id}, htmx=True)
    assert answer.status_code == 200
    fragment = answer.get_data(as_text=True)
    db.session.expire_all()
    card = db.session.get(Scorecard, card.id)
    page = client.page(f"/cycles/{cycle.id}/calibration")
    row = re.search(rf'<tr id="scorecard-{card.id}-calibration".*?</tr>', page, re.S).group(0)
    assert "<strong>C</strong>" in fragment and '<option value="C" selected>' in fragment
    total = presentation.number(services.shown_result(card)[0])
    assert cell(fragment, "Total") == cell(row, "Total") == total
    assert cell(fragment, "Self score") == cell(row, "Self score")
    assert "(calibrated: quota)" in fragment and "(calibrated: quota)" in row



def test_a_grade_change_without_js_goes_back_to_the_page(org, browser):
    cycle, hr, _manager, _people = org
    card = next(c for c in cards_of(cycle.id) if c.state == S.CALIBRATION)
    answer = browser(hr).post(f"/scorecards/{card.id}/calibrate", {
        "grade": "D", "reason": "quota", "view": "calibration", "expected_version": card.version_id})
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith(f"/cycles/{cycle.id}/calibration")
    db.session.expire_all()
    assert db.session.get(Scorecard, card.id).calibrated_grade == "D"
