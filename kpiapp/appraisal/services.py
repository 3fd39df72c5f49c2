"""Appraisal services: every write to templates, cycles and scorecards goes through here.

Conventions (docs/appraisal.md):
* actors are `User` objects and are passed in; nothing here reads `current_user`;
* services flush but never commit: the caller commits once;
* refusals raise an `AppraisalError` subclass with a stable `code` and an HTTP-ish
  `status` (ValidationError 422, ForbiddenError 403, NotFoundError 404,
  FrozenError 409, ConflictError 409); after a ConflictError the session has been
  rolled back;
* a locked scorecard is frozen: every write refuses with FrozenError, and the DB
  triggers of migration 0002 refuse what slips past.
"""
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation

from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from kpiapp import audit, audit_anchor, policy
from kpiapp.appraisal import appeal_flow, draft_rows, notifications, scoring
from kpiapp.appraisal.appeal_flow import AppealFacts, AppealStep
from kpiapp.appraisal.appeal_flow import AppealState as AS
from kpiapp.appraisal.dispute_flow import ACTIVE_STATES as ACTIVE_DISPUTE
from kpiapp.appraisal.scoring import GradeBand, ScoringError, ScoringRule
from kpiapp.appraisal.workflow import Action, Edit, Facts, TransitionError
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.appraisal.workflow import check as workflow_check
from kpiapp.appraisal.workflow import check_edit as workflow_check_edit
from kpiapp.appraisal.workflow import permitted as workflow_permitted
from kpiapp.appraisal.notifications import inbox, mark_read  # noqa: F401  (part of the service API)
from kpiapp.appraisal.queries import appeal_of  # noqa: F401  (part of the service API)
from kpiapp.bonus import arithmetic
from kpiapp.extensions import db
from kpiapp.metrics.catalog import BUILTIN_METRICS_BY_KEY
from kpiapp.models import (
    Acknowledgement, Appeal, ChangeRequest, Cycle, CycleParticipant, CycleTemplate, Department, Dispute,
    KpiTemplate, KpiTemplateItem, Role, Scorecard, ScorecardEvent, ScorecardItem, ScorecardItemVersion,
    StoreOwner, User,
)
from kpiapp.models.appraisal import ChangeStatus, CycleKind, CycleStatus, ItemKind, ItemTag, ParticipantKind
from kpiapp.models.base import utcnow
from kpiapp.objectives import attainment
from kpiapp.org import queries as org_queries
from kpiapp.reminders import rules as reminder_rules

# bump when scoring.py changes how points are computed; frozen into every locked snapshot
SCORING_VERSION = "scoring-1"
RULE_LIMITS = ("target", "threshold", "stretch")
INCOMPLETE_RULE_CODES = {"linear_incomplete", "pass_fail_incomplete"}
DEFAULT_GRADE_TABLE = [
    {"grade": "S", "min_score": "95", "max_share": "0.1", "coefficient": "1.5"},
    {"grade": "A", "min_score": "85", "max_share": "0.3", "coefficient": "1.2"},
    {"grade": "B", "min_score": "70", "max_share": None, "coefficient": "1.0"},
    {"grade": "C", "min_score": "60", "max_share": None, "coefficient": "0.6"},
    {"grade": "D", "min_score": "0", "max_share": None, "coefficient": "0"},
]


# ---- errors -----------------------------------------------------------------------------

class AppraisalError(Exception):
    """A refused service call; `code` is stable for the UI and tests. `field` (and `item_id` for
    a scorecard item's field) name the input the refusal is about, when there is one."""

    status = 400

    def __init__(self, code, message, *, field=None, item_id=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.item_id = item_id


class ValidationError(AppraisalError):
    status = 422


class ForbiddenError(AppraisalError):
    status = 403


class NotFoundError(AppraisalError):
    status = 404


class FrozenError(AppraisalError):
    status = 409

    def __init__(self, scorecard):
        super().__init__("locked", f"Scorecard {scorecard.id} is locked; only an admin reopen can change it.")
        self.scorecard_id = scorecard.id


class ConflictError(AppraisalError):
    """Someone else changed the scorecard since it was read; carries who and when."""

    status = 409

    def __init__(self, scorecard_id, changed_by=None, changed_at=None):
        who = changed_by.name if changed_by is not None else "someone else"
        super().__init__("conflict", f"Scorecard {scorecard_id} was changed by {who} in the meantime; "
                                     "reload it.")
        self.scorecard_id = scorecard_id
        self.changed_by = changed_by
        self.changed_at = changed_at


def _transition_error(error):
    cls = ForbiddenError if error.code in ("forbidden", "own_scorecard", "own_request") else ValidationError
    return cls(error.code, error.message)


# ---- small helpers ----------------------------------------------------------------------

@contextmanager
def acting(user):
    """Attribute the ORM audit events written inside the block to `user` (outside requests)."""
    token = audit.set_actor(audit.actor_for(user)) if user is not None else None
    try:
        yield
    finally:
        if token is not None:
            audit.reset_actor(token)


def _record(action, scorecard_id, actor, before=None, after=None):
    audit.record(db.session, action, "scorecard", scorecard_id, before=before, after=after,
                 actor=audit.actor_for(actor) if actor is not None else None)


def to_decimal(value, name="value"):
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str, Decimal, float)):
        raise ValidationError("invalid_value", f"{name} must be a number.")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError("invalid_value", f"{name} is not a number: {value!r}.") from None
    if not number.is_finite():
        raise ValidationError("invalid_value", f"{name} must be finite.")
    return number


def _require_text(text, code="reason_required", what="A reason", field="reason"):
    if not (text and str(text).strip()):
        raise ValidationError(code, f"{what} is required.", field=field)
    return str(text).strip()


def _get(model, obj_id):
    obj = db.session.get(model, obj_id)
    if obj is None:
        raise NotFoundError("not_found", f"{model.__name__} {obj_id} not found.")
    return obj


def _require_hr(actor):
    if not policy.can_manage_appraisal(actor):
        raise ForbiddenError("forbidden", "Only HR and admins manage templates and cycles.")


# ---- scoring rules on items -------------------------------------------------------------

def item_rule(item):
    """The item's ScoringRule: the stored rule with the item's target/threshold/stretch."""
    data = dict(item.rule or {})
    data.update({name: getattr(item, name) for name in RULE_LIMITS})
    return ScoringRule.from_dict(data)


def _rule_problem(item):
    """None when the item's rule is complete and valid, else the ScoringError."""
    try:
        item_rule(item).validate()
    except ScoringError as error:
        return error
    return None


def refresh_points(item):
    """Recompute computed and final points of one item from its actual and reviews."""
    if item.is_manual:
        item.computed_points = item.explanation = None
        score = _manual_score(item, item.manager_score) if item.manager_score is not None else None
        item.final_points = score.points if score else None
        return
    item.computed_points, item.explanation, item.final_points = metric_points(item, item.actual)


def metric_points(item, actual):
    """(computed points, explanation, final points) of a metric item with this actual."""
    score = None if _rule_problem(item) else scoring.score_item(item_rule(item), _dec(actual))
    computed = score.points if score else None
    final = _dec(item.manager_score) if item.manager_score is not None else computed
    return computed, score.explanation.to_dict() if score else None, final


def _dec(value):
    return None if value is None else Decimal(value)


def _manual_score(item, value, field=None):
    try:
        return scoring.score_item(item_rule(item), None, Decimal(value))
    except ScoringError as error:
        raise ValidationError(error.code, f"{item.name}: {error.message}",
                              field=field, item_id=item.id) from None


