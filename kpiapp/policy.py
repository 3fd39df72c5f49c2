"""The one place that decides who may do what (deny by default).

Two layers:

* Route rules.  Every view declares one rule with `@allow(...)`: `PUBLIC`,
  `SIGNED_IN` (any signed-in user), `STAFF` (signed in, not an outside
  client), or a permission name from `ROLE_PERMISSIONS`.  `web.enforce_route_rule`
  runs before every request and refuses any endpoint without a rule, so a new
  route nobody classified is unreachable (and fails the route-coverage test).
* Object rules.  `can(user, action, obj)` answers for one object and the
  `visible_*` filters narrow list queries (the only definition of who sees which
  people, cycles, scorecards and reports); views call `authorize()` which turns a
  refusal into 404 (the object's existence is not revealed).

This module decides and nothing else: it imports no view and never commits
(tests/unit/test_policy_module.py); refusing a request is the web layer's job.
"""
from functools import wraps

from flask import abort, current_app, g, has_request_context, request
from flask_login import current_user
from sqlalchemy import ARRAY, Integer, Text, cast, event, exists, false, func, literal, orm, select, true
from werkzeug.exceptions import NotFound

from kpiapp.models import Role, User

PUBLIC = "public"
SIGNED_IN = "signed_in"
STAFF = "staff"

ROLE_PERMISSIONS = {
    Role.admin: {
        "org.manage", "people.manage", "stores.manage", "users.manage", "audit.read",
        "team.view", "imports.run", "metrics.manage", "appraisal.manage", "reports.issue",
        "connections.manage",  # marketplace API credentials: admins only (docs/connectors.md)
        "integrations.manage",
    },
    Role.hr: {"org.manage", "people.manage", "stores.manage", "team.view", "imports.run", "metrics.manage",
              "appraisal.manage", "reports.issue"},
    Role.employee: {"team.view"},
    Role.client: set(),
}
# route rules no role decides alone: a question about the user (defined below)
USER_RULES = {
    "disputes.handle": lambda user: handles_disputes(user),
    "contracts.work": lambda user: works_on_contracts(user),
    "portal.use": lambda user: is_portal_user(user),
}
ALL_PERMISSIONS = set().union(*ROLE_PERMISSIONS.values()) | set(USER_RULES)
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def allow(rule):
    """Declare the rule a view needs; checked before the view runs."""
    if rule not in {PUBLIC, SIGNED_IN, STAFF} | ALL_PERMISSIONS:
        raise ValueError(f"unknown policy rule {rule!r}")

    def decorate(view):
        view.__policy__ = rule

        @wraps(view)
        def wrapper(*args, **kwargs):
            return view(*args, **kwargs)

        wrapper.__policy__ = rule
        return wrapper

    return decorate


def route_rule(endpoint):
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "__policy__", None)


def has_permission(user, permission):
    if user is None or not getattr(user, "is_authenticated", False) or not user.active:
        return False
    return permission in ROLE_PERMISSIONS.get(Role(user.role), set())


def rule_allows(user, rule):
    if rule == PUBLIC:
        return True
    if not getattr(user, "is_authenticated", False):
        return False
    if rule == SIGNED_IN:
        return True
    if rule == STAFF:
        return user.role != Role.client
    if rule in USER_RULES:
        return USER_RULES[rule](user)
    return has_permission(user, rule)


def is_privileged(user):
    return user.role in (Role.admin, Role.hr, Role.client)


# ---- object rules -----------------------------------------------------------------------

def _is_hr(user):
    return user.role in (Role.admin, Role.hr)


def can_view_person(user, person):
    if user.role == Role.client:
        return False
    return user.id == person.id or _is_hr(user) or user.is_manager_of(person)


def can_manage_person(user, person):
    return has_permission(user, "people.manage") and (user.role == Role.admin or person.role != Role.admin)


def can_set_role(user, role):
    return user.role == Role.admin or role in (Role.employee, Role.client)


