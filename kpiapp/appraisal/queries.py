"""Read-only queries for the appraisal screens (the services module owns every write)."""

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, Decimal

from sqlalchemy import Numeric, String, and_, case, exists, func, literal, null, select, tuple_, type_coerce
from sqlalchemy.orm import aliased, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from kpiapp.appraisal.appeal_flow import AppealState, AppealStep
from kpiapp.appraisal.workflow import STAGE_OF, Stage
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from kpiapp.i18n import N_, LabelledEnum
from kpiapp.models import (
    Acknowledgement, Appeal, AuditEvent, ChangeRequest, Cycle, Department, Scorecard, ScorecardItem,
    ScorecardItemVersion, ScorecardTotal, User,
)
from kpiapp.models.appraisal import ChangeStatus, CycleStatus, ItemKind
from kpiapp.policy import team_scorecards_filter, visible_scorecards_filter

STATE_ORDER = list(S)
# long lists page by keyset: PAGE_SIZE cards a page, continued after the last card's id
PAGE_SIZE = 50
# list pages show each card's person, department and cycle: load them in 3 queries, not 3 per row
WITH_PERSON_AND_CYCLE = (selectinload(Scorecard.person).selectinload(User.department),
                         selectinload(Scorecard.cycle))


@dataclass(frozen=True, slots=True)
class ItemPoints:
    """What a card's totals read of one item (services.current_result, services.self_total),
    as a plain row: a page that totals 50 cards reads 400 of these, not 400 ORM items."""

    id: int
    name: str
    kind: str
    weight: Decimal
    final_points: Decimal | None
    computed_points: Decimal | None
    self_score: Decimal | None
    rule: dict | None  # None on data items (item_points)
    target: Decimal | None
    threshold: Decimal | None
    stretch: Decimal | None

    @property
    def is_manual(self):
        return self.kind == ItemKind.manual


def item_points(card_ids):
    """{scorecard id: [ItemPoints] in item order} of `card_ids` (one query; a card with no
    item has none). The rule and its limits are read for manual items only: the totals score
    only their self scores (a data item's points are stored), and parsing 400 rules' JSON and
    limits was two thirds of this query's CPU."""
    item = ScorecardItem
    manual = item.kind == ItemKind.manual

    def if_manual(column):
        return type_coerce(case((manual, column), else_=null()), column.type)

    rows = db.session.execute(
        select(item.scorecard_id, item.id, item.name, item.kind, item.weight, item.final_points,
               item.computed_points, item.self_score, if_manual(item.rule), if_manual(item.target),
               if_manual(item.threshold), if_manual(item.stretch))
        .where(item.scorecard_id.in_(card_ids))
        .order_by(item.scorecard_id, item.seq, item.id)
    ) if card_ids else ()
    found = {card_id: [] for card_id in card_ids}
    for card_id, *columns in rows:
        found[card_id].append(ItemPoints(*columns))
    return found


def latest_only(query):
    """Narrow a Scorecard query to the newest version per (cycle, person)."""
    newer = aliased(Scorecard)
    return query.where(
        ~exists().where(
            and_(
                newer.cycle_id == Scorecard.cycle_id,
                newer.person_id == Scorecard.person_id,
                newer.version > Scorecard.version,
            )
        )
    )


def my_scorecards(user):
    query = (
        select(Scorecard)
        .join(Cycle, Cycle.id == Scorecard.cycle_id)
        .where(Scorecard.person_id == user.id)
        .order_by(Cycle.period_start.desc(), Scorecard.version.desc())
        .options(*WITH_PERSON_AND_CYCLE)
    )
    return db.session.execute(query).scalars().all()


def _team_cards(user, *columns):
    return latest_only(
        select(*columns)
        .select_from(Scorecard)
        .join(User, User.id == Scorecard.person_id)
        .where(team_scorecards_filter(user))
    )