# ---- templates --------------------------------------------------------------------------

def _template_item(spec, seq):
    """Validate one item spec (a dict) and build a KpiTemplateItem."""
    kind = _enum(ItemKind, spec.get("kind", "metric"), "kind")
    if kind == ItemKind.okr:
        raise ValidationError("invalid_value", "The OKR attainment item comes from the cycle's OKR weight, "
                                               "not from a template.", field="kind")
    metric = BUILTIN_METRICS_BY_KEY.get(spec.get("metric_key")) if kind == ItemKind.metric else None
    if kind == ItemKind.metric and metric is None:
        raise ValidationError("invalid_value", f"Unknown metric {spec.get('metric_key')!r}.")
    rule_data = dict(spec.get("rule") or {})
    if metric is not None:
        rule_data.setdefault("direction", str(metric.direction))
    # target/threshold/stretch live in columns: a spec may give them at top level or in the rule
    limits = {n: to_decimal(spec[n] if n in spec else rule_data.get(n), n) for n in RULE_LIMITS}
    rule_data = {k: v for k, v in rule_data.items() if k not in RULE_LIMITS}
    rule = _parse_rule(rule_data, limits, manual=kind == ItemKind.manual)
    return KpiTemplateItem(
        seq=seq, name=_require_text(spec.get("name"), "invalid_value", "An item name", "name"), kind=kind,
        metric_key=metric.key if metric else None, description=spec.get("description"),
        tag=_enum(ItemTag, spec.get("tag", "result"), "tag"), weight=to_decimal(spec.get("weight"), "weight"),
        rule={k: v for k, v in rule.to_dict().items() if k not in RULE_LIMITS}, **limits)


def _parse_rule(rule_data, limits, manual):
    try:
        rule = ScoringRule.from_dict({**rule_data, **limits})
        if manual != (rule.kind == scoring.RuleKind.MANUAL):
            raise ScoringError("invalid_rule", "Manual items use a manual rule; metric items do not.")
        rule.validate()
    except ScoringError as error:
        if error.code not in INCOMPLETE_RULE_CODES:  # targets may be left for each person
            raise ValidationError(error.code, error.message) from None
    return rule


def _enum(enum_cls, value, name):
    try:
        return enum_cls(value)
    except ValueError:
        raise ValidationError("invalid_value", f"Unknown {name} {value!r}.") from None


def _template_items(specs):
    items = [_template_item(spec, seq) for seq, spec in enumerate(specs, 1)]
    try:
        scoring.validate_weights([i.weight or Decimal(0) for i in items])
    except ScoringError as error:
        raise ValidationError(error.code, error.message) from None
    return items


def create_template(actor, *, code, name, items, position_id=None, description=None):
    """Create version 1 of a KPI template from item specs (dicts); HR/admin only."""
    _require_hr(actor)
    if db.session.scalar(select(func.count()).where(KpiTemplate.code == code)):
        raise ValidationError("duplicate_code", f"A template with code {code!r} exists.")
    template = KpiTemplate(code=code, version=1, name=name, description=description, is_current=True,
                           items=_template_items(items))
    db.session.add(template)
    if position_id is not None:
        assign_template(template, actor, position_id)
    with acting(actor):
        db.session.flush()
    return template


def template_in_use(template):
    """True once a cycle or scorecard refers to this template version."""
    used_by_cycle = exists().where(CycleTemplate.template_id == template.id)
    used_by_rule = exists().where(CycleParticipant.template_id == template.id)
    used_by_card = exists().where(Scorecard.template_id == template.id)
    return db.session.scalar(select(used_by_cycle | used_by_rule | used_by_card))


def edit_template(template, actor, *, name=None, description=None, items=None):
    """Edit the current version; if a cycle uses it, a new version is created instead.

    Returns the edited template (the same row, or the new version).
    """
    _require_hr(actor)
    if not template.is_current:
        raise ValidationError("not_current", "Only the current version of a template can be edited.")
    target = _new_version(template) if template_in_use(template) else template
    target.name = name or target.name
    target.description = description if description is not None else target.description
    if items is not None:
        target.items = _template_items(items)
    with acting(actor):
        db.session.flush()
    return target


def _new_version(template):
    new = KpiTemplate(code=template.code, version=template.version + 1, name=template.name,
                      description=template.description, position_id=template.position_id, is_current=True,
                      items=[_copy_item(KpiTemplateItem, i) for i in template.items])
    template.is_current = False
    template.position_id = None
    db.session.add(new)
    return new


def _copy_item(model, item, **extra):
    fields = ("seq", "name", "kind", "metric_key", "description", "tag", "weight", "rule", *RULE_LIMITS)
    return model(**{f: getattr(item, f) for f in fields}, **extra)


def copy_template(template, actor, *, code, name):
    """Copy a template's items into a new template family (version 1, unassigned)."""
    specs = [{**{f: getattr(i, f) for f in ("name", "kind", "metric_key", "description", "tag", "weight")},
              **{n: getattr(i, n) for n in RULE_LIMITS}, "rule": i.rule} for i in template.items]
    return create_template(actor, code=code, name=name, items=specs, description=template.description)


def assign_template(template, actor, position_id):
    """Make `template` the one new cycles use for a position (one current template per position)."""
    _require_hr(actor)
    others = select(KpiTemplate).where(KpiTemplate.position_id == position_id, KpiTemplate.id != template.id)
    for other in db.session.execute(others).scalars():
        other.position_id = None
    template.position_id = position_id
    return template


def template_for_position(position_id):
    """The current template assigned to a position, or None."""
    query = select(KpiTemplate).where(KpiTemplate.position_id == position_id,
                                      KpiTemplate.is_current.is_(True))
    return db.session.execute(query).scalars().first()


# ---- cycles -----------------------------------------------------------------------------

def grade_bands(grade_table):
    """GradeBand list from a cycle's JSON grade table."""
    try:
        return [GradeBand(row["grade"], Decimal(str(row["min_score"])),
                          None if row.get("max_share") in (None, "") else Decimal(str(row["max_share"])),
                          Decimal(str(row.get("coefficient", 1)))) for row in grade_table]
    except (KeyError, TypeError, InvalidOperation):
        raise ValidationError("invalid_grade_table",
                              "Each grade needs grade, min_score and coefficient.") from None


KEEP = object()  # edit_cycle: leave the OKR weight as it is
DEADLINES = ("targets_due", "approval_due", "self_review_due", "manager_review_due", "calibration_due")


def create_cycle(actor, *, name, kind, period_start, period_end, grade_table=None, hr_approval_required=False,
                 deadlines=None, participants=(), okr_weight=None, reminders=None):
    """Create a cycle (draft) with its grade table, deadlines, participant rules, OKR weight
    (None: OKRs stay out of pay) and reminder settings; HR/admin only."""
    _require_hr(actor)
    _check_okr_weight(okr_weight)
    if period_end < period_start:
        raise ValidationError("invalid_period", "The period ends before it starts.")
    table = grade_table or DEFAULT_GRADE_TABLE
    _check_grade_table(table)
    _check_deadlines(deadlines)
    cycle = Cycle(name=name, kind=_enum(CycleKind, kind, "kind"), period_start=period_start,
                  period_end=period_end,
                  grade_table=audit.to_jsonable(table), hr_approval_required=hr_approval_required,
                  okr_weight=okr_weight, **(deadlines or {}))
    _set_reminders(cycle, reminders)
    db.session.add(cycle)
    add_participants(cycle, actor, participants)
    with acting(actor):
        db.session.flush()
    return cycle


