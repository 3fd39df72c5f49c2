"""Org-structure writes: people, departments, positions, stores and store owners."""
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from kpiapp import policy
from kpiapp.auth.passwords import hash_password, password_problems
from kpiapp.extensions import db
from kpiapp.i18n import N_
from kpiapp.models import Department, Position, Role, Store, StoreOwner, User
from kpiapp.tabular import read_table

# optional: the person's IM ids for notifications (docs/notifications.md); absent = unchanged
IM_COLUMNS = ["dingtalk_id", "feishu_id", "wecom_id"]
PEOPLE_COLUMNS = ["email", "name", "department", "position", "manager_email", "role", "active", "locale"] + IM_COLUMNS
IM_ID_MAX = 64
LOCALES = {"", "en", "zh_CN"}
TRUE_WORDS = {"1", "true", "yes", "y", "是"}
FALSE_WORDS = {"0", "false", "no", "n", "否"}


class OrgError(Exception):
    def __init__(self, code, message, **params):
        super().__init__(message)
        self.code, self.params = code, params


@dataclass
class PersonFields:
    """What a person form may set (the allowlist of SECURITY.md Z4)."""

    name: str
    email: str
    role: str
    department_id: int | None = None
    position_id: int | None = None
    manager_id: int | None = None
    locale: str | None = None
    active: bool = True
    new_password: str | None = None
    dingtalk_id: str | None = None
    feishu_id: str | None = None
    wecom_id: str | None = None