def can_edit_notification_preferences(user, person):
    """Each person sets their own notification channels and digest; nobody else's."""
    return getattr(user, "is_authenticated", False) and user.active and user.id == person.id


# ---- appraisal (scorecards, templates, cycles) --------------------------------------

def relations_of(user, scorecard):
    """The workflow Relations of `user` to `scorecard` (owner, manager up the line, hr, admin)."""
    from kpiapp.appraisal.workflow import Relation

    if user is None or not getattr(user, "is_authenticated", False) or not user.active:
        return set()
    relations = set()
    if user.id == scorecard.person_id:
        relations.add(Relation.OWNER)
    if user.is_manager_of(scorecard.person):
        relations.add(Relation.MANAGER)
    if user.role == Role.hr:
        relations.add(Relation.HR)
    if user.role == Role.admin:
        relations.add(Relation.ADMIN)
    return relations


def can_view_scorecard(user, scorecard):
    return user.role != Role.client and bool(relations_of(user, scorecard))


def can_manage_appraisal(user, _obj=None):
    """Build templates and run cycles: HR and admins."""
    return getattr(user, "is_authenticated", False) and user.active and _is_hr(user)


def can_view_reminder_log(user, _cycle=None):
    """What reminders were sent to whom (cycle health): HR only."""
    return getattr(user, "is_authenticated", False) and user.active and user.role == Role.hr


def visible_scorecards_filter(user):
    """A WHERE clause limiting a Scorecard query to the scorecards `user` may see."""
    from kpiapp.models.appraisal import Scorecard

    if user.role == Role.client:
        return false()
    if _is_hr(user):
        return true()
    return in_line(Scorecard.person_id, user)


def team_scorecards_filter(user):
    """A WHERE clause limiting a Scorecard query to those of people below `user` in the line."""
    from kpiapp.models.appraisal import Scorecard

    if user.role == Role.client:
        return false()
    return Scorecard.person_id.in_(line_select(user))


def visible_cycles_filter(user):
    """A WHERE clause limiting a Cycle query to the cycles `user` may see: all for HR and
    admins, else the cycles holding a scorecard they may see."""
    from kpiapp.models.appraisal import Cycle, Scorecard

    if can_manage_appraisal(user):
        return true()
    return Cycle.id.in_(select(Scorecard.cycle_id).where(visible_scorecards_filter(user)))


# ---- signed reports (docs/reports.md) -------------------------------------------------

def can_download_report(user, report):
    """A scorecard report: its owner, their managers up the line, HR, admin; never a client.
    A cycle summary: HR and admin."""
    from kpiapp.models.reports import ReportKind

    if user.role == Role.client or not user.active:
        return False
    if _is_hr(user):
        return True
    if report.kind != ReportKind.scorecard:
        return False
    return user.id == report.person_id or user.is_manager_of(report.person)


def visible_reports_filter(user):
    """A WHERE clause limiting an IssuedReport query to the reports `user` may download."""
    from kpiapp.models.reports import IssuedReport, ReportKind

    if user.role == Role.client:
        return false()
    if _is_hr(user):
        return true()
    return (IssuedReport.kind == ReportKind.scorecard) & in_line(IssuedReport.person_id, user)


# ---- bonus (docs/bonus.md) -----------------------------------------------------------------

def can_view_bonus(user, line):
    """A bonus line: HR and admins; its own person once the cycle's bonus table is frozen;
    nobody else (not the person's managers)."""
    if user.role == Role.client or not user.active:
        return False
    if _is_hr(user):
        return True
    return user.id == line.person_id and line.cycle.bonus_frozen_at is not None
# ---- data disputes (docs/disputes.md) ------------------------------------------------

def owned_store_ids(user):
    """Ids of the stores `user` is an owner of (one query per request)."""
    from kpiapp.extensions import db
    from kpiapp.models import StoreOwner

    return once_per_request("owned_stores", user, lambda: set(db.session.execute(
        select(StoreOwner.store_id).where(StoreOwner.person_id == user.id)).scalars()))