def _check_grade_table(table):
    try:
        scoring.validate_grade_table(grade_bands(table))
    except ScoringError as error:
        raise ValidationError(error.code, error.message) from None


def _check_okr_weight(weight):
    """None (no OKR item) or a weight above 0 and below 100: the template items keep the rest."""
    if weight is not None and not Decimal(0) < Decimal(weight) < scoring.HUNDRED:
        raise ValidationError("invalid_okr_weight", "The OKR weight must be above 0 and below 100.",
                              field="okr_weight")


REMINDER_FIELDS = ("reminders_on", "remind_before", "remind_every", "escalate_after")


def _set_reminders(cycle, reminders):
    """The cycle's reminder settings (docs/reminders.md); None keeps them (or the defaults)."""
    if reminders is None:
        return
    values = {name: reminders.get(name, getattr(cycle, name)) for name in REMINDER_FIELDS}
    try:
        before = reminder_rules.parse_before(values["remind_before"])
        reminder_rules.Settings(before=before, every=int(values["remind_every"] or 2),
                                escalate_after=int(values["escalate_after"] or 3))
    except (reminder_rules.SettingsError, TypeError, ValueError) as error:
        raise ValidationError("invalid_reminders", f"Reminder settings: {error}.") from None
    cycle.reminders_on = bool(values["reminders_on"]) if values["reminders_on"] is not None else True
    cycle.remind_before = ",".join(str(d) for d in before)
    cycle.remind_every, cycle.escalate_after = int(values["remind_every"] or 2), int(values["escalate_after"] or 3)


def _check_deadlines(deadlines):
    unknown = set(deadlines or {}) - set(DEADLINES)
    if unknown:
        raise ValidationError("invalid_field", f"Unknown deadlines: {', '.join(sorted(unknown))}.")


def edit_cycle(cycle, actor, *, name, deadlines, grade_table=None, hr_approval_required=None,
               participants=(), okr_weight=KEEP, reminders=None):
    """Edit a cycle until it closes: name, deadlines, reminder settings and more participant
    rules; the grade table, the HR-approval switch and the OKR weight only while it is a draft
    (running scorecards were started under them). HR/admin only; the ORM audit hooks record the
    change. Flushes."""
    _require_hr(actor)
    if cycle.status == CycleStatus.closed:
        raise ValidationError("not_editable", "A closed cycle cannot change.")
    _check_deadlines(deadlines)
    if grade_table is not None and cycle.status == CycleStatus.draft:
        _check_grade_table(grade_table)
        cycle.grade_table = audit.to_jsonable(grade_table)
    if hr_approval_required is not None and cycle.status == CycleStatus.draft:
        cycle.hr_approval_required = hr_approval_required
    if okr_weight is not KEEP and cycle.status == CycleStatus.draft:
        _check_okr_weight(okr_weight)
        cycle.okr_weight = okr_weight
    cycle.name = name or cycle.name
    for key, value in (deadlines or {}).items():
        setattr(cycle, key, value)
    _set_reminders(cycle, reminders)
    add_participants(cycle, actor, participants)
    with acting(actor):
        db.session.flush()
    return cycle


def add_participants(cycle, actor, participants):
    """Add participant rules: dicts with one of department_id / position_id / person_id,
    and optionally template_id (overrides the position's template)."""
    _require_hr(actor)
    for spec in participants:
        kinds = [k for k in ParticipantKind if spec.get(f"{k}_id") is not None]
        if len(kinds) != 1:
            raise ValidationError("invalid_value",
                                  "A participant rule names one department, position or person.")
        cycle.participants.append(CycleParticipant(
            kind=kinds[0], department_id=spec.get("department_id"), position_id=spec.get("position_id"),
            person_id=spec.get("person_id"), template_id=spec.get("template_id")))
    return cycle


def resolve_participants(cycle):
    """[(person, override template or None)] for every active staff member the rules select."""
    chosen = {}
    for rule in cycle.participants:
        for person in _people_for_rule(rule):
            if person.active and person.role != Role.client:
                # a person-level rule (and its template) wins over a broader one
                if person.id not in chosen or rule.kind == ParticipantKind.person:
                    chosen[person.id] = (person, rule.template)
    return [chosen[k] for k in sorted(chosen)]


def count_participants(cycle):
    """len(resolve_participants(cycle)) in one counting query (the cycle board and the start
    progress print it; loading every person to count them grew with the org)."""
    rules = [_rule_filter(rule) for rule in cycle.participants]
    if not rules:
        return 0
    return db.session.scalar(select(func.count(User.id)).where(
        User.active, User.role != Role.client, or_(*rules)))


def _rule_filter(rule):
    if rule.kind == ParticipantKind.person:
        return User.id == rule.person_id
    if rule.kind == ParticipantKind.position:
        return User.position_id == rule.position_id
    # the subtree's ids fetched first: two department rules would name two CTEs "subtree"
    return User.department_id.in_(db.session.scalars(org_queries.subtree_ids(rule.department_id)).all())


def _people_for_rule(rule):
    if rule.kind == ParticipantKind.person:
        return [_get(User, rule.person_id)]
    if rule.kind == ParticipantKind.position:
        return db.session.execute(select(User).where(User.position_id == rule.position_id)).scalars().all()
    _get(Department, rule.department_id)
    # the whole subtree in one recursive query (walking it loaded each department's children)
    subtree = org_queries.subtree_ids(rule.department_id)
    return db.session.execute(select(User).where(User.department_id.in_(subtree))).scalars().all()


@dataclass
class StartReport:
    created: list = field(default_factory=list)   # scorecard ids
    existing: int = 0
    skipped: list = field(default_factory=list)   # person ids without a template


def start_cycle(cycle_id, actor_id=None, progress=None):
    """Create one draft scorecard per participant from their template version. Idempotent.

    Ids in (suitable as a job body); `progress(done, total)` is called per person.
    Re-running creates scorecards only for participants who have none yet.
    """
    cycle = _get(Cycle, cycle_id)
    actor = db.session.get(User, actor_id) if actor_id is not None else None
    if actor is not None:
        _require_hr(actor)
    report, people = StartReport(), resolve_participants(cycle)
    with acting(actor):
        for done, (person, override) in enumerate(people, 1):
            _start_one(cycle, person, override, report)
            if progress is not None:
                progress(done, len(people))
        cycle.status = CycleStatus.running
        cycle.started_at = cycle.started_at or utcnow()
        db.session.flush()
    return report


def close_cycle(cycle, actor):
    """Mark a cycle closed once every participant's latest scorecard is locked (HR/admin)."""
    _require_hr(actor)
    cards = db.session.execute(select(Scorecard).where(Scorecard.cycle_id == cycle.id)).scalars().all()
    open_cards = [c for c in cards if not c.is_locked]
    if open_cards:
        raise ValidationError("cycle_not_complete", f"{len(open_cards)} scorecards are not locked yet.")
    cycle.status = CycleStatus.closed
    with acting(actor):
        db.session.flush()
    return cycle


