"""The team dashboard (docs/pace.md, docs/dashboards.md): every report's scorecard in a cycle —
projected score, items at risk (people with more at-risk items first), the stage and whose
move it is, the stage's deadline and whether it is overdue — and the team's at-risk items.

Rows are paged by keyset, PAGE_SIZE at a time, in (at-risk items desc, name in code point
order, scorecard id) order. Each metric item's at-risk flag (stored where it holds today,
else the SQL rule: `tracking.risk.risky_items`) is read ONCE per request, in the one
statement that also counts each card's at-risk items, orders and numbers the cards and cuts the page
(`card_rows`): whatever the size of the team, Python receives the page's cards (PAGE_SIZE + 1)
and the few cards whose at-risk items open the at-risk list (AT_RISK_ROWS items), each with
its at-risk item ids, and the team's totals. Only the page's cards are loaded, as plain rows
(`PageCard`: the card, its person, department and manager, its items' columns the panel reads,
its last event), and only the first AT_RISK_ROWS at-risk items are paced in Python for their
figures. The number of queries is the same for 20 people or 5,000.
"""
from collections import defaultdict, namedtuple
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import and_, case, collate, false, func, or_, select, true
from sqlalchemy.orm import aliased

from kpiapp import policy, presentation
from kpiapp.appraisal.progress import projected, standing
from kpiapp.appraisal.queries import PAGE_SIZE, latest_only
from kpiapp.appraisal.workflow import ScorecardState
from kpiapp.dashboards.panels import Column, Panel
from kpiapp.extensions import db, dialect
from kpiapp.metrics import batch
from kpiapp.models import Department, Scorecard, ScorecardEvent, ScorecardItem, User
from kpiapp.tracking.paces import Seasons, pace_loaded
from kpiapp.tracking.risk import paced_rows, profiled_stores, risky_items, small_reads

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
    small_reads()
    seasons = Seasons(frozenset(profiled_stores(cycle)))  # the rule's seasonal items', then the list's
    rows = db.session.execute(card_rows(user, cycle, filters.department, after, today, seasons)).all()
    totals, shown = rows[0], shown_cards(rows)
    page = [card for card in shown if card.in_page]
    next_after = page[PAGE_SIZE - 1].id if len(page) > PAGE_SIZE else None
    page = page[:PAGE_SIZE]
    flagged = {item for card in page for item in card.risk_ids}
    listed = ((item, card.name) for card in shown if card.opens_list for item in card.risk_ids)
    first_risks = list(islice(listed, AT_RISK_ROWS))
    panels = [people_panel(load_cards([row.id for row in page], cycle), flagged, today, lang),
              at_risk_panel(first_risks, int(totals.items_at_risk or 0), cycle, seasons, today, lang)]
    return TeamDashboard(panels, totals.people, totals.people_at_risk, next_after)


@dataclass
class ShownCard:
    id: int
    name: str
    in_page: bool
    opens_list: bool
    risk_ids: list  # its at-risk item ids, ascending


def shown_cards(rows):
    """[ShownCard] in the list's order from `card_rows`' rows (one per card and at-risk item)."""
    cards = {}
    for row in rows:
        if row.id is None:
            continue
        card = cards.get(row.id) or cards.setdefault(row.id, ShownCard(row.id, row.name, row.in_page,
                                                                       row.opens_list, []))
        if row.item_id is not None:
            card.risk_ids.append(row.item_id)
    return list(cards.values())