def _active(user):
    return getattr(user, "is_authenticated", False) and user.active and user.role != Role.client


def can_handle_dispute(user, dispute):
    """Correct or reject a data dispute: HR, admin, or an owner of a store in the item's scope."""
    return _active(user) and (_is_hr(user) or bool(owned_store_ids(user) & dispute.store_ids))


def can_view_dispute(user, dispute):
    return _active(user) and (can_view_scorecard(user, dispute.scorecard)
                              or can_handle_dispute(user, dispute))


def handles_disputes(user):
    """Whether `user` has a dispute queue (the menu entry and the /disputes page)."""
    return bool(_active(user) and (_is_hr(user) or owned_store_ids(user)))


def dispute_parties(user, scorecard, dispute=None):
    """The dispute_flow.DisputeParty set of `user` for a dispute (None: one not raised yet)
    on `scorecard`."""
    from kpiapp.appraisal.dispute_flow import DisputeParty as P

    if not _active(user):
        return set()
    parties = set()
    if can_view_scorecard(user, scorecard):
        parties.add(P.VIEWER)
    if dispute is not None and dispute.raised_by_id == user.id:
        parties.add(P.RAISER)
    if dispute is not None and can_handle_dispute(user, dispute):
        parties.add(P.HANDLER)
    if _is_hr(user):
        parties.add(P.HR)
    return parties


def handled_disputes_filter(user):
    """A WHERE clause limiting a Dispute query to the disputes in `user`'s queue."""
    from kpiapp.models import Dispute, DisputeStore, StoreOwner

    if not _active(user):
        return false()
    if _is_hr(user):
        return true()
    return Dispute.id.in_(select(DisputeStore.dispute_id)
                          .join(StoreOwner, StoreOwner.store_id == DisputeStore.store_id)
                          .where(StoreOwner.person_id == user.id))


OBJECT_RULES = {
    "bonus.view": can_view_bonus,
    "report.download": can_download_report,
    "person.view": can_view_person,
    "person.manage": can_manage_person,
    "scorecard.view": can_view_scorecard,
    "template.manage": can_manage_appraisal,
    "cycle.manage": can_manage_appraisal,
    "cycle.reminders": can_view_reminder_log,
    "dispute.view": can_view_dispute,
    "dispute.handle": can_handle_dispute,
}


def can(user, action, obj):
    """May `user` do `action` to `obj`?  Anything unknown, or a rule that raises, is a no."""
    rule = OBJECT_RULES.get(action)
    if rule is None or user is None or not getattr(user, "is_authenticated", False):
        return False
    try:
        return bool(rule(user, obj))
    except Exception:  # fail closed (SECURITY.md Z4)
        current_app.logger.exception("policy rule %s raised", action)
        return False


class ObjectRefused(NotFound):
    """The 404 for an existing object the user may not see.  The user learns nothing more
    than from a missing id; the web layer audits it (this module commits nothing)."""

    def __init__(self, action, obj):
        super().__init__()
        self.action = action
        self.entity = getattr(obj, "__tablename__", type(obj).__name__)
        self.entity_id = getattr(obj, "id", None)


def authorize(action, obj, user=None):
    """404 unless allowed: a foreign id must not even confirm the object exists."""
    if obj is None:
        abort(404)
    if not can(user or current_user, action, obj):
        raise ObjectRefused(action, obj)
    return obj


def team_select(user):
    """A SELECT of the ids of everyone below `user` in the reporting line (recursive).

    UNION (not UNION ALL) drops rows already found, so a loop in the line ends. The CTE is
    unnamed so that two of them can sit in one statement. The WHERE clauses below embed
    this SELECT rather than the ids it finds: a literal IN list of the whole team cost one
    more query, a bind parameter per person and planning time per statement, all growing
    with the org (issue 10, docs/scaling.md "Pages at scale")."""
    below = select(User.id).where(User.manager_id == user.id).cte(recursive=True)
    below = below.union(select(User.id).where(User.manager_id == below.c.id))
    return select(below.c.id)