def _start_one(cycle, person, override, report):
    has_card = exists().where(Scorecard.cycle_id == cycle.id, Scorecard.person_id == person.id)
    if db.session.scalar(select(has_card)):
        report.existing += 1
        return
    template = override or _cycle_template(cycle, person.position_id)
    if template is None:
        report.skipped.append(person.id)
        return
    scope = _scope_of(person)
    items = [_card_item(i, scope) for i in template.items]
    if cycle.okr_weight is not None:
        items = with_okr_item(items, Decimal(cycle.okr_weight))
    card = Scorecard(cycle=cycle, person=person, version=1, template_id=template.id, state=S.DRAFT, items=items)
    db.session.add(card)
    db.session.flush()
    for item in card.items:
        if item.is_okr:
            set_actual(item, *attainment.attainment(person.id, cycle.period_start, cycle.period_end))
    report.created.append(card.id)
    notifications.notify_next(card)


def _cycle_template(cycle, position_id):
    """The template version this cycle uses for a position, fixed the first time it is asked."""
    if position_id is None:
        return None
    query = select(CycleTemplate).where(CycleTemplate.cycle_id == cycle.id,
                                        CycleTemplate.position_id == position_id)
    fixed = db.session.execute(query).scalars().first()
    if fixed is not None:
        return fixed.template
    template = template_for_position(position_id)
    if template is not None:
        db.session.add(CycleTemplate(cycle_id=cycle.id, position_id=position_id, template=template))
    return template


def _scope_of(person):
    owners = db.session.execute(select(StoreOwner).where(StoreOwner.person_id == person.id)
                                .order_by(StoreOwner.store_id)).scalars()
    return [{"store_id": o.store_id, "share_pct": str(o.share_pct)} for o in owners]


def _card_item(template_item, scope):
    item = _copy_item(ScorecardItem, template_item, revision=1)
    item.scope = scope if template_item.kind == ItemKind.metric else None
    refresh_points(item)
    return item


OKR_ITEM_NAME = "OKR attainment / OKR 达成率"
OKR_LIMITS = {"threshold": Decimal(0), "target": scoring.HUNDRED, "stretch": scoring.HUNDRED}


def okr_rule():
    """Points = the attainment in percent: linear from 0 (0 points) to 100 (100 points), no stretch."""
    rule = ScoringRule(kind=scoring.RuleKind.LINEAR, cap=scoring.HUNDRED, **OKR_LIMITS)
    return {k: v for k, v in rule.to_dict().items() if k not in RULE_LIMITS}


def with_okr_item(items, weight):
    """The template's items with their weights scaled to 100 - `weight` (to the cent, largest
    remainder, so they still total 100 with the OKR item), then the OKR attainment item."""
    scaled = arithmetic.scale_to_budget([Decimal(i.weight) for i in items], scoring.HUNDRED - weight)
    for item, new_weight in zip(items, scaled):
        item.weight = new_weight
    okr = ScorecardItem(seq=len(items) + 1, name=OKR_ITEM_NAME, kind=ItemKind.okr, tag=ItemTag.result,
                        weight=weight, rule=okr_rule(), revision=1, **OKR_LIMITS)
    refresh_points(okr)
    return [*items, okr]


# ---- reading scorecards -----------------------------------------------------------------

def get_scorecard(scorecard_id):
    return _get(Scorecard, scorecard_id)


def is_superseded(scorecard):
    """True when a reopen created a higher version of this scorecard."""
    newer = exists().where(Scorecard.cycle_id == scorecard.cycle_id,
                           Scorecard.person_id == scorecard.person_id,
                           Scorecard.version > scorecard.version)
    return bool(db.session.scalar(select(newer)))


def facts_of(scorecard, actor):
    """The workflow Facts about `scorecard` for `actor` (superseded, pending change, acknowledged)."""
    return facts_for([scorecard], actor)[scorecard.id]


def facts_for(scorecards, actor):
    """{scorecard id: Facts} for a whole list in four queries (list pages ask per row)."""
    if not scorecards:
        return {}
    ids = [c.id for c in scorecards]
    newest = dict(((cycle, person), version) for cycle, person, version in db.session.execute(
        select(Scorecard.cycle_id, Scorecard.person_id, func.max(Scorecard.version))
        .where(Scorecard.person_id.in_({c.person_id for c in scorecards}),
               Scorecard.cycle_id.in_({c.cycle_id for c in scorecards}))
        .group_by(Scorecard.cycle_id, Scorecard.person_id)))
    requester = dict(db.session.execute(select(ChangeRequest.scorecard_id, ChangeRequest.requested_by_id).where(
        ChangeRequest.scorecard_id.in_(ids), ChangeRequest.status == ChangeStatus.pending)).all())
    acked = set(db.session.execute(select(Acknowledgement.scorecard_id)
                                   .where(Acknowledgement.scorecard_id.in_(ids))).scalars())
    disputed = set(db.session.execute(select(Dispute.scorecard_id).where(
        Dispute.scorecard_id.in_(ids), Dispute.status.in_(ACTIVE_DISPUTE),
        Dispute.lock_override_at.is_(None))).scalars())
    return {c.id: Facts(superseded=newest.get((c.cycle_id, c.person_id), c.version) > c.version,
                        change_pending=c.id in requester,
                        change_requested_by_actor=actor is not None and requester.get(c.id) == actor.id,
                        acknowledged=c.id in acked, dispute_open=c.id in disputed) for c in scorecards}


def permitted(scorecard, user, facts=None):
    """Every workflow action and edit `user` may take on `scorecard` now: the one answer
    for the screens' buttons and forms and for the API (workflow.permitted). List pages
    pass `facts` from facts_for() to ask once for all rows."""
    return workflow_permitted(scorecard.state, policy.relations_of(user, scorecard),
                              is_owner=user.id == scorecard.person_id,
                              hr_approval_required=scorecard.cycle.hr_approval_required,
                              facts=facts if facts is not None else facts_of(scorecard, user))


def allowed_actions(scorecard, user):
    """Workflow actions `user` may take on `scorecard` now (for buttons)."""
    return list(permitted(scorecard, user).actions)


def current_result(scorecard, items=None):
    """(total, grade, coefficient) from the current final points; Nones while incomplete.
    `items`: the card's items as plain rows (queries.item_points), else scorecard.items."""
    bands = grade_bands(scorecard.cycle.grade_table)
    items = scorecard.items if items is None else items
    total = scoring.total_score([(_dec(i.final_points), Decimal(i.weight)) for i in items])
    grade = scorecard.calibrated_grade or scoring.grade_for(total, bands)
    coefficient = next((b.coefficient for b in bands if b.grade == grade), None)
    return total, grade, coefficient


def shown_result(scorecard, items=None):
    """(total, grade, coefficient): frozen once locked, else current_result(); Nones while the
    scorecard cannot be scored yet."""
    if scorecard.is_locked:
        return scorecard.total, scorecard.grade, scorecard.bonus_coefficient
    try:
        return current_result(scorecard, items)
    except (ScoringError, AppraisalError):
        return None, None, None


def grade_from_sums(row, bands):
    """The grade current_result() gives (the stored one once locked), from one row of
    queries.cycle_point_sums: the items summed in SQL, for pages over a whole cycle."""
    _dept, _name, state, grade, calibrated, weighted, scored, items, weights = row
    if state == S.LOCKED:
        return grade
    if weights is None or Decimal(str(weights)) != 100:
        return None
    if scored < items:
        return calibrated
    return calibrated or scoring.grade_for(scoring.quantize_points(Decimal(str(weighted)) / 100), bands)


