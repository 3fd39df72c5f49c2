"""Objectives and key results (docs/objectives.md): create and edit with field errors,
milestones, check-ins, progress (metric key results computed like KPI items), roll-up,
at-risk, linking KPI items, target decomposition, recompute after imports.

Every write is audited; the functions flush and never commit (the caller commits), except
`recompute_after_import`, which runs as a job and commits.
"""
import calendar
import re
from dataclasses import dataclass, field as dc_field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from kpiapp import audit, policy
from kpiapp.extensions import db
from kpiapp.metrics.services import get_definition
from kpiapp.models import (
    CheckIn, Confidence, ImportKind, ImportRecord, ImportStatus, KeyResult, KrKind, Milestone,
    Objective, ObjectiveLevel, ObjectiveStatus, PeriodKind, Scorecard, ScorecardItem, Store, StoreOwner, User,
)
from kpiapp.models.base import utcnow
from kpiapp.objectives import decompose as splits
from kpiapp.objectives import progress as calc
from kpiapp.tracking import services as tracking

LEVEL_ORDER = [ObjectiveLevel.company, ObjectiveLevel.department, ObjectiveLevel.team, ObjectiveLevel.person]
SCALE = tracking.SCALE
AT_RISK = (Confidence.at_risk, Confidence.off_track)
TITLE_MAX = 200
PERIOD_TEXT = re.compile(r"^\s*(\d{4})(?:-(Q[1-4]|\d{1,2}))?\s*$", re.IGNORECASE)


class ObjectiveError(Exception):
    """A refused objective or key-result write; `code` is stable, `field` names the input at
    fault (None: the whole request). `status` is the HTTP status the API answers with."""

    status = 422

    def __init__(self, code, message, field=None, status=None):
        super().__init__(message)
        self.code, self.message, self.field = code, message, field
        if status is not None:
            self.status = status


def refuse(code, message, field=None):
    raise ObjectiveError(code, message, field)


def forbid(message="You may not change this objective."):
    raise ObjectiveError("forbidden", message, None, 403)


# ---- reading and checking values -----------------------------------------------------------

def text(values, name, required=False, limit=TITLE_MAX):
    value = values.get(name)
    value = value.strip() if isinstance(value, str) else value
    if not value:
        if required:
            refuse("required", "This field is required.", name)
        return None
    if not isinstance(value, str):
        refuse("invalid", "Enter text.", name)
    if limit and len(value) > limit:
        refuse("too_long", f"At most {limit} characters.", name)
    return value


def number(values, name, required=False, positive=False):
    value = values.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            refuse("required", "This field is required.", name)
        return None
    if isinstance(value, bool):
        refuse("invalid_number", "Enter a number.", name)
    try:
        result = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        refuse("invalid_number", "Enter a number.", name)
    if not result.is_finite() or abs(result) >= Decimal(10) ** 14:
        refuse("invalid_number", "Enter a number.", name)
    if positive and result <= 0:
        refuse("not_positive", "Enter a number above zero.", name)
    return result


def choice(values, name, enum, required=False):
    value = values.get(name)
    if value in (None, ""):
        if required:
            refuse("required", "This field is required.", name)
        return None
    try:
        return enum(str(value))
    except ValueError:
        refuse("invalid_choice", "Choose one of the options.", name)


def flag(values, name, default=False):
    value = values.get(name, default)
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "on", "yes", "y")
    return bool(value)


def identifier(values, name):
    value = values.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        refuse("invalid", "Choose one of the options.", name)


def person(values, name, required=False):
    person_id = identifier(values, name)
    if person_id is None:
        if required:
            refuse("required", "This field is required.", name)
        return None
    found = db.session.get(User, person_id)
    if found is None or not found.active or found.role == "client":
        refuse("unknown_person", "Choose a person.", name)
    return found


# ---- periods ---------------------------------------------------------------------------------

