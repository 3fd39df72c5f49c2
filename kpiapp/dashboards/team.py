"""The team dashboard (docs/pace.md, docs/dashboards.md): every report's scorecard in a cycle —
projected score, items at risk (people with more at-risk items first), the stage and whose
move it is, the stage's deadline and whether it is overdue — and the team's at-risk items.

Rows are paged by keyset, PAGE_SIZE at a time, in (at-risk items desc, name, scorecard id)
order: the order needs every card's at-risk count, so the team's cards are listed (one query
of ids and names) and their metric items' paces computed set-based (`item_paces` over a
SELECT of ids, `paced_items`: 3 queries); only the page's cards are then loaded with their items, people,
reporting lines and events. The number of queries is the same for 20 people or 2,000.
"""
from collections import defaultdict
from dataclasses import dataclass

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from kpiapp import policy, presentation
from kpiapp.appraisal.progress import projected, standing
from kpiapp.appraisal.queries import PAGE_SIZE, latest_only, load_reporting_lines
from kpiapp.dashboards.panels import Column, Panel
from kpiapp.extensions import db
from kpiapp.metrics import batch
from kpiapp.models import Scorecard, ScorecardItem, User
from kpiapp.tracking.paces import paced_items

AT_RISK_ROWS = 50


@dataclass
class TeamDashboard:
    panels: list
    people: int  # scorecards in the team's view of the cycle
    at_risk_people: int
    next_after: int | None  # the scorecard id the next page starts after


def team_cards(user, cycle, department=None):
    """SELECT of (scorecard id, person id, person name) of the team's latest cards in `cycle`."""
    query = (select(Scorecard.id, User.id, User.name).join(User, User.id == Scorecard.person_id)
             .where(Scorecard.cycle_id == cycle.id, policy.team_dashboard_filter(user)))
    if department is not None:
        query = query.where(User.department_id == department)
    return latest_only(query)


def team_dashboard(user, cycle, filters, after, today, lang):
    if cycle is None:
        return TeamDashboard([], 0, 0, None)
    rows = db.session.execute(team_cards(user, cycle, filters.department)).all()
    card_ids = select(team_cards(user, cycle, filters.department).subquery().c.id)
    risky = defaultdict(list)
    item_ids = select(ScorecardItem.id).where(ScorecardItem.scorecard_id.in_(card_ids))
    for item, p in paced_items(item_ids, today):
        if p.at_risk:
            risky[item.scorecard_id].append((item, p))
    order = sorted(rows, key=lambda r: (-len(risky[r[0]]), r[2], r[0]))
    page, next_after = page_after(order, after)
    cards = load_cards([r[0] for r in page])
    names = {r[0]: r[2] for r in rows}
    panels = [people_panel(cards, risky, today, lang),
              at_risk_panel(order, risky, names, lang)]
    return TeamDashboard(panels, len(rows), sum(1 for r in rows if risky[r[0]]), next_after)


def page_after(order, after, size=PAGE_SIZE):
    """(rows of the page after the card `after`, the id the next page starts after)."""
    ids = [r[0] for r in order]
    start = ids.index(after) + 1 if after in ids else 0
    page = order[start:start + size]
    return page, (page[-1][0] if start + size < len(order) else None)


def load_cards(ids):
    """The page's cards in `ids` order with items, cycle, events, person, department and line."""
    if not ids:
        return []
    found = db.session.execute(
        select(Scorecard).where(Scorecard.id.in_(ids))
        .options(selectinload(Scorecard.items), selectinload(Scorecard.cycle), selectinload(Scorecard.events),
                 selectinload(Scorecard.person).selectinload(User.department))).scalars().all()
    load_reporting_lines(card.person for card in found)
    by_id = {card.id: card for card in found}
    return [by_id[i] for i in ids]


def people_panel(cards, risky, today, lang):
    rows, links = [], {}
    for n, card in enumerate(cards):
        where = standing(card, today)
        projection = projected(card)
        total = card.total if card.total is not None else (projection.total if projection else None)
        grade = card.grade or (projection.grade if projection else None)
        next_person = where.next_person
        rows.append({
            "person": card.person.name,
            "department": card.person.department.name if card.person.department else None,
            "stage": presentation.label(where.stage, lang),
            "next": next_person.name if next_person else (_("HR") if where.next_actor else None),
            "due": where.due.isoformat() if where.due else None,
            "overdue": _("Overdue") if where.overdue else None,
            "score": total, "grade": grade,
            "at_risk": ", ".join(i.name for i, _p in sorted(risky[card.id], key=lambda r: r[0].seq)) or None,
        })
        links[n] = url_for("dashboards.person", person_id=card.person_id, cycle=card.cycle_id)
    columns = [Column("person", _("Person")), Column("department", _("Department")),
               Column("stage", _("Stage")),
               Column("next", _("Whose move")), Column("due", _("Stage deadline")),
               Column("overdue", _("Overdue")), Column("score", _("Projected score"), "points"),
               Column("grade", _("Grade")), Column("at_risk", _("Items at risk"))]
    return Panel("people", _("My team"), columns, rows, links=links,
                 note=_("People with items at risk come first. The projected score counts the items "
                        "that have points and assumes the rest score alike."))


def at_risk_panel(order, risky, names, lang):
    """Every at-risk item of the team (the first AT_RISK_ROWS), in the people list's order."""
    currency = current_app.config["BASE_CURRENCY"]
    pairs = [(card_id, item, p) for card_id, *_rest in order for item, p in risky[card_id]]
    formulas = batch.load_formulas({i.metric_key for _c, i, _p in pairs})
    units = {key: definition.unit for key, (definition, _f, _m) in formulas.items()}
    rows = []
    for card_id, item, p in pairs[:AT_RISK_ROWS]:
        unit = units.get(item.metric_key)
        rows.append({"person": names[card_id], "item": item.name,
                     "actual": presentation.in_unit(p.actual_to_date, unit, lang, currency),
                     "expected": presentation.in_unit(p.expected_to_date, unit, lang, currency),
                     "forecast": presentation.in_unit(p.forecast, unit, lang, currency),
                     "threshold": presentation.in_unit(p.limit, unit, lang, currency)})
    columns = [Column("person", _("Person")), Column("item", _("KPI item")),
               Column("actual", _("Actual to date")),
               Column("expected", _("Expected to date")), Column("forecast", _("Forecast at period end")),
               Column("threshold", _("Threshold"))]
    note = (_("The first %(count)s of %(total)s items at risk.", count=AT_RISK_ROWS, total=len(pairs))
            if len(pairs) > AT_RISK_ROWS else "")
    return Panel("at_risk", _("Items at risk"), columns, rows, note=note)
