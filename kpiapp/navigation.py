"""The main menu, in one place; each entry shows only to those its rule allows."""
from flask import g, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from kpiapp.policy import (can_view_team_dashboard, has_permission, has_reports, has_visible_store, rule_allows,
                           works_on_contracts)


class NavItem:
    def __init__(self, endpoint, label, rule, description="", group="mine", only_with_reports=False, when=None):
        self.endpoint, self.label, self.rule, self.description = endpoint, label, rule, description
        self.group, self.only_with_reports, self.when = group, only_with_reports, when


# the menu's sections, in order: one dropdown each (a section with one entry is a plain link)
GROUPS = {
    "mine": _l("Mine"),
    "dashboards": _l("Dashboards"),
    "appraisal": _l("Appraisal"),
    "org": _l("Organisation"),
    "data": _l("Data"),
    "system": _l("System"),
}
NAV = []


def add_nav(endpoint, label, rule, description="", group="mine", only_with_reports=False, when=None):
    """Blueprints register their menu entries; the menu shows what the policy allows.
    `when`, a policy function of the user, narrows an entry further than its route rule."""
    NAV.append(NavItem(endpoint, label, rule, description, group, only_with_reports, when))


def shown(item):
    return (rule_allows(current_user, item.rule) and (not item.only_with_reports or has_reports(current_user))
            and (item.when is None or item.when(current_user)))


def shown_entries():
    """Whether each entry of NAV shows to this user, kept per reader (id, role, active: what the
    rules read of them besides the data) in the menu's memo (kpiapp/dashboards/memo.py) while the
    data token is unchanged, so a page does not ask the menu's policy queries on every request.
    The token is read here unless the page read it first (the dashboards): the answers are never
    older than the token they are kept under."""
    if not getattr(current_user, "is_authenticated", False):
        return [shown(item) for item in NAV]
    from kpiapp.dashboards.memo import data_token, menu_memo, remember

    token = g.data_token if "data_token" in g else data_token()
    user = current_user
    return remember(token, ("menu", user.id, user.role, user.active),
                    lambda: tuple(shown(item) for item in NAV), menu_memo())


def nav_items():
    """The entries this user may open; the one whose address matches most of this page is active."""
    items = [{"url": url_for(item.endpoint), "label": item.label, "description": item.description,
              "group": item.group} for item, show in zip(NAV, shown_entries()) if show]
    matching = [i for i in items if request.path.startswith(i["url"])]
    current = max(matching, key=lambda i: len(i["url"]), default=None)
    for item in items:
        item["active"] = item is current
    return items


def nav_groups():
    """[{key, label, items, active}] for the header: the sections this user has entries in."""
    items = nav_items()
    groups = []
    for key, label in GROUPS.items():
        entries = [i for i in items if i["group"] == key]
        if entries:
            groups.append({"key": key, "label": label, "items": entries,
                           "active": any(i["active"] for i in entries)})
    return groups


def sees_company_dashboard(user):
    """The company figures, or at least one panel HR made public (asked once per request)."""
    from kpiapp import policy
    from kpiapp.dashboards.company import NAME, PANELS
    from kpiapp.dashboards.services import public_panels

    if policy.can_view_company_dashboard(user):
        return True
    if "company_public_panels" not in g:
        g.company_public_panels = public_panels(NAME)
    return bool(policy.company_panels_for(user, PANELS, g.company_public_panels))


def invites_clients(user):
    """HR, admins, and the lead of a contract (who invites its company's users)."""
    from kpiapp.contracts.invites import companies_for

    return bool(companies_for(user))


