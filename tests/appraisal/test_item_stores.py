"""scorecard_item_store (issue 10): the stores each item's JSON scope names, as the company
dashboard groups items by store, are kept by database triggers (kpiapp/dbtriggers.py) and
equal, after every kind of write to scorecard_item, the scopes expanded here in Python from
the stored items: the cycle's start (ORM inserts), a scope edited through the ORM, the
recompute's bulk update (no scope), a bulk and a raw UPDATE of scopes, raw INSERT and DELETE,
an item removed through the ORM, a reopened version (copied items), a card deleted (cascade).
Scopes that name a store twice, entries without a store id, store ids as text, empty, null
and non-list scopes. The migration's backfill fills the same rows. SQLite and PostgreSQL."""
import json
from decimal import Decimal

import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import delete, select, text, update

from kpiapp.appraisal import services
from kpiapp.dbtriggers import fill_item_stores
from kpiapp.extensions import db
from kpiapp.models import Scorecard, ScorecardItem, ScorecardItemStore
from kpiapp.tracking import services as tracking
from tests.appraisal.factories import make_team, manual_items, metric_item

pytestmark = pytest.mark.rollback

ODD_SCOPES = [
    [{"store_id": 7, "share_pct": "40.00"}, {"store_id": 7, "share_pct": "60.00"}],  # one store twice
    [{"share_pct": "100.00"}, {"store_id": None}, {"store_id": 8}],  # entries without a store
    [{"store_id": "9", "share_pct": "50"}, "not an entry", 3, [4]],  # a text id; entries not objects
    [],
    None,
    {"store_id": 10},  # not a list: no stores
]


def expanded_in_python():
    """{(item id, store id)} of every stored item, its scope read as the statements read it."""
    pairs = set()
    for item_id, scope in db.session.execute(select(ScorecardItem.id, ScorecardItem.scope)):
        if not isinstance(scope, list):
            continue
        pairs |= {(item_id, int(entry["store_id"])) for entry in scope
                  if isinstance(entry, dict) and entry.get("store_id") is not None}
    return pairs


def stored():
    return {tuple(row) for row in db.session.execute(select(ScorecardItemStore.item_id, ScorecardItemStore.store_id))}


def assert_pairs_match():
    db.session.flush()
    db.session.expire_all()
    expected = expanded_in_python()
    assert stored() == expected
    return expected


def scoped(team, stores_by_person):
    """Give each person's metric item a scope (ORM update of `scope`)."""
    for person, scope in zip(team.people, stores_by_person):
        metric_item(team.card(person)).scope = scope
    db.session.commit()


def test_the_table_follows_every_write_to_the_items():
    team = make_team(size=4)
    assert_pairs_match()  # the cycle's start: items inserted through the ORM
    first, second, third, fourth = (team.card(p) for p in team.people)
    scoped(team, [[{"store_id": 1, "share_pct": "100.00"}], [{"store_id": 1}, {"store_id": 2}],
                  ODD_SCOPES[0], ODD_SCOPES[1]])
    expected = assert_pairs_match()  # scopes edited through the ORM, one naming a store twice
    assert {(metric_item(third).id, 7), (metric_item(fourth).id, 8)} <= expected

    for scope in ODD_SCOPES:
        metric_item(db.session.get(Scorecard, first.id)).scope = scope
        db.session.flush()
        assert_pairs_match()

    rows = [{"id": metric_item(card).id, "actual": Decimal("123.45"), "computed_points": Decimal("77.50"),
             "final_points": Decimal("77.50")} for card in (first, second, third)]
    tracking.update_items(rows)
    assert_pairs_match()  # the recompute's bulk update: no scope written

    db.session.execute(update(ScorecardItem).where(ScorecardItem.scorecard_id.in_([second.id, third.id]))
                       .values(scope=[{"store_id": 5}, {"store_id": 6}, {"store_id": 5}]))
    assert_pairs_match()  # one multi-row UPDATE of scopes
    db.session.execute(update(ScorecardItem).where(ScorecardItem.scorecard_id == second.id)
                       .values(weight=ScorecardItem.weight + 1, scope=ScorecardItem.scope))
    assert_pairs_match()  # scope set to itself beside another column
    item_id = metric_item(db.session.get(Scorecard, fourth.id)).id
    db.session.execute(text("UPDATE scorecard_item SET scope = :scope WHERE id = :id"),
                       {"scope": json.dumps([{"store_id": 11}, {"store_id": "12"}]), "id": item_id})
    assert_pairs_match()  # raw SQL
    db.session.execute(text("UPDATE scorecard_item SET scope = NULL WHERE id = :id"), {"id": item_id})
    assert not any(pair[0] == item_id for pair in assert_pairs_match())  # cleared

    copied = metric_item(db.session.get(Scorecard, second.id))
    columns = ", ".join(c.name for c in ScorecardItem.__table__.columns
                        if c.name not in ("id", "direction", "seq", "scope"))
    db.session.execute(text(f"INSERT INTO scorecard_item ({columns}, seq, scope) "
                            f"SELECT {columns}, 99, :scope FROM scorecard_item WHERE id = :id"),
                       {"scope": json.dumps([{"store_id": 13}, {"store_id": 13}]), "id": copied.id})
    assert any(pair[1] == 13 for pair in assert_pairs_match())  # a raw INSERT
    db.session.execute(text("DELETE FROM scorecard_item WHERE seq = 99"))
    assert not any(pair[1] == 13 for pair in assert_pairs_match())  # a raw DELETE

    card = db.session.get(Scorecard, third.id)
    card.items.remove(metric_item(card))
    assert_pairs_match()  # an item removed through the ORM (delete-orphan)
    db.session.commit()

    spare = Scorecard(cycle_id=first.cycle_id, person_id=first.person_id, version=9, state=first.state,
                      template_id=first.template_id,
                      items=[services._copy_card_item(i) for i in db.session.get(Scorecard, second.id).items])
    db.session.add(spare)
    expected = assert_pairs_match()  # a new version with copied items
    spare_items = {item.id for item in spare.items}
    assert any(pair[0] in spare_items for pair in expected)
    db.session.execute(delete(Scorecard).where(Scorecard.id == spare.id))
    assert not any(pair[0] in spare_items for pair in assert_pairs_match())  # the card deleted: cascade
    assert manual_items(db.session.get(Scorecard, first.id))


def test_the_migration_fills_the_same_rows_as_the_triggers():
    """0030's backfill (`fill_item_stores`, run here as the migration runs it) over items with
    every kind of scope gives the rows the triggers keep."""
    team = make_team(size=len(ODD_SCOPES))
    scoped(team, ODD_SCOPES)
    kept = assert_pairs_match()
    conn = db.session.connection()
    conn.execute(delete(ScorecardItemStore))
    assert not stored()
    with Operations.context(MigrationContext.configure(conn)):
        fill_item_stores()
    db.session.expire_all()
    assert stored() == kept
    assert len(kept) == 3  # 7; 8; 9 (of "9"); no row for an empty, null or non-list scope