def team_page(user, after=None, size=None):
    """One page of everyone below `user`'s latest scorecards in (state, person name, id) order,
    grouped by state; the number of cards per state over the whole team (one grouped query);
    the id to continue after."""
    size = size or PAGE_SIZE
    key = (case({s: i for i, s in enumerate(STATE_ORDER)}, value=Scorecard.state), User.name, Scorecard.id)
    query = _team_cards(user, Scorecard).order_by(*key).limit(size + 1).options(*WITH_PERSON_AND_CYCLE)
    mark = after and db.session.execute(_team_cards(user, *key).where(Scorecard.id == after)).first()
    if mark:
        query = query.where(tuple_(*key) > tuple_(*mark))
    cards = db.session.execute(query).scalars().all()
    totals = dict(db.session.execute(_team_cards(user, Scorecard.state, func.count(Scorecard.id))
                                     .group_by(Scorecard.state)).all())
    load_reporting_lines(card.person for card in cards[:size])
    return (group_by_state(cards[:size]), {S(state): n for state, n in totals.items()},
            cards[size - 1].id if len(cards) > size else None)


def load_reporting_lines(people):
    """Load every manager above `people` in one recursive query and link them in.

    The permission check walks each person's line upwards (User.is_manager_of); with each
    `manager` already set those steps cost no query, whatever the number of managers."""
    people = list(people)
    ids = {person.manager_id for person in people if person.manager_id is not None}
    if not ids:
        return
    line = select(User.id, User.manager_id).where(User.id.in_(ids)).cte("line", recursive=True)
    line = line.union(select(User.id, User.manager_id).where(User.id == line.c.manager_id))
    found = db.session.execute(select(User).where(User.id.in_(select(line.c.id)))).scalars()
    managers = {u.id: u for u in found}
    for person in people + list(managers.values()):
        if person.manager_id in managers:
            set_committed_value(person, "manager", managers[person.manager_id])


def group_by_state(cards):
    groups = {}
    for card in cards:
        groups.setdefault(S(card.state), []).append(card)
    return {state: groups[state] for state in STATE_ORDER if state in groups}


def versions_of(card):
    query = select(Scorecard).where(
        Scorecard.cycle_id == card.cycle_id, Scorecard.person_id == card.person_id
    )
    return db.session.execute(query.order_by(Scorecard.version)).scalars().all()


def change_requests(card):
    query = (
        select(ChangeRequest).where(ChangeRequest.scorecard_id == card.id).order_by(ChangeRequest.id.desc())
    )
    return db.session.execute(query).scalars().all()


def pending_change(card):
    return next((c for c in change_requests(card) if c.status == ChangeStatus.pending), None)


def item_versions(card):
    query = select(ScorecardItemVersion).where(ScorecardItemVersion.scorecard_id == card.id)
    return (
        db.session.execute(query.order_by(ScorecardItemVersion.item_id, ScorecardItemVersion.revision))
        .scalars()
        .all()
    )


def acknowledgement(card):
    query = select(Acknowledgement).where(Acknowledgement.scorecard_id == card.id)
    return db.session.execute(query).scalars().first()


def visible_scorecards(user, cycle_id=None, latest=True):
    query = (select(Scorecard).where(visible_scorecards_filter(user)).order_by(Scorecard.id)
             .options(*WITH_PERSON_AND_CYCLE))
    if cycle_id is not None:
        query = query.where(Scorecard.cycle_id == cycle_id)
    return db.session.execute(latest_only(query) if latest else query).scalars().all()


def cycle_scorecards(cycle_id, with_items=False):
    """Latest scorecards of a cycle with their people (HR views); `with_items` loads their
    items too (in one more query) for screens that score every card."""
    query = latest_only(
        select(Scorecard)
        .join(User, User.id == Scorecard.person_id)
        .where(Scorecard.cycle_id == cycle_id)
        .order_by(User.name)
        .options(*WITH_PERSON_AND_CYCLE)
    )
    if with_items:
        query = query.options(selectinload(Scorecard.items))
    return db.session.execute(query).scalars().all()


def cycle_order():
    """The order of a cycle's long lists: department name, person name, scorecard id."""
    return func.coalesce(Department.name, ""), User.name, Scorecard.id


def cycle_cards_select(cycle_id, *columns):
    """`columns` of the latest scorecards of a cycle, joined with their person and department."""
    return latest_only(
        select(*columns)
        .select_from(Scorecard)
        .join(User, User.id == Scorecard.person_id)
        .outerjoin(Department, Department.id == User.department_id)
        .where(Scorecard.cycle_id == cycle_id)
    )