def card_rows(user, cycle, department, after, today, seasons=None):
    """SELECT, in one statement that evaluates the at-risk rule once, the team's totals
    (people, people_at_risk, items_at_risk) on every row, LEFT JOINed to the cards Python needs,
    in the list's order: those of the page after the card `after` (`in_page`: PAGE_SIZE + 1,
    the last one only telling whether a next page exists; from the start when `after` is not
    one of the team's cards) and those whose at-risk items open the at-risk list
    (`opens_list`: their items before them are fewer than AT_RISK_ROWS), each card once per
    at-risk item (`item_id`, ascending; None without one) with its id and name.

    The order is the keyset triple (n desc, name in code point order, id). Each card's count
    is needed to order them, but not a rank of every card: the page is the first PAGE_SIZE + 1
    cards whose triple follows `after`'s, and the list's cards are among the first
    AT_RISK_ROWS cards with items at risk (each has one at least), whose running sum says which
    open it; both are top-N cuts (a bounded heap), not a sort and two window passes over every
    card of the team (5,000 at the benchmark's GM, docs/scaling.md).

    Only the items that may be at risk are read (`risky_items`: the stored flags' partial
    indexes), once (the CTE `found`): counted by card before meeting the cards' names (a hash on
    the card id, not a sort of the team's rows), and joined again to the few cards shown. (Their
    ids were a `string_agg` per card: one aggregate state per card of the team, which spilled
    the hash to disk at 4,560 cards.) `seasons`: a `paces.Seasons` of the cycle, kept for the at-risk list."""
    cards = team_cards(user, cycle, department).cte("cards")
    found = risky_items(cards, cycle, today, seasons).cte("found")
    risky = (select(found.c.scorecard_id, func.count().label("n")).group_by(found.c.scorecard_id)
             .subquery("risky"))
    counted = (select(cards.c.id, cards.c.name, func.coalesce(risky.c.n, 0).label("n"))
               .select_from(cards).outerjoin(risky, risky.c.scorecard_id == cards.c.id).cte("counted"))
    c = counted.c
    order = (c.n.desc(), code_point_order(c.name), c.id)
    totals = select(func.count().label("people"), func.count(case((c.n > 0, 1))).label("people_at_risk"),
                    func.sum(c.n).label("items_at_risk")).subquery("totals")
    page = page_cards(counted, after, order).cte("page")
    first = select(c.id, c.name, c.n).where(c.n > 0).order_by(*order).limit(AT_RISK_ROWS).subquery("first")
    f = first.c
    upto = func.sum(f.n).over(order_by=(f.n.desc(), code_point_order(f.name), f.id), rows=(None, 0))
    opening = select(f.id, (upto - f.n < AT_RISK_ROWS).label("opens_list")).subquery("opening")
    shown = (select(c.id, c.name, c.n, page.c.id.is_not(None).label("in_page"),
                    func.coalesce(opening.c.opens_list, false()).label("opens_list"))
             .outerjoin(page, page.c.id == c.id).outerjoin(opening, opening.c.id == c.id)
             .where(or_(page.c.id.is_not(None), opening.c.id.is_not(None))).subquery("shown"))
    s = shown.c
    return (select(totals, s.id, s.name, found.c.item_id, s.in_page, s.opens_list)
            .select_from(totals.outerjoin(shown, true()).outerjoin(found, found.c.scorecard_id == s.id))
            .order_by(s.n.desc(), code_point_order(s.name), s.id, found.c.item_id))


def page_cards(counted, after, order):
    """SELECT the ids of the PAGE_SIZE + 1 cards of `counted` that follow the card `after` in the
    keyset `order` (n desc, name in code point order, id); from the first card when `after` is
    None or not among them."""
    c = counted.c
    page = select(c.id).order_by(*order).limit(PAGE_SIZE + 1)
    if after is None:
        return page
    found = select(c.id, c.name, c.n).where(c.id == after).subquery("start")
    start = found.c
    follows = or_(c.n < start.n,
                  and_(c.n == start.n, or_(code_point_order(c.name) > code_point_order(start.name),
                                           and_(c.name == start.name, c.id > start.id))))
    return page.select_from(counted.outerjoin(found, true())).where(or_(start.id.is_(None), follows))