def self_total(scorecard, items=None):
    """The total the employee's self-review implies (self scores on manual items, computed
    points on data items), for calibration; None while any item has no points. `items` as
    for current_result()."""
    items = scorecard.items if items is None else items
    try:
        return scoring.total_score([(_self_points(i), Decimal(i.weight)) for i in items])
    except (ScoringError, AppraisalError):
        return None


def _self_points(item):
    if not item.is_manual:
        return _dec(item.computed_points)
    return None if item.self_score is None else _manual_score(item, item.self_score).points


# ---- scorecard writes: common guards ----------------------------------------------------

def _writable(scorecard, expected_version=None):
    if scorecard.is_locked:
        raise FrozenError(scorecard)
    if expected_version is not None and int(expected_version) != scorecard.version_id:
        raise ConflictError(scorecard.id, scorecard.updated_by, scorecard.updated_at)


def _check_edit(scorecard, actor, edit, facts=None):
    """Refuse unless workflow.EDITS lets `actor` make `edit` on `scorecard` now."""
    try:
        workflow_check_edit(scorecard.state, edit, policy.relations_of(actor, scorecard),
                            is_owner=actor.id == scorecard.person_id,
                            facts=facts if facts is not None else facts_of(scorecard, actor))
    except TransitionError as error:
        raise _transition_error(error) from None


def _save(scorecard, actor):
    """Stamp who changed the scorecard, flush, and turn a stale write into ConflictError."""
    scorecard.updated_at = utcnow()
    scorecard.updated_by_id = actor.id if actor is not None else None
    scorecard_id = scorecard.id  # read now: the failed flush leaves the object unusable
    try:
        with acting(actor):
            db.session.flush()
    except StaleDataError as error:
        raise _conflict(scorecard_id) from error


def _conflict(scorecard_id):
    db.session.rollback()
    row = db.session.execute(select(Scorecard.updated_by_id, Scorecard.updated_at)
                             .where(Scorecard.id == scorecard_id)).one_or_none()
    who = db.session.get(User, row.updated_by_id) if row is not None and row.updated_by_id else None
    return ConflictError(scorecard_id, who, row.updated_at if row is not None else None)


# ---- the workflow -----------------------------------------------------------------------

def apply_action(scorecard_id, action, actor, *, reason=None, expected_version=None):
    """Move a scorecard through the workflow (workflow.TRANSITIONS), enforcing the guards.

    Writes a ScorecardEvent and an audit event and notifies whoever acts next.
    Returns the scorecard (for 'reopen', the new version). Does not commit.
    """
    scorecard = get_scorecard(scorecard_id)
    action = _enum(Action, action, "action")
    if action == Action.REOPEN:
        return reopen(scorecard, actor, reason, expected_version=expected_version)
    _writable(scorecard, expected_version)
    new_state = _check(scorecard, action, actor, reason)
    GUARDS.get(action, lambda _card: None)(scorecard)
    old_state = scorecard.state
    if action == Action.LOCK:
        _freeze_results(scorecard, actor)
        audit_anchor.anchor_after_commit(db.session, "lock")  # only if the lock commits
    scorecard.state = new_state
    _save(scorecard, actor)  # the UPDATE first: a concurrent writer fails here, before any side effect
    if new_state == S.APPROVED:
        _record_item_versions(scorecard, actor)
    _log_transition(scorecard, action, old_state, actor, reason)
    notifications.notify_next(scorecard)
    with acting(actor):
        db.session.flush()
    return scorecard


def _check(scorecard, action, actor, reason):
    try:
        return workflow_check(scorecard.state, action, policy.relations_of(actor, scorecard),
                              is_owner=actor.id == scorecard.person_id,
                              hr_approval_required=scorecard.cycle.hr_approval_required, reason=reason,
                              facts=facts_of(scorecard, actor))
    except TransitionError as error:
        raise _transition_error(error) from None


def _log_transition(scorecard, action, old_state, actor, reason):
    db.session.add(ScorecardEvent(scorecard_id=scorecard.id, action=str(action), old_state=str(old_state),
                                  new_state=str(scorecard.state), actor_id=actor.id, reason=reason))
    _record(f"scorecard.{action}", scorecard.id, actor, before={"state": old_state},
            after={"state": scorecard.state, "reason": reason, "version": scorecard.version})


def _guard_targets(scorecard):
    try:
        scoring.validate_weights([Decimal(i.weight) for i in scorecard.items])
    except ScoringError as error:
        raise ValidationError(error.code, error.message) from None
    for item in scorecard.items:
        problem = _rule_problem(item)
        if problem is not None:
            raise ValidationError("item_incomplete", f"{item.name}: {problem.message}")


def _guard_self_review(scorecard):
    missing = [i.name for i in scorecard.items if i.is_manual and i.self_score is None]
    if not (scorecard.self_comment or "").strip() or missing:
        raise ValidationError("self_review_incomplete",
                              "Add a self-review comment and a self score for every manual item.")


def _guard_final_points(scorecard):
    for item in scorecard.items:
        if item.final_points is None:
            raise ValidationError("final_points_missing", f"{item.name} has no final points yet.")
        if _is_override(item) and not (item.override_reason or "").strip():
            raise ValidationError("override_reason_required", f"{item.name}: overriding needs a reason.")


def _guard_lock(scorecard):
    _guard_final_points(scorecard)
    if _pending_change(scorecard) is not None:
        raise ValidationError("change_request_pending", "Decide the pending change request first.")


GUARDS = {
    Action.SUBMIT: _guard_targets,
    Action.SUBMIT_SELF_REVIEW: _guard_self_review,
    Action.SUBMIT_MANAGER_REVIEW: _guard_final_points,
    Action.LOCK: _guard_lock,
}


def _is_override(item):
    if item.is_manual or item.manager_score is None:
        return False
    return item.computed_points is None or Decimal(item.manager_score) != Decimal(item.computed_points)


def _version_data(item):
    return audit.to_jsonable({f: getattr(item, f) for f in
                              ("name", "description", "weight", "rule", *RULE_LIMITS)})


def _record_item_versions(scorecard, actor, change_request=None, items=None):
    for item in items if items is not None else scorecard.items:
        db.session.add(ScorecardItemVersion(
            item_id=item.id, scorecard_id=scorecard.id, revision=item.revision, data=_version_data(item),
            change_request_id=change_request.id if change_request else None,
            created_by_id=actor.id if actor else None))


def submit(scorecard, actor, **kw):
    """Submit targets (owner or manager)."""
    return apply_action(scorecard.id, Action.SUBMIT, actor, **kw)


def approve(scorecard, actor, **kw):
    """Approve targets (manager; goes to HR approval when the cycle requires it)."""
    return apply_action(scorecard.id, Action.APPROVE, actor, **kw)


def return_targets(scorecard, actor, reason, **kw):
    """Return submitted targets with a reason (manager, or HR at the HR-approval step)."""
    return apply_action(scorecard.id, Action.RETURN_, actor, reason=reason, **kw)


def lock(scorecard, actor, **kw):
    """Lock (HR): freeze total, grade, bonus coefficient and a snapshot of every input."""
    return apply_action(scorecard.id, Action.LOCK, actor, **kw)


