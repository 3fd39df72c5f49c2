"""The results export of a cycle (docs/bonus.md, "Results export"): read-only.

Long format, one row per KPI item of every latest scorecard (a scorecard without items
still gets one row); the person-level columns repeat on each of the person's rows. Values
are strings (numbers as plain decimals) or None, the same for the CSV/XLSX files and the
API. The number of queries does not depend on the number of people.
"""
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from kpiapp.appraisal import queries, services
from kpiapp.extensions import db
from kpiapp.models import Acknowledgement, Appeal, Scorecard, User

PERSON_COLUMNS = ["cycle", "person_id", "person", "email", "department", "position", "manager",
                  "scorecard_id", "version", "state"]
ITEM_COLUMNS = ["item_seq", "item", "kind", "weight", "threshold", "target", "stretch", "actual", "points",
                "override_reason"]
RESULT_COLUMNS = ["total", "grade", "coefficient", "calibrated_grade", "calibration_reason",
                  "acknowledgement", "appeal"]
COLUMNS = PERSON_COLUMNS + ITEM_COLUMNS + RESULT_COLUMNS


def cycle_cards(cycle_id, where):
    """The latest scorecards of the cycle that `where` lets through, with everything a row shows."""
    query = (queries.cycle_cards_select(cycle_id, Scorecard).where(where).order_by(*queries.cycle_order())
             .options(selectinload(Scorecard.items), selectinload(Scorecard.cycle),
                      selectinload(Scorecard.person).selectinload(User.department),
                      selectinload(Scorecard.person).selectinload(User.position),
                      selectinload(Scorecard.person).selectinload(User.manager)))
    return db.session.execute(query).scalars().all()


def result_rows(cycle, where):
    """[{column: str or None}] for the cycle's latest scorecards that `where` lets through."""
    cards = cycle_cards(cycle.id, where)
    ids = [card.id for card in cards]
    acks = {a.scorecard_id: a for a in _rows_of(Acknowledgement, ids)}
    appeals = {a.scorecard_id: a for a in _rows_of(Appeal, ids)}
    rows = []
    for card in cards:
        person = _person_columns(cycle, card) | _result_columns(card, acks.get(card.id), appeals.get(card.id))
        rows.extend(person | _item_columns(item) for item in card.items or [None])
    return rows


def _rows_of(model, scorecard_ids):
    if not scorecard_ids:
        return []
    return db.session.execute(select(model).where(model.scorecard_id.in_(scorecard_ids))).scalars().all()


def text(value):
    return None if value is None else str(value)


def _person_columns(cycle, card):
    person = card.person
    return {
        "cycle": cycle.name, "person_id": text(person.id), "person": person.name, "email": person.email,
        "department": person.department.name if person.department else None,
        "position": person.position.title if person.position else None,
        "manager": person.manager.name if person.manager else None,
        "scorecard_id": text(card.id), "version": text(card.version), "state": text(card.state),
    }


def _item_columns(item):
    if item is None:
        return dict.fromkeys(ITEM_COLUMNS)
    points = item.final_points if item.final_points is not None else item.computed_points
    return {
        "item_seq": text(item.seq), "item": item.name, "kind": text(item.kind), "weight": text(item.weight),
        "threshold": text(item.threshold), "target": text(item.target), "stretch": text(item.stretch),
        "actual": text(item.actual), "points": text(points), "override_reason": item.override_reason,
    }


def _result_columns(card, ack, appeal):
    total, grade, coefficient = services.shown_result(card)
    return {
        "total": text(total), "grade": grade, "coefficient": text(coefficient),
        "calibrated_grade": card.calibrated_grade, "calibration_reason": card.calibration_reason,
        "acknowledgement": "none" if ack is None else ("objection" if ack.objection else "acknowledged"),
        "appeal": text(appeal.status) if appeal else None,
    }


def as_table(rows):
    """(header, rows of cells) for kpiapp.tabular.write_csv / write_xlsx."""
    return COLUMNS, [["" if row[c] is None else row[c] for c in COLUMNS] for row in rows]
