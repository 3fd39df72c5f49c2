"""Target order is checked on save (not only on submit), naming the limit at fault: higher is
better needs threshold < target <= stretch, lower is better the reverse. Blanks are not compared."""

from decimal import Decimal as D

import pytest

from kpiapp.appraisal import scoring, services
from kpiapp.appraisal.scoring import Direction
from kpiapp.extensions import db
from kpiapp.appraisal.workflow import ScorecardState as S
from tests.appraisal.factories import make_team, metric_item, walk_to

pytestmark = pytest.mark.rollback




@pytest.mark.parametrize("direction, limits, expected", [
    (Direction.HIGHER_BETTER, ("80", "100", "120"), None),
    (Direction.HIGHER_BETTER, ("100", "100", "120"), ("order_threshold_not_below_target", "threshold")),
    (Direction.HIGHER_BETTER, ("80", "100", "90"), ("order_stretch_below_target", "stretch")),
    (Direction.HIGHER_BETTER, ("80", "100", "100"), None),  # no stretch zone is allowed
    (Direction.LOWER_BETTER, ("0.35", "0.25", "0.18"), None),
    (Direction.LOWER_BETTER, ("0.20", "0.25", "0.18"), ("order_threshold_not_above_target", "threshold")),
    (Direction.LOWER_BETTER, ("0.35", "0.25", "0.30"), ("order_stretch_above_target", "stretch")),
    (Direction.LOWER_BETTER, (None, "0.25", "0.30"), ("order_stretch_above_target", "stretch")),
    (Direction.LOWER_BETTER, ("0.20", None, "0.30"), None),  # no target yet: nothing to compare
])
def test_order_problem_names_the_limit_at_fault(direction, limits, expected):
    assert scoring.order_problem(direction, *(None if v is None else D(v) for v in limits)) == expected


def test_saving_targets_out_of_order_is_refused_on_the_item_and_field():
    team = make_team(size=1)
    person = team.people[0]
    card = team.card(person)
    gmv = metric_item(card)  # higher is better, 80000 / 100000 / 120000
    with pytest.raises(services.ValidationError) as caught:
        services.update_items(card, person, {gmv.id: {"threshold": "110000"}})
    error = caught.value
    assert (error.code, error.field, error.item_id) == ("order_threshold_not_below_target", "threshold", gmv.id)
    assert "threshold must be below the target" in error.message
    db.session.rollback()
    db.session.refresh(gmv)
    assert gmv.threshold == 80000


def test_a_change_request_out_of_order_is_refused_too():
    team = make_team(size=1)
    person = team.people[0]
    card = walk_to(team, person, S.APPROVED)
    gmv = metric_item(card)
    with pytest.raises(services.ValidationError) as caught:
        services.request_change(card, person, {gmv.id: {"stretch": "90000"}}, "Stock-outs in March")
    assert (caught.value.code, caught.value.field) == ("order_stretch_below_target", "stretch")