def _freeze_results(scorecard, actor):
    total, grade, coefficient = current_result(scorecard)
    computed = scoring.grade_for(total, grade_bands(scorecard.cycle.grade_table))
    scorecard.total, scorecard.grade, scorecard.bonus_coefficient = total, grade, coefficient
    scorecard.locked_at, scorecard.locked_by_id = utcnow(), actor.id
    scorecard.snapshot = audit.to_jsonable({
        "scorecard_id": scorecard.id, "version": scorecard.version, "person_id": scorecard.person_id,
        "cycle": {"id": scorecard.cycle_id, "name": scorecard.cycle.name,
                  "period": [scorecard.cycle.period_start, scorecard.cycle.period_end]},
        "total": total, "computed_grade": computed, "grade": grade, "bonus_coefficient": coefficient,
        "calibrated_grade": scorecard.calibrated_grade, "calibration_reason": scorecard.calibration_reason,
        "grade_table": scorecard.cycle.grade_table, "self_comment": scorecard.self_comment,
        "manager_comment": scorecard.manager_comment, "items": [_item_snapshot(i) for i in scorecard.items],
        "formula_versions": _formula_versions(scorecard), "locked_at": scorecard.locked_at,
        "locked_by_id": actor.id,
    })


SNAPSHOT_FIELDS = ("id", "seq", "name", "kind", "metric_key", "description", "tag", "weight", "rule", "scope",
                   "revision", "actual", "data_as_of", "provenance", "computed_points", "explanation",
                   "self_score", "self_comment", "manager_score", "manager_comment", "override_reason",
                   "final_points", *RULE_LIMITS)


def _item_snapshot(item):
    return {name: getattr(item, name) for name in SNAPSHOT_FIELDS}


def _formula_versions(scorecard):
    metrics = {}
    for item in scorecard.items:
        if item.metric_key:
            spec = BUILTIN_METRICS_BY_KEY.get(item.metric_key)
            provenance = item.provenance or {}
            metrics[item.metric_key] = provenance.get("metric_version", spec.version if spec else None)
    return {"scoring": SCORING_VERSION, "metrics": metrics}


# ---- target edits -----------------------------------------------------------------------

ITEM_EDIT_FIELDS = {"name": str, "description": str, "weight": to_decimal, "target": to_decimal,
                    "threshold": to_decimal, "stretch": to_decimal}


def _clean_changes(scorecard, changes, allowed=ITEM_EDIT_FIELDS):
    """{item: {field: value}} from {item_id: {field: raw}}, refusing unknown items and fields."""
    if not changes:
        raise ValidationError("invalid_value", "No changes given.")
    cleaned = {}
    for item_id, fields in changes.items():
        item = scorecard.item(item_id)
        unknown = set(fields) - set(allowed)
        if item is None or unknown:
            raise ValidationError("invalid_field", f"Cannot change {sorted(unknown) or 'item'} {item_id}.")
        cleaned[item] = {name: allowed[name](value, name) if allowed[name] is to_decimal else
                         (None if value is None else str(value)) for name, value in fields.items()}
    return cleaned


def _apply_changes(cleaned):
    for item, fields in cleaned.items():
        for name, value in fields.items():
            setattr(item, name, value)
        refresh_points(item)


def _check_order(item, limits):
    """Refuse a linear item's limits out of order, naming the limit at fault (blanks are not compared)."""
    rule = item.rule or {}
    if item.is_manual or rule.get("kind") != scoring.RuleKind.LINEAR:
        return
    ordered = (limits.get(n) for n in ("threshold", "target", "stretch"))
    found = scoring.order_problem(rule.get("direction"), *ordered)
    if found is not None:
        code, field = found
        raise ValidationError(code, f"{item.name}: {scoring.ORDER_PROBLEMS[code]}", field=field, item_id=item.id)


def _check_orders(cleaned):
    for item, fields in cleaned.items():
        _check_order(item, {n: _dec(fields.get(n, getattr(item, n))) for n in RULE_LIMITS})


def update_items(scorecard, actor, changes, *, expected_version=None):
    """Edit targets in draft/returned (owner or manager); fields: name, description,
    weight, target, threshold, stretch. `changes` = {item_id: {field: value}}."""
    _writable(scorecard, expected_version)
    _check_edit(scorecard, actor, Edit.EDIT_TARGETS)
    cleaned = _clean_changes(scorecard, changes)
    _check_orders(cleaned)
    _apply_changes(cleaned)
    _save(scorecard, actor)
    return scorecard


def _check_proposal(scorecard, cleaned):
    """Refuse a change that would leave weights or rules invalid (without changing anything)."""
    weights = [cleaned.get(i, {}).get("weight", i.weight) for i in scorecard.items]
    try:
        scoring.validate_weights([Decimal(w) if w is not None else Decimal(0) for w in weights])
        for item, fields in cleaned.items():
            data = {**(item.rule or {}), **{n: fields.get(n, getattr(item, n)) for n in RULE_LIMITS}}
            ScoringRule.from_dict(data).validate()
    except ScoringError as error:
        raise ValidationError(error.code, error.message) from None


def _pending_change(scorecard):
    query = select(ChangeRequest).where(ChangeRequest.scorecard_id == scorecard.id,
                                        ChangeRequest.status == ChangeStatus.pending)
    return db.session.execute(query).scalars().first()


def request_change(scorecard, actor, changes, reason, *, expected_version=None):
    """Ask to change approved targets (owner or manager). The approved items stay in force
    until the manager decides; one pending request per scorecard."""
    _writable(scorecard, expected_version)
    _check_edit(scorecard, actor, Edit.REQUEST_CHANGE)
    reason = _require_text(reason)
    cleaned = _clean_changes(scorecard, changes)
    _check_orders(cleaned)
    _check_proposal(scorecard, cleaned)
    request = ChangeRequest(scorecard_id=scorecard.id, requested_by_id=actor.id, reason=reason,
                            changes={str(i.id): audit.to_jsonable(f) for i, f in cleaned.items()})
    db.session.add(request)
    _save(scorecard, actor)
    decider = next((m for m in scorecard.person.managers() if m.id != actor.id), None)
    if decider is not None:
        notifications.notify([decider], scorecard, "change_requested", "change_requested",
                             actor=actor.name, reason=reason)
    return request


def decide_change(change_request, actor, decision, reason=None, *, expected_version=None):
    """Approve or reject a pending change request (a manager of the person, not the requester).
    Approval applies the changes and keeps a new ScorecardItemVersion per changed item."""
    scorecard = change_request.scorecard
    _writable(scorecard, expected_version)
    _check_edit(scorecard, actor, Edit.DECIDE_CHANGE, Facts(
        change_pending=change_request.status == ChangeStatus.pending,
        change_requested_by_actor=actor.id == change_request.requested_by_id))
    if decision not in ("approve", "reject"):
        raise ValidationError("invalid_value", "Decide 'approve' or 'reject'.")
    if decision == "reject":
        _require_text(reason)
    else:
        _apply_change_request(scorecard, change_request, actor)
    change_request.status = ChangeStatus.approved if decision == "approve" else ChangeStatus.rejected
    change_request.decided_by_id, change_request.decided_at = actor.id, utcnow()
    change_request.decision_reason = reason
    _save(scorecard, actor)
    _record(f"scorecard.change_{change_request.status}", scorecard.id, actor,
            after={"change_request_id": change_request.id, "reason": reason})
    kind = f"change_{change_request.status}"
    notifications.notify([change_request.requested_by], scorecard, kind, kind)
    return change_request


def _apply_change_request(scorecard, change_request, actor):
    cleaned = _clean_changes(scorecard, change_request.changes)
    _check_proposal(scorecard, cleaned)
    _apply_changes(cleaned)
    for item in cleaned:
        item.revision += 1
    _record_item_versions(scorecard, actor, change_request, items=list(cleaned))