def code_point_order(name):
    """`name` compared by code point, as Python compares str, whatever the column's own
    collation: PostgreSQL's "C" and SQLite's BINARY compare UTF-8 bytes, which order as code points."""
    return collate(name, "C" if dialect() == "postgresql" else "BINARY")


@dataclass
class PageCard:
    """A card of the page as the people panel reads it, and as `progress.standing` and
    `progress.projected` read a Scorecard: plain rows (`load_cards`), not ORM objects."""
    id: int
    person_id: int
    cycle_id: int
    state: ScorecardState
    total: Decimal | None
    grade: str | None
    cycle: object  # the dashboard's Cycle
    person: "PagePerson"
    items: list  # PageItem, by seq
    events: list  # its last event only (what `progress.return_reason` reads), or none

    is_locked = Scorecard.is_locked


@dataclass
class PagePerson:
    name: str
    department: "PageName | None"
    manager: "PageName | None"


@dataclass
class PageName:
    name: str


ITEM_COLUMNS = (ScorecardItem.id, ScorecardItem.seq, ScorecardItem.name, ScorecardItem.weight,
                ScorecardItem.final_points, ScorecardItem.computed_points, ScorecardItem.data_as_of)
PageItem = namedtuple("PageItem", [column.key for column in ITEM_COLUMNS])
PageEvent = namedtuple("PageEvent", "action new_state reason")


def load_cards(ids, cycle):
    """The page's cards in `ids` order as PageCards, in three queries: the cards with their
    person, department and manager; their items (the columns the panel and the projection read);
    their last events. (Loading them as ORM scorecards with items, events, people and reporting
    lines was ~30 ms of a request's ~85 ms of CPU at 500 people, docs/scaling.md.)"""
    if not ids:
        return []
    manager = aliased(User)
    cards = db.session.execute(
        select(Scorecard.id, Scorecard.person_id, Scorecard.state, Scorecard.total, Scorecard.grade,
               User.name, Department.name.label("department"), manager.name.label("manager"))
        .join(User, User.id == Scorecard.person_id).outerjoin(Department, Department.id == User.department_id)
        .outerjoin(manager, manager.id == User.manager_id).where(Scorecard.id.in_(ids))).all()
    items = defaultdict(list)
    for card_id, *item in db.session.execute(select(ScorecardItem.scorecard_id, *ITEM_COLUMNS)
                                             .where(ScorecardItem.scorecard_id.in_(ids))
                                             .order_by(ScorecardItem.scorecard_id, ScorecardItem.seq)):
        items[card_id].append(PageItem(*item))
    event = ScorecardEvent
    last = select(func.max(event.id)).where(event.scorecard_id.in_(ids)).group_by(event.scorecard_id)
    events = {card_id: [PageEvent(*rest)] for card_id, *rest in db.session.execute(
        select(event.scorecard_id, event.action, event.new_state, event.reason).where(event.id.in_(last)))}
    by_id = {row.id: PageCard(row.id, row.person_id, cycle.id, row.state, row.total, row.grade, cycle,
                              PagePerson(row.name, named(row.department), named(row.manager)),
                              items[row.id], events.get(row.id, []))
             for row in cards}
    return [by_id[i] for i in ids]


def named(name):
    return None if name is None else PageName(name)


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


def at_risk_panel(first_risks, total, cycle, seasons, today, lang):
    """Every at-risk item of the team (the first AT_RISK_ROWS), in the people list's order;
    only those are paced in Python, for their figures: loaded as plain rows (`risk.paced_rows`),
    with the definitions read once for the pace and the units, and a year of sales read only
    for their stores `seasons` does not know yet among those that may have a profile."""
    currency = current_app.config["BASE_CURRENCY"]
    names = {item_id: name for item_id, name in first_risks}
    items = paced_rows(ScorecardItem.id.in_(list(names)), cycle) if names else []
    formulas = batch.load_formulas({item.metric_key for item in items})
    paced = {item.id: (item, p) for item, p in pace_loaded(items, today, formulas, seasons)}
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