def register_menu():
    if NAV:
        return
    add_nav("inbox.index", _l("Inbox"), "staff", _l("What is waiting for you, and your notifications"))
    add_nav("scorecards.mine", _l("My scorecards"), "staff",
            _l("Your targets, progress, reviews and results"))
    add_nav("scorecards.team", _l("My team"), "team.view", _l("Scorecards of the people who report to you"),
            only_with_reports=True)
    add_nav("reports.index", _l("Reports"), "staff", _l("Signed PDF reports of locked scorecards"))
    add_nav("dashboards.company", _l("Company"), "staff",
            _l("Attainment, grades, KPI families, data freshness and per-head efficiency"),
            group="dashboards", when=sees_company_dashboard)
    add_nav("dashboards.stores", _l("Store dashboard"), "staff",
            _l("Each store's sales, traffic and ad figures over time, against its owners' targets"),
            group="dashboards", when=has_visible_store)
    add_nav("cycles.index", _l("Cycles"), "appraisal.manage",
            _l("Appraisal cycles: participants, deadlines, progress"), group="appraisal")
    add_nav("kpi_templates.index", _l("KPI templates"), "appraisal.manage",
            _l("KPI items, weights and scoring rules per position"), group="appraisal")
    add_nav("contracts.index", _l("Contracts"), "contracts.work",
            _l("Agency KPI contracts: terms, amendments and each period's report to the client"),
            group="appraisal", when=works_on_contracts)
    add_nav("disputes.queue", _l("Data disputes"), "disputes.handle",
            _l("Numbers people dispute: correct them or reject with a reason"), group="appraisal")
    add_nav("org.people", _l("People"), "people.manage", _l("Everyone, their manager, department and role"),
            group="org")
    add_nav("org.departments", _l("Departments"), "org.manage", _l("The department tree"), group="org")
    add_nav("org.positions", _l("Positions"), "org.manage", _l("Job titles that KPI templates attach to"),
            group="org")
    add_nav("org.stores", _l("Stores"), "stores.manage", _l("Marketplace accounts and who is responsible"),
            group="org")
    add_nav("connections.index", _l("Connections"), "connections.manage",
            _l("Marketplace API connections: last pull, data as of, errors"), group="data")
    add_nav("imports.index", _l("Imports"), "imports.run", _l("Upload marketplace reports and FX rates"),
            group="data")
    add_nav("metrics.dictionary", _l("Metrics"), "staff", _l("Metric definitions: formula, what is included"),
            group="data")
    add_nav("portal.index", _l("Our contracts"), "portal.use",
            _l("Your company's KPI contracts, their reports and amendments"))
    add_nav("clients.index", _l("Client companies"), "contracts.work",
            _l("Client users of the portal and their invitations"), group="org", when=invites_clients)
    # beside Reports (one section fewer in the header, which must fit one row at 1280 px)
    add_nav("reports.verify", _l("Verify a report"), "signed_in", _l("Check a signed PDF report"))
    add_nav("admin.audit", _l("Audit log"), "audit.read", _l("Every change, hash-chained"), group="system")
    add_nav("integrations.index", _l("Integrations"), "integrations.manage",
            _l("DingTalk, Feishu and WeCom channels, test sends, recent deliveries and failures"), group="system")
    add_nav("dashboards.person_me", _l("My progress"), "staff",
            _l("My items' pace against what is expected by now, projected score, last week's moves"),
            group="dashboards")
    add_nav("dashboards.team", _l("Team progress"), "staff",
            _l("Every report's projected score, items at risk first, stages and overdue steps"),
            group="dashboards", when=can_view_team_dashboard)
    add_nav("objectives.objective_index", _l("Objectives"), "staff",
            _l("Goals and key results from the company down to each person, and how they align"))
    add_nav("objectives.tasks_mine", _l("Tasks"), "staff",
            _l("My tasks and the team's task board: open work, due dates, checklists and comments"))
    add_nav("objectives.reviews_index", _l("Weekly review"), "staff",
            _l("Your team's week: numbers that moved, items at risk, tasks, disputes, notes and decisions"),
            when=runs_reviews)


def runs_reviews(user):
    """The weekly review is for managers (of anyone) and HR."""
    return has_reports(user) or has_permission(user, "appraisal.manage")


ROLE_LABELS = {"admin": _l("Admin"), "hr": _l("HR"), "employee": _l("Employee"), "client": _l("Outsourcing client")}


def role_label(role):
    return ROLE_LABELS.get(str(role), str(role))