# ---- reviews ----------------------------------------------------------------------------

def _item_fields(scorecard, items, allowed):
    for item_id, fields in (items or {}).items():
        item = scorecard.item(item_id)
        unknown = set(fields) - set(allowed)
        if item is None or unknown:
            raise ValidationError("invalid_field", f"Cannot set {sorted(unknown) or 'item'} {item_id}.")
        yield item, fields


def save_self_review(scorecard, actor, *, comment=None, items=None, expected_version=None):
    """The owner's self-review: overall comment; per item self_comment, and self_score
    (manual items only, on the item's scale). `items` = {item_id: {field: value}}."""
    _writable(scorecard, expected_version)
    _check_edit(scorecard, actor, Edit.SELF_REVIEW)
    if comment is not None:
        scorecard.self_comment = comment
    for item, fields in _item_fields(scorecard, items, ("self_score", "self_comment")):
        if "self_score" in fields:
            if not item.is_manual and fields["self_score"] is not None:
                raise ValidationError("invalid_field", f"{item.name} is scored from data, not self-scored.")
            score = to_decimal(fields["self_score"], "self_score")
            if score is not None:
                _manual_score(item, score, "self_score")  # range check on the item's scale
            item.self_score = score
        if "self_comment" in fields:
            item.self_comment = fields["self_comment"]
    _save(scorecard, actor)
    draft_rows.end(scorecard, actor, Edit.SELF_REVIEW, "saved")  # what was typed is now saved
    return scorecard


def save_manager_review(scorecard, actor, *, comment=None, items=None, expected_version=None):
    """The manager's review: overall comment; per item manager_score (manual items: on the
    item's scale; data items: points overriding the computed score, which needs
    override_reason), manager_comment. Recomputes final points."""
    _writable(scorecard, expected_version)
    _check_edit(scorecard, actor, Edit.MANAGER_REVIEW)
    if comment is not None:
        scorecard.manager_comment = comment
    allowed = ("manager_score", "manager_comment", "override_reason")
    for item, fields in _item_fields(scorecard, items, allowed):
        for name in ("manager_comment", "override_reason"):
            if name in fields:
                setattr(item, name, fields[name])
        if "manager_score" in fields:
            item.manager_score = to_decimal(fields["manager_score"], "manager_score")
        _check_manager_score(item)
        refresh_points(item)
    _save(scorecard, actor)
    draft_rows.end(scorecard, actor, Edit.MANAGER_REVIEW, "saved")
    return scorecard


def _check_manager_score(item):
    if item.manager_score is None:
        return
    if item.is_manual:
        _manual_score(item, item.manager_score, "manager_score")
    elif not Decimal(0) <= Decimal(item.manager_score) <= Decimal(item.rule.get("cap") or 120):
        raise ValidationError("invalid_value", f"{item.name}: points must be between 0 and the cap.",
                              field="manager_score", item_id=item.id)
    elif _is_override(item) and not (item.override_reason or "").strip():
        raise ValidationError("override_reason_required",
                              f"{item.name}: overriding the computed score needs a reason.",
                              field="override_reason", item_id=item.id)


def calibrate(scorecard, actor, grade, reason, *, expected_version=None):
    """HR sets the grade in calibration (reason required, audited); lock uses it."""
    _writable(scorecard, expected_version)
    _check_edit(scorecard, actor, Edit.CALIBRATE)
    reason = _require_text(reason)
    if grade not in {b.grade for b in grade_bands(scorecard.cycle.grade_table)}:
        raise ValidationError("invalid_value", f"Grade {grade!r} is not in the cycle's grade table.")
    before = {"calibrated_grade": scorecard.calibrated_grade, "preview": current_result(scorecard)[1]}
    scorecard.calibrated_grade, scorecard.calibration_reason = grade, reason
    _save(scorecard, actor)
    _record("scorecard.calibrate", scorecard.id, actor, before=before,
            after={"calibrated_grade": grade, "reason": reason})
    return scorecard


def cycle_distribution(cycle_id):
    """Grade counts and quota violations over the cycle's latest scorecards that have a grade."""
    cycle = _get(Cycle, cycle_id)
    bands = grade_bands(cycle.grade_table)
    cards = db.session.execute(select(Scorecard).where(Scorecard.cycle_id == cycle_id)).scalars().all()
    latest = {}
    for card in cards:
        if card.person_id not in latest or card.version > latest[card.person_id].version:
            latest[card.person_id] = card
    grades = [g for g in (_grade_of(c) for c in latest.values()) if g is not None]
    counts = {b.grade: grades.count(b.grade) for b in bands}
    return {"counts": counts, "graded": len(grades), "violations": scoring.distribution_check(grades, bands)}


def _grade_of(card):
    if card.is_locked:
        return card.grade
    try:
        return current_result(card)[1]
    except ScoringError:
        return None


# ---- after lock -------------------------------------------------------------------------

def acknowledge(scorecard, actor, objection=False, comment=None):
    """The owner acknowledges a locked result, optionally objecting (comment required).
    Stored as an Acknowledgement row; the locked scorecard itself never changes."""
    _check_edit(scorecard, actor, Edit.ACKNOWLEDGE)
    if objection:
        comment = _require_text(comment, "reason_required", "A comment explaining the objection", "comment")
    ack = Acknowledgement(scorecard_id=scorecard.id, person_id=actor.id, objection=bool(objection),
                          comment=comment)
    db.session.add(ack)
    with acting(actor):
        db.session.flush()
    _record("scorecard.acknowledge", scorecard.id, actor,
            after={"objection": bool(objection), "comment": comment})
    if objection:
        raise_appeal(scorecard, actor, comment)
    return ack


def reopen(scorecard, actor, reason, *, expected_version=None):
    """Admin reopen of a locked scorecard: creates version N+1 in manager_review with a copy
    of items and reviews. The locked version stays readable and unchanged."""
    if expected_version is not None and int(expected_version) != scorecard.version_id:
        raise ConflictError(scorecard.id, scorecard.updated_by, scorecard.updated_at)
    new_state = _check(scorecard, Action.REOPEN, actor, reason)
    new = Scorecard(cycle_id=scorecard.cycle_id, person_id=scorecard.person_id, version=scorecard.version + 1,
                    template_id=scorecard.template_id, state=new_state, reopened_from_id=scorecard.id,
                    self_comment=scorecard.self_comment, manager_comment=scorecard.manager_comment,
                    items=[_copy_card_item(i) for i in scorecard.items])
    db.session.add(new)
    old_id = scorecard.id
    try:
        _save(new, actor)
    except IntegrityError as error:  # a concurrent reopen took version N+1 first
        raise _conflict(old_id) from error
    _record_item_versions(new, actor)
    db.session.add(ScorecardEvent(scorecard_id=new.id, action=str(Action.REOPEN), old_state=str(S.LOCKED),
                                  new_state=str(new_state), actor_id=actor.id, reason=reason))
    _record("scorecard.reopen", scorecard.id, actor, before={"version": scorecard.version, "state": S.LOCKED},
            after={"new_scorecard_id": new.id, "version": new.version, "reason": reason})
    notifications.notify_next(new)
    with acting(actor):
        db.session.flush()
    return new


# ---- appeals (申诉, appeal_flow.py) ---------------------------------------------------------

APPEAL_REPLY_DAYS = 7  # the manager or HR answers within a week of the appeal


