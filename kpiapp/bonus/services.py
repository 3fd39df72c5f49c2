"""The bonus table of a cycle (docs/bonus.md): bases typed or imported by HR, an optional
budget, the freeze; and the table as it stands (live before the freeze, stored after).

Conventions as in kpiapp/appraisal/services.py: the actor is passed in, every write is an
audited ORM write that is flushed, never committed; refusals are AppraisalErrors with a
stable code. The arithmetic lives in kpiapp/bonus/arithmetic.py.
"""
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from kpiapp import audit
from kpiapp.appraisal import queries
from kpiapp.appraisal.services import AppraisalError, ValidationError, _require_hr, acting
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.bonus import arithmetic
from kpiapp.extensions import db
from kpiapp.i18n import N_
from kpiapp.models import BonusLine, Department, Scorecard, User
from kpiapp.models.base import utcnow
from kpiapp.org.services import ImportPlan, RowProblem, lookup
from kpiapp.tabular import read_table

IMPORT_COLUMNS = ["email", "base"]
MAX_BASE = Decimal("999999999999.99")  # Numeric(14, 2)


class BonusFrozenError(AppraisalError):
    status = 409

    def __init__(self, cycle):
        super().__init__("bonus_frozen", f"The bonus table of cycle {cycle.id} is frozen.")


# ---- reading the table ----------------------------------------------------------------------

@dataclass
class BonusRow:
    person_id: int
    name: str
    email: str
    department: str | None
    state: str
    grade: str | None
    coefficient: Decimal | None
    base: Decimal | None
    amount: Decimal | None
    paid: Decimal | None = None


@dataclass
class BonusTable:
    rows: list
    budget: Decimal | None
    frozen: bool
    nothing_to_scale: bool = False
    total_amount: Decimal = Decimal("0.00")
    total_paid: Decimal = Decimal("0.00")
    waiting: int = 0  # people whose scorecard is not locked yet
    without_base: int = 0


def table(cycle):
    """Every participant's row, in the cycle's list order (department, name), in one query."""
    rows = [_row(cycle, values) for values in db.session.execute(_table_query(cycle.id))]
    result = BonusTable(rows, cycle.bonus_budget, cycle.bonus_frozen_at is not None)
    if not result.frozen:
        _work_out_paid(result)
    counted = [r for r in rows if r.amount is not None]
    result.total_amount = sum((r.amount for r in counted), Decimal("0.00"))
    result.total_paid = sum((r.paid for r in rows if r.paid is not None), Decimal("0.00"))
    result.waiting = sum(1 for r in rows if r.state != S.LOCKED)
    result.without_base = sum(1 for r in rows if r.base is None)
    return result


def _table_query(cycle_id):
    line = BonusLine
    return (queries.cycle_cards_select(
        cycle_id, User.id, User.name, User.email, Department.name, Scorecard.state, Scorecard.grade,
        Scorecard.bonus_coefficient, line.base, line.grade, line.coefficient, line.amount, line.paid)
        .outerjoin(line, (line.cycle_id == Scorecard.cycle_id) & (line.person_id == Scorecard.person_id))
        .order_by(*queries.cycle_order()))


def _row(cycle, values):
    (person_id, name, email, department, state, grade, coefficient, base, line_grade, line_coefficient,
     amount, paid) = values
    if cycle.bonus_frozen_at is not None:
        kept = line_coefficient if line_coefficient is not None else coefficient
        return BonusRow(person_id, name, email, department, state, line_grade or grade, kept, base, amount,
                        paid)
    if state != S.LOCKED:
        grade = coefficient = None
    return BonusRow(person_id, name, email, department, state, grade, coefficient, base,
                    arithmetic.amount(base, coefficient))


def _work_out_paid(result):
    """Paid = amount, or the amounts scaled to the budget (ties by person id, docs/bonus.md)."""
    known = sorted((r for r in result.rows if r.amount is not None), key=lambda r: r.person_id)
    if result.budget is None:
        for row in known:
            row.paid = row.amount
        return
    try:
        scaled = arithmetic.scale_to_budget([r.amount for r in known], result.budget)
    except ValueError:
        result.nothing_to_scale = True
        return
    for row, paid in zip(known, scaled):
        row.paid = paid


def own_line(scorecard):
    """The person's frozen bonus line in the scorecard's cycle, or None."""
    if scorecard.cycle.bonus_frozen_at is None:
        return None
    query = select(BonusLine).where(BonusLine.cycle_id == scorecard.cycle_id,
                                    BonusLine.person_id == scorecard.person_id)
    return db.session.execute(query).scalars().first()


PAYROLL_COLUMNS = ["email", "name", "department", "grade", "coefficient", "base", "amount", "paid"]


def payroll_rows(bonus_table):
    """The frozen table for payroll: people with a base only."""
    return [[r.email, r.name, r.department or "", r.grade or "", _plain(r.coefficient), _plain(r.base),
             _plain(r.amount), _plain(r.paid)] for r in bonus_table.rows if r.base is not None]


def _plain(value):
    return "" if value is None else str(value)


# ---- writes ---------------------------------------------------------------------------------

def _writable(cycle, actor):
    _require_hr(actor)
    if cycle.bonus_frozen_at is not None:
        raise BonusFrozenError(cycle)


def participant_ids(cycle):
    return set(db.session.execute(queries.cycle_cards_select(cycle.id, Scorecard.person_id)).scalars())


