"""The team dashboard (docs/pace.md, docs/dashboards.md): every report's scorecard in a cycle —
projected score, items at risk (people with more at-risk items first), the stage and whose
move it is, the stage's deadline and whether it is overdue — and the team's at-risk items.

Rows are paged by keyset, PAGE_SIZE at a time, in (at-risk items desc, name, scorecard id)
order, all of it in SQL: each metric item's at-risk flag is a SQL expression
(`tracking.risk.item_risks`), counted per card and ordered in the database, so only the
page's cards (with their items, people, reporting lines and events) and the first
AT_RISK_ROWS at-risk items (paced in Python for their figures) reach Python. The number of
queries and the Python work are the same for 20 people or 2,000.
"""
from dataclasses import dataclass

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import and_, case, func, or_, select
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
    risks = item_risks(select(cards.c.id), cycle, today).subquery("risks")
    counts = (select(risks.c.scorecard_id, func.count().label("risky")).where(risks.c.at_risk)
              .group_by(risks.c.scorecard_id).subquery("counts"))
    ordered = (select(cards.c.id, cards.c.name, func.coalesce(counts.c.risky, 0).label("risky"))
               .outerjoin(counts, counts.c.scorecard_id == cards.c.id).subquery("ordered"))
    people, risky_people, risky_items = db.session.execute(
        select(func.count(), func.coalesce(func.sum(case((ordered.c.risky > 0, 1), else_=0)), 0),
               func.coalesce(func.sum(ordered.c.risky), 0))).one()
    page = db.session.execute(page_query(ordered, after).limit(PAGE_SIZE + 1)).all()
    next_after = page[PAGE_SIZE - 1].id if len(page) > PAGE_SIZE else None
    page = page[:PAGE_SIZE]
    cards_shown = load_cards([row.id for row in page])
    flagged = set(db.session.execute(select(risks.c.item_id).where(
        risks.c.at_risk, risks.c.scorecard_id.in_([row.id for row in page]))).scalars())
    first_risks = db.session.execute(
        select(risks.c.item_id, ordered.c.name).join(ordered, ordered.c.id == risks.c.scorecard_id)
        .where(risks.c.at_risk).order_by(*in_order(ordered), risks.c.item_id).limit(AT_RISK_ROWS)).all()
    panels = [people_panel(cards_shown, flagged, today, lang),
              at_risk_panel(first_risks, int(risky_items), today, lang)]
    return TeamDashboard(panels, people, int(risky_people), next_after)


def by_name(name):
    """Names in code point order, as Python sorts them (PostgreSQL's collation may not)."""
    return name.collate("C") if db.session.get_bind().dialect.name == "postgresql" else name


def in_order(ordered):
    return ordered.c.risky.desc(), by_name(ordered.c.name), ordered.c.id


def page_query(ordered, after):
    """The cards after the card `after` in (at-risk items desc, name, id) order (keyset); from
    the start when `after` is not one of them."""
    query = select(ordered.c.id).order_by(*in_order(ordered))
    mark = db.session.execute(select(ordered.c.risky, ordered.c.name).where(ordered.c.id == after)).first() \
        if after is not None else None
    if mark is None:
        return query
    risky, name = ordered.c.risky, by_name(ordered.c.name)
    return query.where(or_(risky < mark.risky,
                           and_(risky == mark.risky, or_(name > mark.name, and_(name == mark.name,
                                                                               ordered.c.id > after)))))


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