def team_ids(user):
    """Ids of everyone below `user` in the reporting line, in one recursive query."""
    from kpiapp.extensions import db

    return set(db.session.execute(team_select(user)).scalars())


LINES = "kpiapp.policy.lines"  # the request's {user id: ids below them} (request.environ)


def line_select(user):
    """A SELECT of the ids of everyone below `user` in the line, for the WHERE clauses below.

    In a request, the line is walked once (one query, the first time it is asked) and each
    clause then names the ids it found as ONE parameter (`listed`): a dashboard asks for the
    line in its filter bar (cycles, departments, stores, platforms), its rows and the menu,
    and each used to walk it again (5,000 people: 5-15 ms a walk, docs/scaling.md). The ids
    are kept on the request itself, so the next request walks again, and dropped when a
    flush writes a person (`_line_written`), so a request that moves someone sees the new
    line. Outside a request (jobs, the shell, tests calling this directly) it is the walk
    itself (`team_select`), never a remembered answer."""
    if not has_request_context():
        return team_select(user)
    lines = request.environ.setdefault(LINES, {})
    if user.id not in lines:
        lines[user.id] = line_text(user)
    return listed(lines[user.id])


@event.listens_for(orm.Session, "after_flush")
def _line_written(session, _context):
    """Forget the request's lines once a flush inserted, changed or deleted a person (every flush
    runs this: a job's or a request without remembered lines looks at none of its objects)."""
    if not has_request_context() or LINES not in request.environ:
        return
    written = (session.new, session.dirty, session.deleted)
    if any(isinstance(obj, User) for objects in written for obj in objects):
        del request.environ[LINES]


def line_text(user):
    """The ids below `user` in the line as one text parameter for `listed` (one query): a
    PostgreSQL array literal ("{3,1,2}"), a JSON array on SQLite. Joined by the database: at
    5,000 people, fetching the ids and joining them in Python cost ~7 ms of CPU, and the
    driver dumping a list of ints as an array ~3 ms per statement."""
    from kpiapp.extensions import db, dialect

    postgresql = dialect() == "postgresql"
    below = team_select(user).subquery()
    text_id = cast(below.c.id, Text)
    joined = func.string_agg(text_id, ",") if postgresql else func.group_concat(text_id, ",")
    ids = db.session.execute(select(joined)).scalar() or ""
    return "{" + ids + "}" if postgresql else "[" + ids + "]"


def listed(ids_text):
    """A SELECT of the ids of `line_text`, passed as one parameter, so neither the statement's
    text nor its parameters grow with the list (PostgreSQL plans `unnest` of the array by its
    length; SQLite reads the JSON array with json_each)."""
    from kpiapp.extensions import dialect

    if dialect() == "postgresql":
        return select(func.unnest(cast(literal(ids_text, Text), ARRAY(Integer))))
    entries = func.json_each(literal(ids_text, Text)).table_valued("value")
    return select(entries.c.value)


def in_line(column, user):
    """`column` holds `user` or someone below them in the line (a WHERE clause; in a request,
    the line's one query the first time it is asked: `line_select`)."""
    return (column == user.id) | column.in_(line_select(user))


def once_per_request(name, user, answer):
    """`answer()` for `user`, asked once per request (the menu and the page ask alike)."""
    known = g.setdefault(name, {})
    if user.id not in known:
        known[user.id] = answer()
    return known[user.id]


def line_ids(user):
    """`user` and everyone below them in the reporting line."""
    return team_ids(user) | {user.id}


def has_reports(user):
    """Whether anyone reports to `user`: "My team" is shown only to them (one query per request)."""
    from kpiapp.extensions import db

    if not getattr(user, "is_authenticated", False) or user.role == Role.client:
        return False
    return once_per_request("has_reports", user, lambda: bool(
        db.session.execute(select(exists().where(User.manager_id == user.id))).scalar()))


# ---- dashboards (docs/dashboards.md) -------------------------------------------------

