"""The OKR attainment item (docs/objectives.md, "OKR attainment in the scorecard"): off by
default; with a cycle's okr_weight every scorecard gets the item with that weight, its actual
the KR-weighted progress of the person's key results, scored like other items, shown in the
report; weights are checked together; locked scorecards never change."""
import re
from datetime import date
from decimal import Decimal

import pytest

from kpiapp.appraisal import services
from kpiapp.appraisal.workflow import Action
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from kpiapp.models import Cycle, Scorecard
from kpiapp.models.appraisal import ItemKind
from kpiapp.objectives import services as okr
from kpiapp.reports import services as reports
from kpiapp.tracking import services as tracking
from tests.appraisal.factories import DepartmentFactory, HRFactory, ITEMS, PositionFactory, UserFactory, \
    make_team, make_template, walk_to
from tests.helpers import post_form
from tests.web.test_page_queries import QueryCounter

pytestmark = pytest.mark.rollback
INPUT = re.compile(r'<input[^>]*?name="([^"]+)"[^>]*?value="([^"]*)"')


def okr_team(weight="20", size=2):
    """make_team's line, with a cycle carrying an OKR weight."""
    department, position = DepartmentFactory(), PositionFactory()
    hr = HRFactory(department=department)
    manager = UserFactory(department=department, position=None)
    people = [UserFactory(department=department, position=position, manager=manager) for _ in range(size)]
    make_template(hr, position, ITEMS)
    cycle = services.create_cycle(hr, name="2026 Q4 with OKR", kind="quarterly", period_start=date(2026, 10, 1),
                                  period_end=date(2026, 12, 31), participants=[{"position_id": position.id}],
                                  okr_weight=Decimal(weight) if weight else None)
    db.session.commit()
    return hr, manager, people, cycle


def person_krs(hr, person, progress_weights, period="2026-Q4"):
    """A person objective with manual key results at the given (progress, weight)."""
    objective = okr.create_objective({"title": f"Goals of {person.name}", "level": "person",
                                      "owner_id": person.id, "period": period}, hr)
    krs = []
    for n, (value, weight) in enumerate(progress_weights):
        kr = okr.create_key_result(objective, {"title": f"KR {n}", "kind": "manual", "start_value": "0",
                                               "target": "200", "weight": weight}, hr)
        okr.check_in(kr, {"confidence": "on_track", "value": str(Decimal(value) * 2)}, hr)
        krs.append(kr)
    db.session.commit()
    return krs


def card_of(cycle, person):
    return db.session.query(Scorecard).filter_by(cycle_id=cycle.id, person_id=person.id).one()


def okr_items(card):
    return [i for i in card.items if i.kind == ItemKind.okr]


def test_off_by_default_no_okr_item(app):
    team = make_team(size=1)
    assert team.cycle.okr_weight is None
    card = team.card(team.people[0])
    assert okr_items(card) == [] and sum(Decimal(i.weight) for i in card.items) == 100


def test_on_the_item_has_the_weight_and_the_kr_weighted_progress(app):
    hr, _manager, people, cycle = okr_team("20")
    person_krs(hr, people[0], [("50", "1"), ("80", "3")])  # (50 + 3 x 80) / 4 = 72.5
    services.start_cycle(cycle.id, hr.id)
    db.session.commit()
    card = card_of(cycle, people[0])
    [item] = okr_items(card)
    assert Decimal(item.weight) == 20
    assert [Decimal(i.weight) for i in card.items] == [Decimal(48), Decimal(32), Decimal(20)]
    assert Decimal(item.actual) == Decimal("72.5")
    assert Decimal(item.computed_points) == Decimal("72.5") and Decimal(item.final_points) == Decimal("72.5")
    lines = item.provenance["key_results"]
    assert [(kr["title"], Decimal(kr["progress"]), Decimal(kr["weight"])) for kr in lines] == [
        ("KR 0", Decimal(50), Decimal(1)), ("KR 1", Decimal(80), Decimal(3))]
    other = okr_items(card_of(cycle, people[1]))[0]  # owns no key results: no value, the reason said
    assert other.actual is None and other.provenance["reason"] == "no_key_results"


def test_other_periods_and_other_peoples_krs_do_not_count(app):
    hr, _manager, people, cycle = okr_team("10")
    person_krs(hr, people[0], [("40", "1")])
    person_krs(hr, people[0], [("100", "1")], period="2026-Q2")  # another quarter
    person_krs(hr, people[1], [("90", "1")])
    services.start_cycle(cycle.id, hr.id)
    db.session.commit()
    assert Decimal(okr_items(card_of(cycle, people[0]))[0].actual) == 40
    assert Decimal(okr_items(card_of(cycle, people[1]))[0].actual) == 90


def test_recompute_follows_check_ins(app):
    hr, _manager, people, cycle = okr_team("20")
    [kr] = person_krs(hr, people[0], [("50", "1")])
    services.start_cycle(cycle.id, hr.id)
    card = card_of(cycle, people[0])
    tracking.recompute_scorecard(card.id)  # the GMV item's first computation
    assert tracking.recompute_scorecard(card.id) == 0  # nothing moved
    okr.check_in(kr, {"confidence": "on_track", "value": "150"}, hr)  # 75 %
    db.session.commit()
    assert tracking.recompute_scorecard(card.id) == 1
    assert Decimal(okr_items(card)[0].actual) == 75
    tracking.recompute_cycle(cycle.id)  # the batch path writes the same
    assert Decimal(okr_items(card_of(cycle, people[0]))[0].actual) == 75