def period_bounds(kind, start):
    """(start, end) of the year, quarter or month that `start` falls in."""
    if kind == PeriodKind.year:
        return date(start.year, 1, 1), date(start.year, 12, 31)
    if kind == PeriodKind.quarter:
        first = 3 * ((start.month - 1) // 3) + 1
        last = first + 2
        return date(start.year, first, 1), date(start.year, last, calendar.monthrange(start.year, last)[1])
    return date(start.year, start.month, 1), date(start.year, start.month,
                                                 calendar.monthrange(start.year, start.month)[1])


def parse_period(value):
    """'2026' (year), '2026-Q4' (quarter), '2026-11' (month) -> (kind, start, end)."""
    match = PERIOD_TEXT.match(value or "")
    if not match:
        refuse("invalid_period", "Enter a period such as 2026, 2026-Q4 or 2026-11.", "period")
    year, part = int(match.group(1)), (match.group(2) or "").upper()
    if not part:
        return (PeriodKind.year, *period_bounds(PeriodKind.year, date(year, 1, 1)))
    if part.startswith("Q"):
        return (PeriodKind.quarter, *period_bounds(PeriodKind.quarter, date(year, 3 * int(part[1]) - 2, 1)))
    if not 1 <= int(part) <= 12:
        refuse("invalid_period", "Enter a period such as 2026, 2026-Q4 or 2026-11.", "period")
    return (PeriodKind.month, *period_bounds(PeriodKind.month, date(year, int(part), 1)))


def period_label(objective):
    start = objective.period_start
    if objective.period_kind == PeriodKind.year:
        return f"{start.year}"
    if objective.period_kind == PeriodKind.quarter:
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return f"{start:%Y-%m}"


def read_period(values):
    if values.get("period"):
        return parse_period(str(values["period"]))
    kind = choice(values, "period_kind", PeriodKind, required=True)
    start = values.get("period_start")
    if isinstance(start, str):
        try:
            start = date.fromisoformat(start.strip())
        except ValueError:
            refuse("invalid_date", "Enter a date (YYYY-MM-DD).", "period_start")
    if not isinstance(start, date):
        refuse("required", "This field is required.", "period")
    return (kind, *period_bounds(kind, start))


# ---- objectives ------------------------------------------------------------------------------

def objective_values(objective):
    return {"title": objective.title, "level": str(objective.level), "owner_id": objective.owner_id,
            "parent_id": objective.parent_id, "department_id": objective.department_id,
            "period": period_label(objective), "weight": str(objective.weight), "rollup": objective.rollup,
            "shared": objective.shared, "status": str(objective.status), "description": objective.description}


def create_objective(values, actor):
    """A new objective from form or API values (title, level, owner_id, parent_id, period or
    period_kind + period_start, department_id, weight, rollup, shared, description)."""
    level = choice(values, "level", ObjectiveLevel, required=True)
    if not policy.can_create_objective(actor, level):
        forbid("You may not create objectives at this level.")
    objective = Objective(level=level, created_by_id=actor.id, status=ObjectiveStatus.active)
    objective.title = text(values, "title", required=True)
    objective.owner = person(values, "owner_id") or actor
    if not may_own(actor, objective.owner):
        refuse("owner_not_yours", "Choose yourself or someone who reports to you.", "owner_id")
    objective.period_kind, objective.period_start, objective.period_end = read_period(values)
    apply_common(objective, values, actor)
    db.session.add(objective)
    db.session.flush()
    audit.record(db.session, "objective.create", "objective", objective.id, after=objective_values(objective))
    return objective


def may_own(actor, owner):
    return policy._is_hr(actor) or owner.id == actor.id or actor.is_manager_of(owner)


def apply_common(objective, values, actor):
    """The fields create and update share: parent, department, weight, roll-up, shared, description."""
    objective.description = text(values, "description", limit=4000)
    objective.parent = read_parent(values, objective, actor)
    objective.department_id = identifier(values, "department_id") or (
        objective.owner.department_id if objective.level != ObjectiveLevel.company else None)
    objective.weight = number(values, "weight", positive=True) or Decimal(1)
    objective.rollup = flag(values, "rollup")
    objective.shared = flag(values, "shared", default=True)


def read_parent(values, objective, actor):
    parent_id = identifier(values, "parent_id")
    if parent_id is None:
        return None
    parent = db.session.get(Objective, parent_id)
    if parent is None or not policy.can_view_objective(actor, parent):
        refuse("unknown_parent", "Choose an objective you can see.", "parent_id")
    if LEVEL_ORDER.index(parent.level) > LEVEL_ORDER.index(objective.level):
        refuse("parent_level", "The parent objective must be at the same or a higher level.", "parent_id")
    if objective.period_start < parent.period_start or objective.period_end > parent.period_end:
        refuse("outside_parent_period", "The period must lie within the parent objective's period.", "period")
    if objective.id is not None and objective.id in {o.id for o in ancestors(parent)} | {parent.id}:
        refuse("parent_cycle", "An objective cannot sit below itself.", "parent_id")
    return parent


def ancestors(objective):
    chain, node, seen = [], objective.parent, {objective.id}
    while node is not None and node.id not in seen:
        chain.append(node)
        seen.add(node.id)
        node = node.parent
    return chain


def update_objective(objective, values, actor):
    """Edit title, description, parent, weight, roll-up, shared and status (not level, owner or period)."""
    if not policy.can_manage_objective(actor, objective):
        forbid()
    before = objective_values(objective)
    objective.title = text(values, "title", required=True)
    objective.status = choice(values, "status", ObjectiveStatus) or objective.status
    apply_common(objective, values, actor)
    db.session.flush()
    refresh_objective(objective)
    audit.record(db.session, "objective.update", "objective", objective.id, before=before,
                 after=objective_values(objective))
    return objective


# ---- key results -----------------------------------------------------------------------------

def kr_values(kr):
    return {"title": kr.title, "kind": str(kr.kind), "owner_id": kr.owner_id, "metric_key": kr.metric_key,
            "scope": kr.scope, "sku": kr.sku, "unit": kr.unit, "start_value": num(kr.start_value),
            "target": num(kr.target), "weight": num(kr.weight), "parent_kr_id": kr.parent_kr_id,
            "milestones": [m.title for m in kr.milestones]}


def num(value):
    return None if value is None else str(value)


def create_key_result(objective, values, actor):
    """A key result under `objective`: kind metric (metric_key, scope, sku), manual (unit) or
    milestone (milestones: titles); title, owner_id, start_value, target, weight."""
    if not policy.can_manage_objective(actor, objective):
        forbid()
    seq = 1 + max((k.seq for k in objective.key_results), default=0)
    with db.session.no_autoflush:  # nothing half-made reaches the database
        kr = KeyResult(objective=objective, seq=seq, kind=choice(values, "kind", KrKind, required=True))
        try:
            apply_kr(kr, values, actor)
        except ObjectiveError:
            objective.key_results.remove(kr)
            raise
        db.session.add(kr)
    db.session.flush()
    recompute_key_result(kr)
    audit.record(db.session, "key_result.create", "key_result", kr.id, after=kr_values(kr))
    return kr


def update_key_result(kr, values, actor):
    """Edit a key result (its kind stays); recomputes its progress."""
    if not policy.can_manage_objective(actor, kr.objective):
        forbid()
    before = kr_values(kr)
    apply_kr(kr, values, actor)
    db.session.flush()
    recompute_key_result(kr)
    audit.record(db.session, "key_result.update", "key_result", kr.id, before=before, after=kr_values(kr))
    return kr


def apply_kr(kr, values, actor):
    kr.title = text(values, "title", required=True)
    kr.owner = person(values, "owner_id") or kr.owner or kr.objective.owner
    if kr.owner.id != kr.objective.owner_id and not may_own(actor, kr.owner):
        refuse("owner_not_yours", "Choose yourself or someone who reports to you.", "owner_id")
    kr.weight = number(values, "weight", positive=True) or Decimal(1)
    if kr.kind == KrKind.milestone:
        apply_milestones(kr, values)
        kr.start_value, kr.target, kr.unit = None, None, None
        return
    kr.start_value = number(values, "start_value") or Decimal(0)
    kr.target = number(values, "target", required=True)
    if kr.target == kr.start_value:
        refuse("target_is_start", "The target must differ from the start value.", "target")
    if kr.kind == KrKind.metric:
        apply_metric(kr, values)
    else:
        kr.unit = text(values, "unit", limit=16)


def apply_metric(kr, values):
    key = text(values, "metric_key", required=True, limit=64)
    definition = get_definition(key)
    if definition is None:
        refuse("unknown_metric", "Choose a metric from the dictionary.", "metric_key")
    kr.metric_key, kr.unit = key, definition.unit
    kr.scope = read_scope(values.get("scope"))
    kr.sku = text(values, "sku", limit=64)


def read_scope(scope):
    """[{store_id, share_pct}] with known stores, shares above 0 and at most 100."""
    if not isinstance(scope, (list, tuple)) or not scope:
        refuse("no_scope", "Choose at least one store.", "scope")
    entries, seen = [], set()
    for entry in scope:
        store_id = identifier(entry if isinstance(entry, dict) else {}, "store_id")
        share = number(entry if isinstance(entry, dict) else {}, "share_pct") or Decimal(100)
        if store_id is None or db.session.get(Store, store_id) is None or store_id in seen:
            refuse("unknown_store", "Choose each store once.", "scope")
        if not 0 < share <= 100:
            refuse("bad_share", "A share is above 0 and at most 100 %.", "scope")
        seen.add(store_id)
        entries.append({"store_id": store_id, "share_pct": f"{share.quantize(Decimal('0.01'))}"})
    return entries


def apply_milestones(kr, values):
    titles = values.get("milestones")
    if titles is None:
        if not kr.milestones:
            refuse("no_milestones", "Add at least one milestone.", "milestones")
        return
    if isinstance(titles, str):
        titles = titles.splitlines()
    titles = [t.strip() for t in titles if isinstance(t, str) and t.strip()]
    if not titles:
        refuse("no_milestones", "Add at least one milestone.", "milestones")
    if any(len(t) > TITLE_MAX for t in titles):
        refuse("too_long", f"At most {TITLE_MAX} characters.", "milestones")
    done = {m.title for m in kr.milestones if m.done}
    kr.milestones = [Milestone(seq=i, title=t, done=t in done, done_at=utcnow() if t in done else None)
                     for i, t in enumerate(titles, 1)]


def set_milestone(milestone, done, actor):
    """Tick or untick a milestone: the key result's owner or whoever manages the objective."""
    kr = milestone.key_result
    if not may_check_in(actor, kr):
        forbid()
    if milestone.done == bool(done):
        return milestone
    milestone.done, milestone.done_at = bool(done), utcnow() if done else None
    db.session.flush()
    recompute_key_result(kr)
    audit.record(db.session, "milestone.update", "key_result", kr.id,
                 before={"milestone_id": milestone.id, "done": not milestone.done},
                 after={"milestone_id": milestone.id, "done": milestone.done, "progress": num(kr.progress)})
    return milestone


# ---- check-ins -------------------------------------------------------------------------------

def monday(day):
    return day - timedelta(days=day.weekday())


def may_check_in(actor, kr):
    return policy._staff(actor) and (actor.id == kr.owner_id or policy.can_manage_objective(actor, kr.objective))


def check_in(kr, values, actor):
    """A weekly update: confidence (required), a value (manual key results), a note and a
    private note. History is kept; the key result takes the value and confidence."""
    if not may_check_in(actor, kr):
        forbid("Only the key result's owner or the objective's managers check in.")
    entry = CheckIn(author_id=actor.id, week=monday(read_week(values)),
                    confidence=choice(values, "confidence", Confidence, required=True),
                    note=text(values, "note", limit=2000), private_note=text(values, "private_note", limit=2000))
    entry.value = number(values, "value", required=kr.kind == KrKind.manual)
    if kr.kind != KrKind.manual:
        entry.value = None  # metric values come from the data, milestones from the checklist
    entry.key_result = kr
    db.session.add(entry)
    kr.confidence = entry.confidence
    if entry.value is not None:
        kr.current = entry.value
    db.session.flush()
    recompute_key_result(kr)
    audit.record(db.session, "key_result.check_in", "key_result", kr.id, after={
        "check_in_id": entry.id, "week": entry.week.isoformat(), "value": num(entry.value),
        "confidence": str(entry.confidence), "progress": num(kr.progress)})
    return entry


def read_week(values):
    week = values.get("week")
    if week in (None, ""):
        return tracking.utc_today()
    if isinstance(week, date):
        return week
    try:
        return date.fromisoformat(str(week).strip())
    except ValueError:
        refuse("invalid_date", "Enter a date (YYYY-MM-DD).", "week")


def check_in_history(kr, user):
    """The key result's check-ins, newest first, with the private note only for those who may see it."""
    rows = []
    for entry in sorted(kr.check_ins, key=lambda c: (c.week, c.id), reverse=True):
        private = entry.private_note if policy.can_see_private_note(user, entry.author) else None
        rows.append({"entry": entry, "private_note": private})
    return rows


def weekly_values(kr):
    """[(week, value)] the last check-in value of each week, oldest first (the history chart)."""
    by_week = {}
    for entry in sorted(kr.check_ins, key=lambda c: (c.week, c.id)):
        if entry.value is not None:
            by_week[entry.week] = entry.value
    return sorted(by_week.items())


# ---- progress ----------------------------------------------------------------------------------

def recompute_key_result(kr, today=None):
    """Recompute a key result's current value (metric kind: from the facts, like a KPI item),
    its progress, and its objective's progress up the cascade. Returns True when it changed."""
    before = (kr.current, kr.progress, kr.data_as_of)
    if kr.kind == KrKind.metric:
        kr.current, kr.data_as_of, kr.provenance = compute_kr(kr, today or tracking.utc_today())
    if kr.kind == KrKind.milestone:
        kr.progress = calc.milestone_progress(sum(1 for m in kr.milestones if m.done), len(kr.milestones))
    else:
        kr.progress = calc.kr_progress(dec(kr.start_value), dec(kr.target), dec(kr.current))
    db.session.flush()
    refresh_objective(kr.objective)
    return before != (kr.current, kr.progress, kr.data_as_of)


def dec(value):
    return None if value is None else Decimal(value)


def kr_period(kr, today):
    return kr.objective.period_start, min(kr.objective.period_end, today)


def compute_kr(kr, today):
    """(value, data_as_of, provenance) of a metric key result: `compute_metric` over its scope
    and its objective's period up to today, exactly as tracking computes a KPI item."""
    start, end = kr_period(kr, today)
    provenance = {"source": "metric_facts", "metric_key": kr.metric_key, "period": [start.isoformat(),
                  end.isoformat()], "scope": kr.scope or [], "sku": kr.sku, "inputs": {}, "fact_count": 0,
                  "import_ids": [], "missing_rates": [], "missing_measures": [], "reason": None}
    shares = tracking.item_shares(kr.scope)
    if end < start:
        return None, None, {**provenance, "reason": "period_not_started"}
    if not shares:
        return None, None, {**provenance, "reason": "no_scope"}
    result = metric_result(kr, shares, start, end)
    if result is None:
        return None, None, {**provenance, "reason": "unknown_metric"}
    provenance.update(definition_version=result.version, formula=result.formula,
                      inputs={k: str(v.normalize()) for k, v in result.inputs.items()},
                      fact_count=result.fact_count, import_ids=list(result.import_ids),
                      missing_rates=list(result.missing_rates), missing_measures=list(result.missing_measures),
                      reason=tracking.no_value_reason(result))
    value = None if result.value is None else result.value.quantize(SCALE, rounding=ROUND_HALF_UP)
    return value, tracking.as_datetime(result.data_as_of), provenance


def metric_result(kr, shares, start, end):
    from kpiapp.metrics.services import DefinitionError, compute_metric

    try:
        return compute_metric(kr.metric_key, shares, start, end, sku=kr.sku)
    except DefinitionError:
        return None


def objective_progress(objective, _seen=None):
    """The objective's Rollup (progress, weight_covered): the weighted mean of its key results'
    progress, or with `rollup` of its active child objectives' progress."""
    seen = (_seen or set()) | {objective.id}
    if objective.rollup:
        parts = [(objective_progress(child, seen).progress, dec(child.weight))
                 for child in objective.children
                 if child.status != ObjectiveStatus.cancelled and child.id not in seen]
    else:
        parts = [(dec(kr.progress), dec(kr.weight)) for kr in objective.key_results]
    return calc.rollup(parts)


def refresh_objective(objective):
    """Store the progress of `objective` and of every ancestor that rolls up from it."""
    node, seen = objective, set()
    while node is not None and node.id not in seen:
        seen.add(node.id)
        node.progress = objective_progress(node).progress
        node = node.parent if node.parent is not None and node.parent.rollup else None
    db.session.flush()


def elapsed_share(objective, today):
    total = (objective.period_end - objective.period_start).days + 1
    gone = (min(today, objective.period_end) - objective.period_start).days + 1
    return Decimal(max(0, min(gone, total))) / Decimal(total)


def kr_at_risk(kr, today=None):
    """At risk: the latest confidence is at risk or off track, or a metric key result trails
    the share of the period gone (progress.behind_pace)."""
    if kr.confidence in AT_RISK:
        return True
    if kr.kind != KrKind.metric:
        return False
    return calc.behind_pace(dec(kr.progress), elapsed_share(kr.objective, today or tracking.utc_today()))


def objective_at_risk(objective, today=None, _seen=None):
    """At risk when one of its key results is, or (roll-up) one of its active children is."""
    seen = (_seen or set()) | {objective.id}
    if any(kr_at_risk(kr, today) for kr in objective.key_results):
        return True
    return objective.rollup and any(objective_at_risk(child, today, seen) for child in objective.children
                                    if child.status == ObjectiveStatus.active and child.id not in seen)


# ---- the alignment tree -------------------------------------------------------------------------

@dataclass
class KrNode:
    key_result: KeyResult
    at_risk: bool
    items: list  # the KPI items aligned to it that the user may see


@dataclass
class TreeNode:
    objective: Objective
    progress: Decimal | None
    weight_covered: Decimal
    at_risk: bool
    key_results: list = dc_field(default_factory=list)
    children: list = dc_field(default_factory=list)
    hidden_children: int = 0  # children the user may not see (counted, not shown)


def alignment_tree(root, user, today=None):
    """From `root` down: each objective the user may see, its progress, at-risk flag, key
    results with their aligned KPI items, and its visible children (a branch is at risk when
    any objective in it is). A constant number of queries whatever the tree's size: the
    subtree with its key results and owners, which of it the user may see, and the aligned
    items the user may see, each read at once (policy's SQL filters decide what is seen)."""
    today = today or tracking.utc_today()
    objectives = subtree(root)
    visible = set(db.session.execute(select(Objective.id).where(
        Objective.id.in_(list(objectives)), policy.visible_objectives_filter(user))).scalars())
    items = aligned_items_of([kr.id for o in objectives.values() for kr in o.key_results], user)
    return tree_node(root, visible, items, today, set())


def subtree(root):
    """{id: Objective} of `root` and every objective below it, with their key results,
    children and owners loaded (one recursive query, then one per relationship)."""
    below = select(Objective.id).where(Objective.id == root.id).cte("okr_below", recursive=True)
    below = below.union(select(Objective.id).where(Objective.parent_id == below.c.id))
    found = db.session.execute(
        select(Objective).where(Objective.id.in_(select(below.c.id)))
        .options(selectinload(Objective.key_results).joinedload(KeyResult.owner),
                 selectinload(Objective.children), joinedload(Objective.owner))).unique().scalars().all()
    return {o.id: o for o in found}


def tree_node(objective, visible, items, today, seen):
    seen.add(objective.id)
    rolled = objective_progress(objective)
    node = TreeNode(objective, rolled.progress, rolled.weight_covered, objective_at_risk(objective, today))
    node.key_results = [KrNode(kr, kr_at_risk(kr, today), items.get(kr.id, [])) for kr in objective.key_results]
    for child in objective.children:
        if child.id in seen or child.status == ObjectiveStatus.cancelled:
            continue
        if child.id not in visible:
            node.hidden_children += 1
            continue
        branch = tree_node(child, visible, items, today, seen)
        node.children.append(branch)
        node.at_risk = node.at_risk or branch.at_risk
    return node


def aligned_items(kr, user):
    return aligned_items_of([kr.id], user).get(kr.id, [])


def aligned_items_of(kr_ids, user):
    """{key result id: [the KPI items aligned to it on scorecards the user may see]}, in one query."""
    if not kr_ids:
        return {}
    query = (select(ScorecardItem).join(Scorecard, ScorecardItem.scorecard_id == Scorecard.id)
             .where(ScorecardItem.key_result_id.in_(kr_ids), policy.visible_scorecards_filter(user))
             .options(contains_eager(ScorecardItem.scorecard).joinedload(Scorecard.person))
             .order_by(ScorecardItem.id))
    found = {}
    for item in db.session.execute(query).unique().scalars():
        found.setdefault(item.key_result_id, []).append(item)
    return found


def visible_objectives(user, root_only=False, period_start=None):
    query = select(Objective).where(policy.visible_objectives_filter(user))
    if period_start is not None:
        query = query.where(Objective.period_start <= period_start, Objective.period_end >= period_start)
    query = query.order_by(Objective.period_start.desc(), Objective.level, Objective.id)
    found = db.session.execute(query).scalars().all()
    if not root_only:
        return found
    ids = {o.id for o in found}
    return [o for o in found if o.parent_id not in ids]


# ---- linking KPI items ----------------------------------------------------------------------------

def link_item(scorecard_item, kr, actor):
    """Align a KPI item to a key result (kr None: unlink). The item's person, their managers
    and HR may, when they can see the key result's objective; not on a locked scorecard."""
    card = scorecard_item.scorecard
    if not may_link(actor, card):
        forbid("You may not change this KPI item.")
    if kr is not None and not policy.can_view_objective(actor, kr.objective):
        refuse("unknown_key_result", "Choose a key result you can see.", "key_result_id")
    if card.is_locked:
        raise ObjectiveError("locked", "The scorecard is locked.", None, 409)
    before = scorecard_item.key_result_id
    scorecard_item.key_result_id = kr.id if kr is not None else None
    db.session.flush()
    audit.record(db.session, "scorecard_item.link_key_result", "scorecard_item", scorecard_item.id,
                 before={"key_result_id": before}, after={"key_result_id": scorecard_item.key_result_id})
    return scorecard_item


# ---- decomposition (目标分解) ---------------------------------------------------------------------

METHODS = ("shares", "equal", "typed")


def store_owner_shares(kr):
    """[(person, share)] the owners of the key result's stores, each weighted by their share of
    each store times the store's share in the scope (the default split "by share")."""
    weights = {}
    for store_id, scope_share in tracking.item_shares(kr.scope):
        for owner in db.session.execute(select(StoreOwner).where(StoreOwner.store_id == store_id)).scalars():
            weights[owner.person_id] = weights.get(owner.person_id, Decimal(0)) + owner.share_pct * scope_share
    people = {p.id: p for p in db.session.execute(select(User).where(User.id.in_(weights))).scalars()}
    return [(people[pid], share) for pid, share in sorted(weights.items()) if pid in people]


def decompose(kr, method, children, actor):
    """Split `kr`'s target into child key results (parent_kr_id = kr): method "shares" (each
    child's `share`), "equal" or "typed" (each child's `amount`). Each child names an
    `objective_id`, or an `owner_id` whose person objective below kr's objective is used (or
    created). Returns (Split, [child key results]); the split's difference is 0 except typed."""
    if not policy.can_manage_objective(actor, kr.objective):
        forbid()
    if kr.kind == KrKind.milestone or kr.target is None:
        refuse("not_a_number", "Only a key result with a number target can be split.", "method")
    if method not in METHODS:
        refuse("invalid_choice", "Choose one of the options.", "method")
    if not children:
        refuse("no_children", "Choose at least one child.", "children")
    split = split_target(Decimal(kr.target), method, children)
    made = [child_key_result(kr, spec, amount, actor) for spec, amount in zip(children, split.amounts)]
    audit.record(db.session, "key_result.decompose", "key_result", kr.id, after={
        "method": method, "target": num(kr.target), "children": [c.id for c in made],
        "amounts": [str(a) for a in split.amounts], "difference": str(split.difference)})
    return split, made


def split_target(total, method, children):
    try:
        if method == "equal":
            return splits.equal(total, len(children))
        if method == "shares":
            return splits.by_shares(total, [number(c, "share", required=True) for c in children])
        return splits.typed(total, [number(c, "amount", required=True) for c in children])
    except splits.DecompositionError as error:
        raise ObjectiveError(error.code, str(error), "children") from None


def child_key_result(parent, spec, amount, actor):
    objective = child_objective(parent, spec, actor)
    fraction = amount / Decimal(parent.target) if Decimal(parent.target) else Decimal(0)
    start = (dec(parent.start_value) or Decimal(0)) * fraction
    seq = 1 + max((k.seq for k in objective.key_results), default=0)
    kr = KeyResult(objective=objective, kind=parent.kind, title=text(spec, "title") or parent.title,
                   owner_id=objective.owner_id, metric_key=parent.metric_key, sku=parent.sku, unit=parent.unit,
                   scope=scaled_scope(parent.scope, fraction), target=amount, parent_kr_id=parent.id,
                   start_value=start.quantize(SCALE, rounding=ROUND_HALF_UP),
                   weight=Decimal(1), seq=seq)
    db.session.add(kr)
    db.session.flush()
    recompute_key_result(kr)
    audit.record(db.session, "key_result.create", "key_result", kr.id, after=kr_values(kr))
    return kr


def scaled_scope(scope, fraction):
    """The parent's stores, each share times the child's fraction of the target, so a child's
    metric value is its part of the parent's (a third of the target: a third of the GMV)."""
    if not scope:
        return scope
    return [{"store_id": store_id, "share_pct": f"{(share * 100 * fraction).quantize(Decimal('0.0001'))}"}
            for store_id, share in tracking.item_shares(scope)]


def child_objective(parent, spec, actor):
    objective_id = identifier(spec, "objective_id")
    if objective_id is not None:
        objective = db.session.get(Objective, objective_id)
        if objective is None or not policy.can_manage_objective(actor, objective):
            refuse("unknown_objective", "Choose an objective you manage.", "children")
        return objective
    owner = person(spec, "owner_id", required=True)
    if not may_own(actor, owner):
        refuse("owner_not_yours", "Choose yourself or someone who reports to you.", "children")
    found = next((o for o in parent.objective.children if o.owner_id == owner.id
                  and o.status == ObjectiveStatus.active), None)
    return found or create_objective({
        "title": parent.objective.title, "level": "person", "owner_id": owner.id,
        "parent_id": parent.objective.id, "period_kind": str(parent.objective.period_kind),
        "period_start": parent.objective.period_start, "shared": True}, actor)


# ---- recompute after imports (job level) -----------------------------------------------------------

def open_metric_key_results(store_ids=None, date_from=None, date_to=None):
    """Metric key results of active objectives whose period meets [date_from, date_to] and
    whose scope names one of `store_ids` (None: any)."""
    query = (select(KeyResult).join(Objective, KeyResult.objective_id == Objective.id)
             .where(KeyResult.kind == KrKind.metric, Objective.status == ObjectiveStatus.active))
    if date_from is not None:
        query = query.where(Objective.period_end >= date_from)
    if date_to is not None:
        query = query.where(Objective.period_start <= date_to)
    found = db.session.execute(query.order_by(KeyResult.id)).scalars().all()
    if store_ids is None:
        return found
    return [kr for kr in found if set(store_ids) & {s for s, _ in tracking.item_shares(kr.scope)}]


def recompute_key_results(krs, today=None):
    """Recompute these key results; one audit event for those that changed. Flushes. Returns the count changed."""
    changed = {}
    for kr in krs:
        before = num(kr.current)
        if recompute_key_result(kr, today):
            changed[kr.id] = [before, num(kr.current)]
    if changed:
        audit.record(db.session, "key_result.recompute", "key_result", after={"changed": changed})
    return len(changed)


def recompute_after_import(import_id, today=None, footprint=None):
    """After a committed import: recompute the metric key results its stores and dates meet
    (an FX import: every open metric key result); commits. Returns the count changed.
    footprint: a function giving tracking.import_footprint(import_id) (tracking.footprint_once)."""
    record = db.session.get(ImportRecord, import_id)
    if record is None or record.status != ImportStatus.committed:
        return 0
    if record.kind == ImportKind.fx:
        krs = open_metric_key_results()
    else:
        stores, low, high = footprint() if footprint else tracking.import_footprint(import_id)
        krs = open_metric_key_results(stores, low, high) if stores else []
    changed = recompute_key_results(krs, today)
    db.session.commit()
    return changed


# ---- choices the forms offer ---------------------------------------------------------------------

def owner_choices(actor):
    """The people `actor` may make owners: themself and everyone below them (HR: all staff)."""
    query = select(User).where(User.active, User.role != "client")
    if not policy._is_hr(actor):
        query = query.where(User.id.in_(policy.line_ids(actor)))
    return db.session.execute(query.order_by(User.name)).scalars().all()


def store_choices(actor):
    return db.session.execute(select(Store).where(policy.visible_stores_filter(actor), Store.active)
                              .order_by(Store.code)).scalars().all()


def decompose_candidates(kr, actor):
    """[(person, default share)] to split `kr` between: the owners of its stores (their
    shares), then the owners of its objective's children, then `actor`'s reports."""
    found = {p.id: (p, share) for p, share in store_owner_shares(kr)}
    for child in kr.objective.children:
        found.setdefault(child.owner_id, (child.owner, None))
    for person in db.session.execute(select(User).where(User.manager_id == kr.objective.owner_id,
                                                        User.active).order_by(User.name)).scalars():
        found.setdefault(person.id, (person, None))
    return [(p, share) for p, share in found.values() if may_own(actor, p)]


def linkable_items(kr, actor):
    """The metric KPI items `actor` may align to `kr`: on unlocked scorecards of running
    cycles, of the key result's owner or someone below them, that `actor` may change."""
    from kpiapp.appraisal.queries import latest_only
    from kpiapp.appraisal.workflow import ScorecardState
    from kpiapp.models import Cycle, Scorecard
    from kpiapp.models.appraisal import CycleStatus

    people = policy.line_ids(kr.owner) if kr.owner is not None else set()
    query = latest_only(select(ScorecardItem).join(Scorecard, ScorecardItem.scorecard_id == Scorecard.id)
             .join(Cycle, Scorecard.cycle_id == Cycle.id)
             .where(Scorecard.person_id.in_(people), Scorecard.state != ScorecardState.LOCKED,
                    Cycle.status == CycleStatus.running)
             .order_by(Scorecard.person_id, ScorecardItem.seq))
    items = db.session.execute(query).scalars().all()
    return [i for i in items if may_link(actor, i.scorecard) and i.key_result_id != kr.id]


def may_link(actor, card):
    return policy._is_hr(actor) or actor.id == card.person_id or actor.is_manager_of(card.person)
