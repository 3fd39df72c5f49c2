"""The team dashboard (docs/pace.md, docs/dashboards.md): every report's scorecard in a cycle —
projected score, items at risk (people with more at-risk items first), the stage and whose
move it is, the stage's deadline and whether it is overdue — and the team's at-risk items.

Rows are paged by keyset, PAGE_SIZE at a time, in (at-risk items desc, name, scorecard id)
order. Each metric item's at-risk flag is a SQL expression (`tracking.risk.item_risks`),
evaluated ONCE per request: the ids of the team's cards with their names, and the ids of
their at-risk items, reach Python (at 5,000 people: 5,000 cards, ~7,800 items), which counts,
orders (names in code point order) and pages them. Evaluating the rule in each of four
statements (counts, page, flags, at-risk list) took 2.4 s of database time at 5,000 people
(docs/scaling.md). Only the page's cards are loaded with their items, people, reporting
lines and events, and only the first AT_RISK_ROWS at-risk items are paced in Python for
their figures. The number of queries is the same for 20 people or 5,000.
"""
from collections import defaultdict
from dataclasses import dataclass
from itertools import islice

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
from kpiapp.models import Scorecard, User
from kpiapp.tracking.paces import paced_items
from kpiapp.tracking.risk import item_risks, without_jit

AT_RISK_ROWS = 50


@dataclass
class TeamDashboard:
    panels: list
    people: int  # scorecards in the team's view of the cycle
    at_risk_people: int
    next_after: int | None  # the scorecard id the next page starts after


def team_cards(user, cycle, department=None):
    """SELECT of (id, person_id, name) of the team's latest cards in `cycle`."""
    query = (select(Scorecard.id.label("id"), User.id.label("person_id"), User.name.label("name"))
             .join(User, User.id == Scorecard.person_id)
             .where(Scorecard.cycle_id == cycle.id, policy.team_dashboard_filter(user)))
    if department is not None:
        query = query.where(User.department_id == department)
    return latest_only(query)


def team_dashboard(user, cycle, filters, after, today, lang):
    if cycle is None:
        return TeamDashboard([], 0, 0, None)
    without_jit()
    cards = team_cards(user, cycle, filters.department).subquery("cards")
    names = dict(db.session.execute(select(cards.c.id, cards.c.name)).all())
    risky = at_risk_items(select(cards.c.id), cycle, today)
    ordered = sorted(names, key=lambda card: (-len(risky.get(card, ())), names[card], card))
    page, next_after = page_after(ordered, after)
    cards_shown = load_cards(page)
    flagged = {item for card in page for item in risky.get(card, ())}
    first_risks = list(islice(((item, names[card]) for card in ordered for item in risky.get(card, ())),
                              AT_RISK_ROWS))
    panels = [people_panel(cards_shown, flagged, today, lang),
              at_risk_panel(first_risks, sum(map(len, risky.values())), today, lang)]
    return TeamDashboard(panels, len(names), len(risky), next_after)


def at_risk_items(card_ids, cycle, today):
    """{scorecard id: its at-risk item ids, ascending} of the cards `card_ids` (a SELECT): the
    at-risk rule is evaluated once, over every metric item of the cards (at 5,000 people it
    took 0.3-1 s each time; counting, ordering and the at-risk list used to evaluate it four times)."""
    risks = item_risks(card_ids, cycle, today).subquery("risks")
    found = defaultdict(list)
    for item_id, card_id in db.session.execute(select(risks.c.item_id, risks.c.scorecard_id)
                                               .where(risks.c.at_risk).order_by(risks.c.item_id)):
        found[card_id].append(item_id)
    return found


def page_after(ordered, after):
    """(the PAGE_SIZE card ids after the card `after` in `ordered`, the next page's `after`, or
    None): keyset; from the start when `after` is not one of them."""
    rest = ordered[ordered.index(after) + 1:] if after in ordered else ordered
    return rest[:PAGE_SIZE], (rest[PAGE_SIZE - 1] if len(rest) > PAGE_SIZE else None)


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


def people_panel(cards, flagged, today, lang):
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
            "at_risk": ", ".join(i.name for i in sorted(card.items, key=lambda i: i.seq) if i.id in flagged) or None,
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


def at_risk_panel(first_risks, total, today, lang):
    """Every at-risk item of the team (the first AT_RISK_ROWS), in the people list's order;
    only those are paced in Python, for their figures."""
    currency = current_app.config["BASE_CURRENCY"]
    names = {item_id: name for item_id, name in first_risks}
    paced = {item.id: (item, p) for item, p in paced_items(list(names), today)}
    formulas = batch.load_formulas({item.metric_key for item, _p in paced.values()})
    units = {key: definition.unit for key, (definition, _f, _m) in formulas.items()}
    rows = []
    for item_id in names:
        item, p = paced[item_id]
        unit = units.get(item.metric_key)
        rows.append({"person": names[item_id], "item": item.name,
                     "actual": presentation.in_unit(p.actual_to_date, unit, lang, currency),
                     "expected": presentation.in_unit(p.expected_to_date, unit, lang, currency),
                     "forecast": presentation.in_unit(p.forecast, unit, lang, currency),
                     "threshold": presentation.in_unit(p.limit, unit, lang, currency)})
    columns = [Column("person", _("Person")), Column("item", _("KPI item")),
               Column("actual", _("Actual to date")),
               Column("expected", _("Expected to date")), Column("forecast", _("Forecast at period end")),
               Column("threshold", _("Threshold"))]
    note = (_("The first %(count)s of %(total)s items at risk.", count=AT_RISK_ROWS, total=total)
            if total > AT_RISK_ROWS else "")
    return Panel("at_risk", _("Items at risk"), columns, rows, note=note)