def appeal_permitted(scorecard, user, appeal=None):
    """The appeal steps `user` may take on `scorecard` now (appeal_flow.permitted)."""
    return appeal_flow.permitted(appeal.status if appeal else None, policy.relations_of(user, scorecard),
                                 is_owner=user.id == scorecard.person_id, facts=_appeal_facts(scorecard))


def _appeal_facts(scorecard):
    return AppealFacts(locked=scorecard.is_locked, superseded=is_superseded(scorecard))


def _check_appeal(scorecard, appeal, step, actor, text):
    try:
        state = appeal.status if appeal else None
        return appeal_flow.check(state, step, policy.relations_of(actor, scorecard),
                                 is_owner=actor.id == scorecard.person_id, text=text,
                                 facts=_appeal_facts(scorecard))
    except TransitionError as error:
        raise _transition_error(error) from None


def raise_appeal(scorecard, actor, reason):
    """The owner appeals a locked result (from acknowledge with an objection); the direct
    manager and HR are told and see it in their waiting list until it is answered."""
    _check_appeal(scorecard, appeal_of(scorecard), AppealStep.RAISE, actor, reason)
    appeal = Appeal(scorecard_id=scorecard.id, raised_by_id=actor.id, status=AS.OPEN, reason=reason.strip(),
                    deadline=utcnow().date() + timedelta(days=APPEAL_REPLY_DAYS))
    db.session.add(appeal)
    with acting(actor):
        db.session.flush()
    _record("appeal.raise", scorecard.id, actor, after={"appeal_id": appeal.id, "status": AS.OPEN,
                                                        "reason": appeal.reason, "deadline": appeal.deadline})
    person = scorecard.person
    told = [person.manager] if person.manager is not None else []
    told += [u for u in notifications.hr_users(exclude_id=actor.id) if u not in told]
    notifications.notify(told, scorecard, "objection", "appeal.raised", actor=actor.name, reason=appeal.reason)
    return appeal


def answer_appeal(appeal, actor, reply):
    """The manager or HR replies in writing; the employee sees the reply."""
    scorecard = appeal.scorecard
    _check_appeal(scorecard, appeal, AppealStep.ANSWER, actor, reply)
    _move_appeal(appeal, AppealStep.ANSWER, AS.OPEN, AS.ANSWERED, actor, reply=reply.strip(),
                 replied_by_id=actor.id, replied_at=utcnow())
    notifications.notify([scorecard.person], scorecard, "appeal.answered", "appeal.answered")
    return appeal


def close_appeal(appeal, actor, note=None):
    """HR closes an answered appeal: the locked result stands."""
    _check_appeal(appeal.scorecard, appeal, AppealStep.CLOSE, actor, note)
    _close(appeal, AppealStep.CLOSE, AS.CLOSED, actor, note)
    notifications.notify([appeal.scorecard.person], appeal.scorecard, "appeal.closed", "appeal.closed")
    return appeal


def reopen_from_appeal(appeal, actor, reason):
    """An admin upholds an answered appeal: the existing reopen makes version N+1 (the locked
    version stays unchanged) and the appeal records it. Returns the new scorecard."""
    _check_appeal(appeal.scorecard, appeal, AppealStep.REOPEN, actor, reason)
    new = reopen(appeal.scorecard, actor, reason)
    _close(appeal, AppealStep.REOPEN, AS.REOPENED, actor, reason, new_scorecard_id=new.id)
    return new


def _close(appeal, step, state, actor, note, **values):
    _move_appeal(appeal, step, AS.ANSWERED, state, actor, closed_by_id=actor.id, closed_at=utcnow(),
                 close_note=(note or "").strip() or None, **values)


def _move_appeal(appeal, step, old, new, actor, **values):
    """Compare-and-set the appeal's status: of two people answering at once, one wins and the
    other gets a ConflictError; audited as appeal.<step> on the scorecard."""
    moved = db.session.execute(update(Appeal).where(Appeal.id == appeal.id, Appeal.status == old)
                               .values(status=new, **values).execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        scorecard_id = appeal.scorecard_id
        db.session.rollback()  # nothing of this step (nor a reopen before it) may commit
        raise ConflictError(scorecard_id)
    db.session.refresh(appeal)
    _record(f"appeal.{step}", appeal.scorecard_id, actor, before={"appeal_id": appeal.id, "status": old},
            after={"status": new, **{k: v for k, v in values.items() if not k.endswith("_at")}})


COPY_FIELDS = ("scope", "revision", "actual", "data_as_of", "provenance", "computed_points", "explanation",
               "self_score", "self_comment", "manager_score", "manager_comment", "override_reason",
               "final_points")


def _copy_card_item(item):
    return _copy_item(ScorecardItem, item, **{f: getattr(item, f) for f in COPY_FIELDS})


# ---- data from the metric pipeline ------------------------------------------------------

def set_actual(item, value, data_as_of, provenance):
    """Store a metric item's computed actual (from the import pipeline) and rescore it.

    `data_as_of`: date or aware datetime; `provenance`: JSON-safe dict (imports, rows,
    FX, metric_version...). Refused on locked scorecards and manual items. Does not
    bump the scorecard's version: new data is not a user decision.
    """
    if item.scorecard.is_locked:
        raise FrozenError(item.scorecard)
    if item.is_manual:
        raise ValidationError("invalid_field", f"{item.name} is a manual item; it has no data.")
    for name, column_value in actual_columns(item, value, data_as_of, provenance).items():
        setattr(item, name, column_value)
    db.session.flush()
    return item


MANUAL_SOURCE = "manual"  # provenance["source"] of an actual a person set; tracking leaves it alone


def set_manual_actual(item, value, reason, actor, dispute_id=None):
    """A person's value for a metric item's actual, with a reason (a data dispute's correction,
    docs/disputes.md): written through set_actual (points rescored) with provenance source
    'manual', audited, and the scorecard's version bumped: a decision, not new data."""
    number = to_decimal(value, "actual")
    if number is None:
        raise ValidationError("invalid_value", "A value is required.", field="value")
    reason = _require_text(reason)
    old = item.provenance or {}
    provenance = {"source": MANUAL_SOURCE, "value": number, "reason": reason, "dispute_id": dispute_id,
                  "set_by": actor.id, "metric_version": old.get("metric_version"),
                  "replaced": {"actual": item.actual, "source": old.get("source"),
                               "import_ids": old.get("import_ids", [])}}
    before = item.actual
    with acting(actor):
        set_actual(item, number, item.data_as_of, provenance)
    _record("scorecard_item.manual_actual", item.scorecard_id, actor,
            before={"item_id": item.id, "actual": before},
            after={"item_id": item.id, "actual": number, "reason": reason, "dispute_id": dispute_id})
    _save(item.scorecard, actor)
    return item


def is_manual_actual(item):
    return (item.provenance or {}).get("source") == MANUAL_SOURCE


def actual_columns(item, value, data_as_of, provenance, points=metric_points):
    """The columns `set_actual` writes on a metric item, as a dict; the item is not touched
    (tracking's bulk UPDATE writes them for many items at once, with `points` a cache of
    metric_points)."""
    if isinstance(data_as_of, date) and not isinstance(data_as_of, datetime):
        data_as_of = datetime.combine(data_as_of, time(), tzinfo=timezone.utc)
    actual = to_decimal(value, "actual")
    computed, explanation, final = points(item, actual)
    return {"actual": actual, "data_as_of": data_as_of, "provenance": audit.to_jsonable(provenance or {}),
            "computed_points": computed, "explanation": explanation, "final_points": final}