def test_a_batch_reads_everyones_key_results_in_one_query_with_the_same_actuals(app):
    """read_cards (the batch recompute's read) looks the OKR items up in `attainments`: one
    query per cycle period whatever the number of people, the same values as one by one."""
    hr, _manager, people, cycle = okr_team("20", size=5)
    for n, person in enumerate(people[:4]):
        person_krs(hr, person, [(str(10 * n), "1"), ("90", str(n + 1))])
    services.start_cycle(cycle.id, hr.id)
    db.session.commit()
    cards = [card_of(cycle, person) for person in people]
    today = date(2026, 12, 1)
    counts = []
    for ids in ([c.id for c in cards[:2]], [c.id for c in cards]):
        db.session.expire_all()
        with QueryCounter(db.engine) as counter:
            _read, results = tracking.read_cards(ids, today)
        counts.append(counter.count)
    assert counts[0] == counts[1]
    for card in cards:
        [item] = okr_items(card)
        one_by_one = tracking.compute_any(item, card, today)
        assert results[tracking.okr_scope(card)] == one_by_one
        assert tracking.compute_any(item, card, today, results) == one_by_one
    assert results[tracking.okr_scope(cards[4])][2]["reason"] == "no_key_results"


def test_weights_are_checked_with_the_okr_item(app):
    hr, _manager, people, cycle = okr_team("20")
    services.start_cycle(cycle.id, hr.id)
    db.session.commit()
    card = card_of(cycle, people[0])
    services.update_items(card, people[0], {card.items[0].id: {"weight": "60"}})  # 60 + 32 + 20 = 112
    with pytest.raises(services.ValidationError) as refused:
        services.apply_action(card.id, Action.SUBMIT, people[0])
    assert refused.value.code == "weights_not_100" and "112" in refused.value.message
    db.session.rollback()
    card = card_of(cycle, people[0])
    services.update_items(card, people[0], {card.items[0].id: {"weight": "38"},
                                            okr_items(card)[0].id: {"weight": "30"}})
    services.apply_action(card.id, Action.SUBMIT, people[0])  # 38 + 32 + 30 = 100
    assert card.state == S.SUBMITTED


def test_the_okr_weight_is_a_share_below_100_and_fixed_once_running(app):
    hr, _manager, _people, cycle = okr_team(None)
    for bad in ("0", "100", "-5"):
        with pytest.raises(services.ValidationError) as refused:
            services.edit_cycle(cycle, hr, name=None, deadlines={}, okr_weight=Decimal(bad))
        assert refused.value.code == "invalid_okr_weight"
    services.edit_cycle(cycle, hr, name=None, deadlines={}, okr_weight=Decimal("15"))
    assert cycle.okr_weight == Decimal("15")
    services.start_cycle(cycle.id, hr.id)
    services.edit_cycle(cycle, hr, name=None, deadlines={}, okr_weight=None)
    assert cycle.okr_weight == Decimal("15")


def test_locked_cards_never_change_and_the_report_shows_the_item(app):
    hr, manager, people, cycle = okr_team("20")
    [kr] = person_krs(hr, people[0], [("50", "1")])
    services.start_cycle(cycle.id, hr.id)
    db.session.commit()

    class Team:  # what walk_to needs
        pass
    team = Team()
    team.hr, team.manager = hr, manager
    team.card = lambda person: card_of(cycle, person)
    card = walk_to(team, people[0], S.LOCKED)
    assert card.state == S.LOCKED
    okr.check_in(kr, {"confidence": "on_track", "value": "180"}, hr)
    db.session.commit()
    assert tracking.recompute_scorecard(card.id) == 0
    tracking.recompute_cycle(cycle.id)
    db.session.expire_all()
    item = okr_items(card_of(cycle, people[0]))[0]
    assert Decimal(item.actual) == 50 and Decimal(item.final_points) == 50
    html = reports.render_scorecard_html(card_of(cycle, people[0]), "en", "doc-okr")
    assert "OKR attainment" in html and "KR 0" in html and f"Goals of {people[0].name}" in html
    zh = reports.render_scorecard_html(card_of(cycle, people[0]), "zh_CN", "doc-okr-zh")
    assert "OKR 达成率" in zh


def test_the_cycle_form_sets_and_clears_the_weight_and_the_card_shows_the_krs(app, login):
    hr, _manager, people, cycle = okr_team(None)
    [kr] = person_krs(hr, people[0], [("50", "1")])
    client = login(hr)
    page = f"/cycles/{cycle.id}/edit"
    html = client.get(page).get_data(as_text=True)
    assert 'name="okr_weight"' in html
    shown = {name: value for name, value in INPUT.findall(html) if name.startswith("grade-")}
    assert post_form(client, page, {**shown, "name": cycle.name, "okr_weight": "25"}, page=page).status_code == 302
    db.session.expire_all()
    assert db.session.get(Cycle, cycle.id).okr_weight == Decimal(25)
    assert post_form(client, page, {**shown, "name": cycle.name, "okr_weight": ""}, page=page).status_code == 302
    db.session.expire_all()
    assert db.session.get(Cycle, cycle.id).okr_weight is None
    post_form(client, page, {**shown, "name": cycle.name, "okr_weight": "25"}, page=page)
    services.start_cycle(cycle.id, hr.id)
    db.session.commit()
    card = card_of(cycle, people[0])
    html = login(people[0]).get(f"/scorecards/{card.id}").get_data(as_text=True)
    assert "OKR attainment" in html and "50 %" in html
    assert f'href="/key-results/{kr.id}"' in html and "KR 0" in html


def test_templates_cannot_hold_an_okr_item(app):
    hr, _manager, _people, _cycle = okr_team(None)
    with pytest.raises(services.ValidationError) as refused:
        services.create_template(hr, code="okr-in-template", name="x", items=[
            {"kind": "okr", "name": "OKR", "weight": "100", "rule": {"kind": "linear"}}])
    assert refused.value.field == "kind"