def can_view_company_dashboard(user, _obj=None):
    """Company-wide figures: HR, admins, and the top of the line (someone with reports and
    no manager of their own)."""
    if not getattr(user, "is_authenticated", False) or not user.active or user.role == Role.client:
        return False
    return _is_hr(user) or (user.manager_id is None and has_reports(user))


OBJECT_RULES["dashboard.company"] = can_view_company_dashboard


def can_view_team_dashboard(user, _obj=None):
    """The team dashboard: anyone with people below them in the line, HR and admins (all)."""
    if not getattr(user, "is_authenticated", False) or not user.active or user.role == Role.client:
        return False
    return _is_hr(user) or has_reports(user)


OBJECT_RULES["dashboard.team"] = can_view_team_dashboard
# a person's dashboard: themself, a manager up the line, HR and admins (as their person page)
OBJECT_RULES["dashboard.person"] = can_view_person


def team_dashboard_filter(user):
    """A WHERE clause limiting a Scorecard query to the team dashboard's rows: everyone's for
    HR and admins, else the scorecards of the people below `user` in the line."""
    if _is_hr(user):
        return visible_scorecards_filter(user)
    return team_scorecards_filter(user)


def visible_stores_filter(user):
    """A WHERE clause limiting a Store query: all for HR and admins; else the stores owned by
    the user or by someone below them in the line."""
    from kpiapp.models import Store, StoreOwner

    if user.role == Role.client:
        return false()
    if _is_hr(user):
        return true()
    return Store.id.in_(select(StoreOwner.store_id).where(in_line(StoreOwner.person_id, user)))


def can_view_store(user, store):
    """A store's dashboard: the stores of visible_stores_filter (one query)."""
    from kpiapp.extensions import db
    from kpiapp.models import Store

    return bool(db.session.execute(select(exists().where(Store.id == store.id, visible_stores_filter(user))))
                .scalar())


OBJECT_RULES["store.view"] = can_view_store


def has_visible_store(user):
    """Whether the store dashboard has anything for `user` (the menu asks; one query a request)."""
    from kpiapp.extensions import db
    from kpiapp.models import Store

    if not getattr(user, "is_authenticated", False) or user.role == Role.client:
        return False
    return once_per_request("has_visible_store", user, lambda: db.session.execute(
        select(Store.id).where(visible_stores_filter(user)).limit(1)).first() is not None)


def visible_departments_filter(user):
    """A WHERE clause limiting a Department query: all for HR and admins; else the
    departments of the user and of the people below them."""
    from kpiapp.models import Department

    if user.role == Role.client:
        return false()
    if _is_hr(user):
        return true()
    return Department.id.in_(select(User.department_id).where(in_line(User.id, user)))


def visible_people_filter(user):
    """A WHERE clause limiting a User query to the people `user` may see."""
    if user.role == Role.client:
        return false()
    if _is_hr(user):
        return true()
    return in_line(User.id, user)


def can_publish_company_panels(user, _obj=None):
    """Mark company dashboard panels public (shown to every staff member): HR and admins."""
    return can_view_company_dashboard(user) and _is_hr(user)


def company_panels_for(user, keys, public):
    """The company dashboard panels (of `keys`) `user` may see: all of them for those who see
    the company's figures, the ones HR made `public` for any other staff member, none for
    a client or an inactive account."""
    if can_view_company_dashboard(user):
        return list(keys)
    if not getattr(user, "is_authenticated", False) or not user.active or user.role == Role.client:
        return []
    return [key for key in keys if key in public]


# ---- agency contracts and the client portal (docs/contracts.md) ----------------------------

def is_portal_user(user):
    """An active client user bound to a client company: the portal is theirs, nothing else."""
    return bool(getattr(user, "is_authenticated", False) and user.active and user.role == Role.client
                and user.client_company_id is not None)


def works_on_contracts(user):
    """The agency's contract pages: HR, admins and anyone on a contract's account team."""
    from kpiapp.extensions import db
    from kpiapp.models import Contract, ContractMember

    if not _active(user):
        return False
    if _is_hr(user):
        return True
    return once_per_request("works_on_contracts", user, lambda: db.session.execute(select(
        exists().where(Contract.lead_id == user.id) | exists().where(ContractMember.person_id == user.id)))
        .scalar())