def parse_base(text):
    """(Decimal or None, problem or None): a base is a number >= 0 with at most two decimals."""
    text = ("" if text is None else str(text)).strip().replace(",", "")
    if not text:
        return None, None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None, N_("Not a number.")
    if not value.is_finite() or value < 0 or value > MAX_BASE:
        return None, N_("Enter an amount of 0 or more.")
    if value != value.quantize(Decimal("0.01")):
        return None, N_("At most two decimals (cents).")
    return value.quantize(Decimal("0.01")), None


def set_bases(cycle, actor, bases, source="typed"):
    """Write {person id: base (Decimal, or None to remove)} for participants of the cycle."""
    _writable(cycle, actor)
    unknown = set(bases) - participant_ids(cycle)
    if unknown:
        raise ValidationError("not_participant", f"Not in cycle {cycle.id}: {sorted(unknown)}.")
    lines = {line.person_id: line for line in db.session.execute(
        select(BonusLine).where(BonusLine.cycle_id == cycle.id, BonusLine.person_id.in_(bases))).scalars()}
    changed = 0
    for person_id, base in bases.items():
        changed += _set_one(cycle, lines.get(person_id), person_id, base, source, actor)
    with acting(actor):
        db.session.flush()
    return changed


def _set_one(cycle, line, person_id, base, source, actor):
    if base is None:
        if line is not None:
            db.session.delete(line)
        return int(line is not None)
    if line is not None and line.base == base:
        return 0
    if line is None:
        line = BonusLine(cycle_id=cycle.id, person_id=person_id)
        db.session.add(line)
    line.base, line.source, line.updated_at, line.updated_by_id = base, source, utcnow(), actor.id
    return 1


def parse_typed_bases(typed):
    """{person id: Decimal or None} from {person id: text}; ValidationError on a bad number."""
    bases = {}
    for person_id, text in typed.items():
        value, problem = parse_base(text)
        if problem:
            raise ValidationError("invalid_base", f"Base of person {person_id}: {problem}")
        bases[person_id] = value
    return bases


def plan_import(cycle, data, filename):
    """Check every line of an `email,base` file first; nothing is written here."""
    table_rows = read_table(data, filename)
    plan = ImportPlan()
    header = [h.strip().lower().lstrip("\ufeff") for h in (table_rows[0] if table_rows else [])]
    missing = [c for c in IMPORT_COLUMNS if c not in header]
    if missing:
        plan.problems.append(RowProblem(1, ",".join(missing), N_("Missing required columns.")))
        return plan
    participants, seen = participant_ids(cycle), set()
    for line, raw in enumerate(table_rows[1:], start=2):
        values = dict(zip(header, [cell.strip() for cell in raw]))
        if not any(values.values()):
            continue
        row, problems = _import_row(line, values, participants, seen)
        plan.problems.extend(problems)
        if not problems:
            plan.rows.append(row)
    return plan


def _import_row(line, values, participants, seen):
    problems = []
    person = lookup(User, User.email, values.get("email", "")) if values.get("email") else None
    if person is None:
        problems.append(RowProblem(line, "email", N_("No person with this e-mail.")))
    elif person.id not in participants:
        problems.append(RowProblem(line, "email", N_("This person is not in the cycle.")))
    elif person.id in seen:
        problems.append(RowProblem(line, "email", N_("This e-mail appears twice in the file.")))
    base, problem = parse_base(values.get("base"))
    if problem or base is None:
        problems.append(RowProblem(line, "base", problem or N_("A base amount is required.")))
    if person is not None:
        seen.add(person.id)
    return {"line": line, "person_id": person and person.id, "base": base}, problems


def apply_import(cycle, actor, plan):
    """Write a checked plan (no problems) in the caller's transaction; the number of lines changed."""
    return set_bases(cycle, actor, {row["person_id"]: row["base"] for row in plan.rows}, source="import")


def set_budget(cycle, actor, budget):
    """The pool to scale the amounts to (None: no pool); at most two decimals."""
    _writable(cycle, actor)
    if budget is not None:
        budget, problem = parse_base(budget)
        if problem:
            raise ValidationError("invalid_base", f"Budget: {problem}")
    cycle.bonus_budget = budget
    with acting(actor):
        db.session.flush()
    return cycle


def freeze(cycle, actor):
    """Write grade, coefficient, amount and paid into every line, then mark the table frozen.
    Only once every latest scorecard of the cycle is locked."""
    _writable(cycle, actor)
    current = table(cycle)
    if current.waiting:
        raise ValidationError("cycle_not_complete", f"{current.waiting} scorecards are not locked yet.")
    if current.nothing_to_scale:
        raise ValidationError("nothing_to_scale", "The amounts total 0: nothing to scale to the budget.")
    rows = {r.person_id: r for r in current.rows}
    lines = db.session.execute(select(BonusLine).where(BonusLine.cycle_id == cycle.id)).scalars().all()
    for line in lines:
        row = rows[line.person_id]
        line.grade, line.coefficient = row.grade, row.coefficient
        line.amount, line.paid = row.amount, row.paid
    with acting(actor):
        db.session.flush()  # the lines first: once the cycle is frozen the triggers refuse them
        cycle.bonus_frozen_at = utcnow()
        db.session.flush()
    audit.record(db.session, "bonus.freeze", "appraisal_cycle", cycle.id, actor=audit.actor_for(actor),
                 after={"lines": len(lines), "budget": cycle.bonus_budget,
                        "total_amount": current.total_amount, "total_paid": current.total_paid})
    return current