def cycle_page(cycle_id, after=None, states=None, size=None):
    """One page of a cycle's latest scorecards in cycle_order(), starting after the card
    `after`, and the id to continue after (None on the last page)."""
    size = size or PAGE_SIZE
    key = cycle_order()
    query = (cycle_cards_select(cycle_id, Scorecard).order_by(*key).limit(size + 1)
             .options(*WITH_PERSON_AND_CYCLE))
    if states is not None:
        query = query.where(Scorecard.state.in_(states))
    mark = after and db.session.execute(
        cycle_cards_select(cycle_id, *key).where(Scorecard.id == after)).first()
    if mark:
        query = query.where(tuple_(*key) > tuple_(*mark))
    cards = db.session.execute(query).scalars().all()
    return cards[:size], (cards[size - 1].id if len(cards) > size else None)


def cycle_first_per_state(cycle_id, states, size=None):
    """The first `size` latest scorecards of each of `states`, all in cycle_order() (one query),
    with their person and cycle (cycle health names them; their departments are not loaded)."""
    size = size or PAGE_SIZE
    rank = func.row_number().over(partition_by=Scorecard.state, order_by=cycle_order()).label("rank")
    firsts = (cycle_cards_select(cycle_id, Scorecard.id.label("id"), rank)
              .where(Scorecard.state.in_(states)).subquery())
    query = (
        select(Scorecard)
        .join(firsts, firsts.c.id == Scorecard.id)
        .join(User, User.id == Scorecard.person_id)
        .outerjoin(Department, Department.id == User.department_id)
        .where(firsts.c.rank <= size)
        .order_by(*cycle_order())
        .options(selectinload(Scorecard.person), selectinload(Scorecard.cycle))
    )
    return db.session.execute(query).scalars().all()


def cycle_state_totals(cycle_id):
    """{state: latest scorecards} of a whole cycle: one grouped query over the cycle's cards
    alone (no person or department joined)."""
    query = latest_only(select(Scorecard.state, func.count(Scorecard.id))
                        .where(Scorecard.cycle_id == cycle_id).group_by(Scorecard.state))
    return {S(state): n for state, n in db.session.execute(query)}


def cycle_state_counts(cycle_id):
    """[(department name or None, state, latest scorecards)] of a cycle, by department name."""
    name = Department.name
    return db.session.execute(
        cycle_cards_select(cycle_id, name, Scorecard.state, func.count(Scorecard.id))
        .group_by(name, Scorecard.state)
        .order_by(name)
    ).all()


def cycle_point_sums(cycle_id):
    """One row per latest scorecard of a cycle in id order, items summed in SQL (no item is
    loaded): department id and name, state, locked grade, calibrated grade, sum of points x
    weight, items with points, items, sum of weights. (The pages grade in SQL instead, from the
    sums stored in scorecard_total: cycle_grade_counts; this row, summed from the items
    themselves, is what services.grade_from_sums grades, the reference their tests compare with.)

    Points x weight has four places: it is read back at four, as SQLite's float sum would
    otherwise be read at the two of the weight's type (x.xx49 → x.xx5 → a cent too high)."""
    sums = _card_sums(cycle_id, per_card=item_sums(cycle_id))
    return db.session.execute(
        select(sums.c.department_id, Department.name, sums.c.state, sums.c.grade, sums.c.calibrated_grade,
               type_coerce(sums.c.weighted, Numeric(15, 4)), func.coalesce(sums.c.scored, 0),
               func.coalesce(sums.c.item_count, 0), type_coerce(sums.c.weights, Numeric(15, 2)))
        .outerjoin(Department, Department.id == sums.c.department_id)
        .order_by(sums.c.id)
    ).all()


def cycle_card_grades(cycle_id, bands):
    """[(scorecard id, grade)] of a cycle's latest scorecards, graded in SQL by card_grade()
    (grade None: not gradable yet)."""
    sums = _card_sums(cycle_id)
    return db.session.execute(select(sums.c.id, card_grade(sums, bands)).order_by(sums.c.id)).all()