def can_manage_contract(user, contract):
    """Edit a contract's terms and run its reports: HR, admins, its lead and account team."""
    return _active(user) and (_is_hr(user) or user.id in contract.team_ids)


def can_view_contract(user, contract):
    """The agency side as can_manage_contract; a client user: their company's contracts once
    they are no longer drafts."""
    from kpiapp.models import ContractStatus

    if is_portal_user(user):
        return (contract.client_company_id == user.client_company_id
                and contract.status != ContractStatus.draft)
    return can_manage_contract(user, contract)


def visible_contracts_filter(user):
    """A WHERE clause limiting a Contract query to the contracts `user` may see."""
    from kpiapp.models import Contract, ContractMember, ContractStatus

    if is_portal_user(user):
        return (Contract.client_company_id == user.client_company_id) & (Contract.status != ContractStatus.draft)
    if not _active(user):
        return false()
    if _is_hr(user):
        return true()
    return (Contract.lead_id == user.id) | Contract.id.in_(
        select(ContractMember.contract_id).where(ContractMember.person_id == user.id))


def contract_parties(user, contract):
    """The flow.ContractParty set of `user` for `contract` (the report and amendment flows)."""
    from kpiapp.contracts.flow import ContractParty as P

    if is_portal_user(user) and can_view_contract(user, contract):
        return {P.CLIENT}
    if can_manage_contract(user, contract):
        return {P.AGENCY}
    return set()


def can_view_contract_report(user, report):
    """A report: the agency side in every state; the client once a revision was sent (a
    report back in draft for a corrected revision still shows the client what was sent)."""
    from kpiapp.contracts.report_flow import CLIENT_VISIBLE

    if is_portal_user(user):
        return can_view_contract(user, report.contract) and (report.state in CLIENT_VISIBLE or report.revision > 1)
    return can_manage_contract(user, report.contract)


def client_reports_filter():
    """A WHERE clause on ContractReport matching can_view_contract_report's client half: the
    reports sent at least once (a report back in draft for a corrected revision included)."""
    from kpiapp.contracts.report_flow import CLIENT_VISIBLE
    from kpiapp.models import ContractReport

    return ContractReport.state.in_(CLIENT_VISIBLE) | (ContractReport.revision > 1)


def can_invite_client(user, company):
    """Invite a client user of `company`: HR, admins, and the lead of one of its contracts."""
    from kpiapp.extensions import db
    from kpiapp.models import Contract

    if not _active(user):
        return False
    if _is_hr(user):
        return True
    return bool(db.session.execute(select(exists().where(
        Contract.lead_id == user.id, Contract.client_company_id == company.id))).scalar())


OBJECT_RULES["contract.view"] = can_view_contract
OBJECT_RULES["contract.manage"] = can_manage_contract
OBJECT_RULES["contract_report.view"] = can_view_contract_report
OBJECT_RULES["client.invite"] = can_invite_client


# ---- objectives, tasks, comments, weekly reviews (docs/objectives.md) ------------------------

def _staff(user):
    return bool(getattr(user, "is_authenticated", False) and user.active and user.role != Role.client)


def can_view_objective(user, objective):
    """Company objectives and shared department/team objectives: all staff. Private ones and
    person objectives: the owner, their managers up the line, HR; a shared person objective
    also the owner's teammates (same manager)."""
    from kpiapp.models import ObjectiveLevel

    if not _staff(user):
        return False
    if _is_hr(user) or user.id == objective.owner_id or user.is_manager_of(objective.owner):
        return True
    if objective.level == ObjectiveLevel.person:
        return objective.shared and objective.owner.manager_id is not None \
            and objective.owner.manager_id == user.manager_id
    return objective.level == ObjectiveLevel.company or objective.shared


