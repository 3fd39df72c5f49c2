"""scorecard_total (issue 10): the item sums the cycle pages grade from are kept by database
triggers (kpiapp/dbtriggers.py) and equal, after every kind of write to scorecard_item, the sums
of the items themselves, computed here in Python from the stored items (exact Decimals):
the cycle's start (ORM inserts), target edits (weights), actuals and reviews (points), the
recompute's bulk update, raw multi-row UPDATE and DELETE, an item removed through the ORM, an
item moved to another card, a reopened version (copied items), a card deleted (cascade).
Run on SQLite (rounded float sums) and PostgreSQL (exact numeric)."""
from decimal import Decimal

import pytest
from sqlalchemy import delete, select, update

from kpiapp.appraisal import queries, services
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from kpiapp.models import Scorecard, ScorecardItem, ScorecardTotal
from kpiapp.tracking import services as tracking
from tests.appraisal.factories import make_team, manual_items, metric_item, walk_to

pytestmark = pytest.mark.rollback

NO_ITEMS = (None, 0, 0, None, None, 0, None)


def summed_from_items():
    """{scorecard id: (Σ points x weight, items scored, items, Σ weights, then the live sums
    (0039, points = final or else computed): Σ points x weight, items with points, Σ their
    weights)} of every card, from its items; NO_ITEMS for a card without any."""
    sums = {card_id: [None, 0, 0, None, None, 0, None] for card_id in db.session.scalars(select(Scorecard.id))}
    rows = db.session.execute(select(ScorecardItem.scorecard_id, ScorecardItem.final_points,
                                     ScorecardItem.weight, ScorecardItem.computed_points))
    for card_id, points, weight, computed in rows:
        row = sums[card_id]
        if points is not None:
            row[0] = (row[0] or 0) + Decimal(points) * Decimal(weight)
            row[1] += 1
        row[2] += 1
        row[3] = (row[3] or 0) + Decimal(weight)
        live = computed if points is None else points
        if live is not None:
            row[4] = (row[4] or 0) + Decimal(live) * Decimal(weight)
            row[5] += 1
            row[6] = (row[6] or 0) + Decimal(weight)
    return {card_id: tuple(row) for card_id, row in sums.items()}


def stored():
    """{scorecard id: stored sums} (a card with no row: NO_ITEMS)."""
    total = ScorecardTotal
    rows = db.session.execute(select(total.scorecard_id, total.weighted, total.scored, total.item_count,
                                     total.weights, total.live_weighted, total.live_scored, total.live_weights))
    kept = {card_id: tuple(sums) for card_id, *sums in rows}
    cards = db.session.scalars(select(Scorecard.id))
    return {card_id: kept.get(card_id, NO_ITEMS) for card_id in cards}, kept


def assert_totals_match():
    db.session.flush()
    db.session.expire_all()
    expected = summed_from_items()
    by_card, kept = stored()
    assert by_card == expected
    assert set(kept) <= set(expected)  # no row outlives its card
    return expected


def test_totals_follow_every_write_to_the_items():
    team = make_team(size=5)
    expected = assert_totals_match()  # the cycle's start: items inserted through the ORM
    assert all(sums[2] > 0 for sums in expected.values())

    first, second, third, fourth, fifth = (team.card(p) for p in team.people)
    items = sorted(first.items, key=lambda i: i.seq)
    services.update_items(first, first.person, {items[0].id: {"weight": str(items[0].weight - 5)},
                                                items[1].id: {"weight": str(items[1].weight + 5)}})
    db.session.commit()
    assert_totals_match()  # weights edited in draft

    walk_to(team, second.person, S.CALIBRATION)
    walk_to(team, third.person, S.LOCKED)
    assert_totals_match()  # actual set, self and manager reviews scored, a card locked

    rows = [{"id": metric_item(card).id, "actual": Decimal("123.45"), "computed_points": Decimal("77.50"),
             "final_points": Decimal("77.50")} for card in (first, fourth, fifth)]
    tracking.update_items(rows)
    assert_totals_match()  # the recompute's bulk update
    db.session.execute(update(ScorecardItem).where(ScorecardItem.scorecard_id.in_([second.id, fourth.id]))
                       .values(computed_points=Decimal("41.25")))
    assert_totals_match()  # computed points alone: only the live sums change (0039)

    db.session.execute(update(ScorecardItem).where(ScorecardItem.scorecard_id.in_([fourth.id, fifth.id]))
                       .values(final_points=Decimal("33.33"), weight=Decimal("12.34")))
    assert_totals_match()  # one multi-row UPDATE
    scored = metric_item(db.session.get(Scorecard, second.id))
    db.session.execute(update(ScorecardItem).where(ScorecardItem.id == scored.id)
                       .values(weight=ScorecardItem.weight + 1))
    assert_totals_match()  # a weight alone, on a scored item
    db.session.execute(update(ScorecardItem).where(ScorecardItem.scorecard_id == fourth.id)
                       .values(final_points=None))
    assert_totals_match()  # points cleared

    card = db.session.get(Scorecard, fifth.id)
    card.items.remove(manual_items(card)[0])
    assert_totals_match()  # an item removed through the ORM (delete-orphan)

    moved = manual_items(db.session.get(Scorecard, fourth.id))[0]
    db.session.execute(update(ScorecardItem).where(ScorecardItem.id == moved.id)
                       .values(scorecard_id=fifth.id))
    assert_totals_match()  # an item moved to another card: both cards change

    db.session.execute(delete(ScorecardItem).where(ScorecardItem.scorecard_id == fifth.id))
    expected = assert_totals_match()  # every item of a card deleted
    assert expected[fifth.id] == NO_ITEMS

    locked = db.session.get(Scorecard, third.id)
    services.reopen(locked, team.admin, "Data corrected.")
    db.session.commit()
    expected = assert_totals_match()  # a new version with copied items
    assert len(expected) == 6

    spare = Scorecard(cycle_id=first.cycle_id, person_id=first.person_id, version=9, state=S.DRAFT,
                      template_id=first.template_id,
                      items=[services._copy_card_item(i) for i in db.session.get(Scorecard, first.id).items])
    db.session.add(spare)
    assert_totals_match()
    spare_id = spare.id
    db.session.execute(delete(Scorecard).where(Scorecard.id == spare_id))
    assert_totals_match()  # the card deleted: its items and its row go with it
    assert db.session.get(ScorecardTotal, spare_id) is None


def test_the_pages_grade_from_the_stored_sums_as_from_the_items():
    """queries.cycle_point_sums sums the items; cycle_card_grades reads scorecard_total: a card
    whose stored row were wrong would grade differently. Cards in every state, one with no items."""
    team = make_team(size=4)
    for person, state in zip(team.people, (S.MANAGER_REVIEW, S.CALIBRATION, S.LOCKED)):
        walk_to(team, person, state)
    emptied = team.card(team.people[3])
    db.session.execute(delete(ScorecardItem).where(ScorecardItem.scorecard_id == emptied.id))
    db.session.commit()
    bands = services.grade_bands(team.cycle.grade_table)
    by_items = [services.grade_from_sums(row, bands) for row in queries.cycle_point_sums(team.cycle.id)]
    by_stored = [grade for _id, grade in queries.cycle_card_grades(team.cycle.id, bands)]
    assert by_stored == by_items
    assert len(set(by_items) - {None}) >= 1