def cycle_grade_counts(cycle_id, bands, department_id=None):
    """[(department id, department name, grade, latest scorecards)] of a cycle, graded in SQL by
    card_grade(): one row per team and grade (cards with no grade left out), whatever the
    number of people; `department_id` keeps one department."""
    sums = _card_sums(cycle_id, department_id)
    graded = select(sums.c.department_id, card_grade(sums, bands).label("grade")).subquery()
    return db.session.execute(
        select(graded.c.department_id, Department.name, graded.c.grade, func.count())
        .outerjoin(Department, Department.id == graded.c.department_id)
        .where(graded.c.grade.is_not(None))
        .group_by(graded.c.department_id, Department.name, graded.c.grade)
    ).all()


def stored_sums():
    """Every card's item sums as the triggers keep them (scorecard_total: one row per card,
    no item read), in the columns of item_sums()."""
    total = ScorecardTotal
    return select(total.scorecard_id, total.weighted.label("weighted"), total.scored.label("scored"),
                  total.item_count.label("item_count"), total.weights.label("weights")).subquery()


def item_sums(cycle_id):
    """The cycle's cards' item sums computed from the items (one hash aggregate over every item
    of the cycle): the reference stored_sums() must equal. On SQLite, where NUMERIC is a float,
    the sums are rounded back to their exact places (points and weights have two, so points x
    weight has four) before any comparison, as the triggers round what they store."""
    item = ScorecardItem
    weighted, weights = func.sum(item.final_points * item.weight), func.sum(item.weight)
    if db.session.get_bind().dialect.name == "sqlite":
        weighted, weights = func.round(weighted, 4), func.round(weights, 2)
    return (
        select(item.scorecard_id, weighted.label("weighted"), func.count(item.final_points).label("scored"),
               func.count(item.id).label("item_count"), weights.label("weights"))
        .join(Scorecard, Scorecard.id == item.scorecard_id)
        .where(Scorecard.cycle_id == cycle_id)
        .group_by(item.scorecard_id)
        .subquery()
    )


def _card_sums(cycle_id, department_id=None, per_card=None):
    """The latest scorecards of a cycle with their items' sums (`per_card`: stored_sums() unless
    given), as a subquery. A card with no sums row has no item: its sums are NULL."""
    per_card = stored_sums() if per_card is None else per_card
    query = latest_only(
        select(Scorecard.id, User.department_id, Scorecard.state, Scorecard.grade, Scorecard.calibrated_grade,
               per_card.c.weighted, per_card.c.scored, per_card.c.item_count, per_card.c.weights)
        .join(User, User.id == Scorecard.person_id)
        .outerjoin(per_card, per_card.c.scorecard_id == Scorecard.id)
        .where(Scorecard.cycle_id == cycle_id)
    )
    if department_id is not None:
        query = query.where(User.department_id == department_id)
    return query.subquery()


def card_grade(sums, bands):
    """services.grade_from_sums as one SQL CASE over a _card_sums() row: the stored grade once
    locked; none while the weights do not total 100; the calibrated grade (or none) while an
    item has no points; else the calibrated grade or the band the rounded total reaches.

    The total is quantize_points(w / 100), ROUND_HALF_UP (away from zero), and it reaches a
    band of min_score m when it is >= c, m rounded up to cents: that is w >= 100c - 0.5 for
    w >= 0 and w > 100c - 0.5 for w < 0, so w >= t when the threshold t = 100c - 0.5 is >= 0
    and w > t when it is negative. The bands are tried by min_score descending; a stable sort
    keeps tied bands in table order, so the first of them wins, as in scoring.grade_for."""
    reaches = []
    for band in sorted(bands, key=lambda b: b.min_score, reverse=True):
        cents = band.min_score.quantize(Decimal("0.01"), rounding=ROUND_CEILING)
        threshold = literal(cents * 100 - Decimal("0.5"), Numeric(14, 4))
        above = sums.c.weighted >= threshold if threshold.value >= 0 else sums.c.weighted > threshold
        reaches.append((above, literal(band.grade, String)))
    calibrated = sums.c.calibrated_grade
    by_total = case(*reaches, else_=null()) if reaches else null()
    return case(
        (sums.c.state == S.LOCKED, sums.c.grade),
        (func.coalesce(sums.c.weights, 0) != 100, null()),
        (sums.c.scored < sums.c.item_count, calibrated),
        (calibrated != "", calibrated),
        else_=by_total,
    )