def can_manage_objective(user, objective):
    """Edit an objective and its key results: its owner, their managers up the line, HR, admin."""
    return _staff(user) and (_is_hr(user) or user.id == objective.owner_id or user.is_manager_of(objective.owner))


def can_create_objective(user, level):
    """Company objectives: HR and admins (the general manager's are created for them by HR or
    by themself when they top the line); department/team: HR, admins and managers; person: any staff."""
    from kpiapp.models import ObjectiveLevel

    if not _staff(user):
        return False
    if level == ObjectiveLevel.person:
        return True
    if level == ObjectiveLevel.company:
        return _is_hr(user) or (user.manager_id is None and has_reports(user))
    return _is_hr(user) or has_reports(user)


def visible_objectives_filter(user):
    """A WHERE clause limiting an Objective query to can_view_objective's answer, in SQL."""
    from kpiapp.models import Objective, ObjectiveLevel

    if not _staff(user):
        return false()
    if _is_hr(user):
        return true()
    mine = in_line(Objective.owner_id, user)
    open_levels = (Objective.level == ObjectiveLevel.company) | (
        Objective.level.in_([ObjectiveLevel.department, ObjectiveLevel.team]) & Objective.shared)
    teammates = false()
    if user.manager_id is not None:
        teammates = (Objective.level == ObjectiveLevel.person) & Objective.shared & Objective.owner_id.in_(
            select(User.id).where(User.manager_id == user.manager_id))
    return mine | open_levels | teammates


def can_see_private_note(user, author):
    """A check-in's private note: its author, their managers up the line, HR and admins."""
    return _staff(user) and (_is_hr(user) or user.id == author.id or user.is_manager_of(author))


def can_work_task(user, task):
    """Move, edit and comment on a task: its assignee and creator, the assignee's managers, HR."""
    return _staff(user) and (_is_hr(user) or user.id in (task.assignee_id, task.creator_id)
                             or user.is_manager_of(task.assignee))


def visible_tasks_filter(user):
    """A WHERE clause limiting a Task query: HR all; else tasks assigned to or created by the
    user or assigned to someone below them."""
    from kpiapp.models import Task

    if not _staff(user):
        return false()
    if _is_hr(user):
        return true()
    return in_line(Task.assignee_id, user) | (Task.creator_id == user.id)


def task_parties(user, task):
    from kpiapp.objectives.task_flow import TaskParty

    return {TaskParty.WORKER} if can_work_task(user, task) else set()


def can_run_review(user, manager):
    """A team's weekly review: the manager of the team, their managers up the line, HR."""
    return _staff(user) and (_is_hr(user) or user.id == manager.id or user.is_manager_of(manager))


OBJECT_RULES["objective.view"] = can_view_objective
OBJECT_RULES["objective.manage"] = can_manage_objective
OBJECT_RULES["task.view"] = can_work_task
OBJECT_RULES["task.work"] = can_work_task
OBJECT_RULES["review.run"] = can_run_review


def can_assign_task(user, assignee):
    """Give a task to `assignee`: yourself or someone below you in the line; HR and admins
    anyone on staff. Clients and inactive people get none."""
    if not _staff(user) or assignee is None or not assignee.active or assignee.role == Role.client:
        return False
    return _is_hr(user) or assignee.id in line_ids(user)


def can_view_comment_target(user, kind, target):
    """Read and write comments on a target: whoever may see it (scorecard, KPI item, key result,
    task or dispute); a task's key result, KPI item or review for a task link alike."""
    from kpiapp.models import CommentTarget

    if not _staff(user) or target is None:
        return False
    views = {
        CommentTarget.scorecard: lambda: can_view_scorecard(user, target),
        CommentTarget.item: lambda: can_view_scorecard(user, target.scorecard),
        CommentTarget.key_result: lambda: can_view_objective(user, target.objective),
        CommentTarget.task: lambda: can_work_task(user, target),
        CommentTarget.dispute: lambda: can_view_dispute(user, target),
    }
    answer = views.get(kind)
    return bool(answer and answer())


OBJECT_RULES["task.assign"] = can_assign_task