def normal_email(text):
    try:
        return validate_email(text.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


def would_loop(person, manager):
    """True if making `manager` the manager of `person` closes a loop."""
    node, seen = manager, set()
    while node is not None and node.id not in seen:
        if node.id == person.id:
            return True
        seen.add(node.id)
        node = node.manager
    return False


def set_manager(person, manager):
    if manager is not None and (manager.id == person.id or would_loop(person, manager)):
        raise OrgError("manager_loop", "A person cannot report to someone who reports to them.",
                       field="manager_id")
    person.manager = manager


def save_person(person, actor, fields):
    """Create or edit a person from `PersonFields`. Refuses (OrgError, `params["field"]` names the
    input) a bad e-mail, a role the actor may not give, a weak password, a manager loop and an
    e-mail already in use. Disabling a person or setting a password ends their sessions. Flushes."""
    email = _person_email(person, fields.email)
    if not policy.can_set_role(actor, fields.role):
        raise OrgError("role_forbidden", "You may not give this role.", field="role")
    _check_password(fields, email)
    was_active = person.active
    person.name, person.email, person.role = fields.name.strip(), email, Role(fields.role)
    person.department_id, person.position_id = fields.department_id or None, fields.position_id or None
    person.locale, person.active = fields.locale or None, fields.active
    for column in IM_COLUMNS:  # blank clears the id
        setattr(person, column, (getattr(fields, column) or "").strip() or None)
    if fields.new_password:
        person.password_hash = hash_password(fields.new_password)
    if fields.new_password or (was_active and not person.active):
        person.rotate_session_token()  # a new password or disabling ends every session at once
    set_manager(person, db.session.get(User, fields.manager_id) if fields.manager_id else None)
    db.session.add(person)
    _flush_person()
    return person


def _person_email(person, text):
    email = normal_email(text or "")
    if email is None:
        raise OrgError("invalid_email", "Not a valid e-mail address.", field="email")
    taken = select(User.id).where(func.lower(User.email) == email, User.id != person.id)  # None: any
    if db.session.scalar(taken) is not None:
        raise OrgError("email_taken", "Another person already uses this e-mail.", field="email")
    return email


def _check_password(fields, email):
    if not fields.new_password:
        return
    problems = password_problems(fields.new_password, email=email, name=fields.name)
    if problems:
        raise OrgError("weak_password", "The password is refused.", field="new_password", problems=problems)


def _flush_person():
    try:
        db.session.flush()
    except IntegrityError:  # a concurrent save took the e-mail between the check and the flush
        raise OrgError("email_taken", "Another person already uses this e-mail.", field="email") from None


def set_department_parent(department, parent):
    if parent is not None and parent.id in department.descendant_ids():
        raise OrgError("department_loop", "A department cannot sit under itself.")
    department.parent = parent


def add_store_owner(store, person, share):
    """Credit `share` % of a store to a person; the shares of one store stay <= 100."""
    existing = next((o for o in store.owners if o.person_id == person.id), None)
    total = store.share_total(excluding_id=existing.id if existing else None) + share
    if share <= 0 or total > 100:
        raise OrgError("share_over_100", "Shares of one store cannot exceed 100%.", total=total)
    if existing:
        existing.share_pct = share
        return existing
    owner = StoreOwner(store=store, person=person, share_pct=share)
    db.session.add(owner)
    return owner


# ---- bulk people import -----------------------------------------------------------------

@dataclass
class RowProblem:
    line: int
    column: str
    message: str


@dataclass
class ImportPlan:
    rows: list = field(default_factory=list)
    problems: list = field(default_factory=list)


def lookup(model, column, value):
    return db.session.execute(select(model).where(func.lower(column) == value.lower())).scalar_one_or_none()


def department_by_path(text):
    """'Operations / Amazon EU' or just 'Amazon EU' (must then be unique)."""
    parts = [p.strip() for p in text.split("/") if p.strip()]
    matches = db.session.execute(select(Department).where(Department.name == parts[-1])).scalars().all()
    matches = [d for d in matches if len(parts) == 1 or d.path() == " / ".join(parts)]
    return matches[0] if len(matches) == 1 else None


def plan_people_import(data, filename, actor):
    """Validate every row first; nothing is written here."""
    table = read_table(data, filename)
    plan = ImportPlan()
    if not table:
        plan.problems.append(RowProblem(1, "", N_("The file has no rows.")))
        return plan
    header = [h.strip().lower().lstrip("\ufeff") for h in table[0]]
    missing = [c for c in ("email", "name") if c not in header]
    if missing:
        plan.problems.append(RowProblem(1, ",".join(missing), N_("Missing required columns.")))
        return plan
    emails_in_file = set()
    for line, raw in enumerate(table[1:], start=2):
        values = dict(zip(header, [cell.strip() for cell in raw]))
        row, problems = check_person_row(line, values, actor)
        if row and row["email"] in emails_in_file:
            problems.append(RowProblem(line, "email", N_("This e-mail appears twice in the file.")))
        if row:
            emails_in_file.add(row["email"])
        plan.problems.extend(problems)
        if not problems:
            plan.rows.append(row)
    check_managers(plan, emails_in_file)
    return plan


def check_person_row(line, values, actor):
    problems, row = [], {"line": line}
    row["email"] = normal_email(values.get("email", ""))
    if not row["email"]:
        problems.append(RowProblem(line, "email", N_("Not a valid e-mail address.")))
    row["name"] = values.get("name", "")
    if not row["name"] or len(row["name"]) > 120:
        problems.append(RowProblem(line, "name", N_("A name of 1 to 120 characters is required.")))
    problems += resolve_refs(line, values, row)
    problems += resolve_flags(line, values, row, actor)
    problems += resolve_im_ids(line, values, row)
    return row, problems


def resolve_im_ids(line, values, row):
    """The IM id columns present in the file; an empty cell clears the id."""
    problems = []
    for column in IM_COLUMNS:
        if column not in values:
            continue
        row[column] = values[column] or None
        if row[column] and (len(row[column]) > IM_ID_MAX or any(ch.isspace() for ch in row[column])):
            problems.append(RowProblem(line, column, N_("An IM id is at most 64 characters, without spaces.")))
    return problems


def resolve_refs(line, values, row):
    problems = []
    row["department"] = department_by_path(values["department"]) if values.get("department") else None
    if values.get("department") and row["department"] is None:
        problems.append(RowProblem(line, "department", N_("Unknown department.")))
    row["position"] = lookup(Position, Position.title, values["position"]) if values.get("position") else None
    if values.get("position") and row["position"] is None:
        problems.append(RowProblem(line, "position", N_("Unknown position.")))
    row["manager_email"] = normal_email(values["manager_email"]) if values.get("manager_email") else None
    if values.get("manager_email") and not row["manager_email"]:
        problems.append(RowProblem(line, "manager_email", N_("Not a valid e-mail address.")))
    return problems


def resolve_flags(line, values, row, actor):
    problems = []
    role = (values.get("role") or "employee").lower()
    if role not in {r.value for r in Role}:
        problems.append(RowProblem(line, "role", N_("Role must be admin, hr, employee or client.")))
    elif actor.role != Role.admin and role in (Role.admin, Role.hr):
        problems.append(RowProblem(line, "role", N_("Only an admin can grant this role.")))
    row["role"] = role
    active = (values.get("active") or "true").lower()
    if active not in TRUE_WORDS | FALSE_WORDS:
        problems.append(RowProblem(line, "active", N_("Use true or false.")))
    row["active"] = active in TRUE_WORDS
    row["locale"] = values.get("locale") or None
    if (row["locale"] or "") not in LOCALES:
        problems.append(RowProblem(line, "locale", N_("Use en or zh_CN.")))
    return problems


def check_managers(plan, emails_in_file):
    for row in plan.rows:
        email = row["manager_email"]
        if email and email not in emails_in_file and lookup(User, User.email, email) is None:
            plan.problems.append(RowProblem(row["line"], "manager_email", N_("No person with this e-mail.")))
        if email and email == row["email"]:
            plan.problems.append(RowProblem(row["line"], "manager_email", N_("A person cannot manage themselves.")))


def apply_people_import(plan, actor):
    """Write a validated plan in the caller's transaction; returns (created, updated)."""
    created = updated = 0
    people = {}
    for row in plan.rows:
        person = lookup(User, User.email, row["email"])
        if person is None:
            person = User(email=row["email"])
            db.session.add(person)
            created += 1
        else:
            if person.role == Role.admin and actor.role != Role.admin:
                raise OrgError("admin_protected", "Only an admin can change an admin.")
            updated += 1
        person.name, person.department, person.position = row["name"], row["department"], row["position"]
        person.role, person.active, person.locale = Role(row["role"]), row["active"], row["locale"]
        for column in IM_COLUMNS:
            if column in row:
                setattr(person, column, row[column])
        people[row["email"]] = person
    db.session.flush()
    for row in plan.rows:
        if row["manager_email"]:
            manager = people.get(row["manager_email"]) or lookup(User, User.email, row["manager_email"])
            set_manager(people[row["email"]], manager)
    return created, updated


def people_rows(people):
    for p in people:
        yield [p.email, p.name, p.department.path() if p.department else "",
               p.position.title if p.position else "", p.manager.email if p.manager else "",
               p.role, "true" if p.active else "false", p.locale or "",
               p.dingtalk_id or "", p.feishu_id or "", p.wecom_id or ""]


def parse_share(text):
    try:
        return Decimal(str(text).strip().rstrip("%"))
    except (InvalidOperation, ValueError):
        raise OrgError("bad_share", "The share must be a number.") from None


__all__ = ["Store"]