def people_by_id(ids):
    if not ids:
        return {}
    return {u.id: u for u in db.session.execute(select(User).where(User.id.in_(ids))).scalars()}


# ---- the scorecard's history: workflow steps, calibration, acknowledgement, appeal ----------

class HistoryStep(LabelledEnum):
    """History lines that are not workflow transitions."""

    CALIBRATED = "calibrated", N_("Grade calibrated")
    ACKNOWLEDGED = "acknowledged", N_("Result acknowledged")
    OBJECTED = "objected", N_("Acknowledged with an objection")


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    actor: User | None
    step: object  # a workflow Action, an AppealStep or a HistoryStep (all have labels)
    states: tuple | None = None  # (old, new) for a workflow transition
    text: str | None = None


def history(card):
    """Every step on this scorecard version, newest first (four queries whatever its length)."""
    entries = [HistoryEntry(e.at, e.actor, e.action, (e.old_state, e.new_state), e.reason)
               for e in card.events]
    entries += calibration_entries(card)
    ack, appeal = acknowledgement(card), appeal_of(card)
    if ack is not None:
        step = HistoryStep.OBJECTED if ack.objection else HistoryStep.ACKNOWLEDGED
        entries.append(HistoryEntry(ack.created_at, card.person, step, text=ack.comment))
    if appeal is not None:
        entries += appeal_entries(appeal)
    # same instant (one transaction): the later-listed entry counts as newer
    order = sorted(range(len(entries)), key=lambda i: (entries[i].at, i), reverse=True)
    return [entries[i] for i in order]


def calibration_entries(card):
    """Each grade HR set in calibration, from the audit log (the card keeps only the last one)."""
    rows = db.session.execute(select(AuditEvent).where(
        AuditEvent.entity == "scorecard", AuditEvent.entity_id == str(card.id),
        AuditEvent.action == "scorecard.calibrate").order_by(AuditEvent.seq)).scalars().all()
    actors = people_by_id({r.actor_id for r in rows if r.actor_id})
    entries = []
    for row in rows:
        after = json.loads(row.after_json or "{}")
        text = f"{after.get('calibrated_grade', '')}: {after.get('reason', '')}"
        entries.append(HistoryEntry(row.ts_utc, actors.get(row.actor_id), HistoryStep.CALIBRATED, text=text))
    return entries


def appeal_entries(appeal):
    entries = [HistoryEntry(appeal.created_at, appeal.raised_by, AppealStep.RAISE, text=appeal.reason)]
    if appeal.replied_at is not None:
        answer = HistoryEntry(appeal.replied_at, appeal.replied_by, AppealStep.ANSWER, text=appeal.reply)
        entries.append(answer)
    if appeal.closed_at is not None:
        step = AppealStep.REOPEN if appeal.status == AppealState.REOPENED else AppealStep.CLOSE
        entries.append(HistoryEntry(appeal.closed_at, appeal.closed_by, step, text=appeal.close_note))
    return entries


def appeal_of(card):
    return db.session.scalars(select(Appeal).where(Appeal.scorecard_id == card.id)).first()


def stage_counts(where):
    """[(cycle, {Stage: n})] over the latest scorecards matching `where` in running cycles,
    newest cycle first: two queries whatever the number of people."""
    query = latest_only(
        select(Scorecard.cycle_id, Scorecard.state, func.count())
        .join(Cycle, Cycle.id == Scorecard.cycle_id)
        .where(where, Cycle.status == CycleStatus.running)
        .group_by(Scorecard.cycle_id, Scorecard.state)
    )
    counts = {}
    for cycle_id, state, n in db.session.execute(query):
        stages = counts.setdefault(cycle_id, dict.fromkeys(Stage, 0))
        stages[STAGE_OF[S(state)]] += n
    if not counts:
        return []
    cycles = db.session.execute(select(Cycle).where(Cycle.id.in_(counts))
                                .order_by(Cycle.period_start.desc(), Cycle.id)).scalars()
    return [(cycle, counts[cycle.id]) for cycle in cycles]
