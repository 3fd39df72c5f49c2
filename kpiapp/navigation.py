"""The main menu, in one place; each entry shows only to those its rule allows."""
from flask import request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from kpiapp.policy import rule_allows


class NavItem:
    def __init__(self, endpoint, label, rule, description=""):
        self.endpoint, self.label, self.rule, self.description = endpoint, label, rule, description


NAV = []


def add_nav(endpoint, label, rule, description=""):
    """Blueprints register their menu entries; the menu shows what the policy allows."""
    NAV.append(NavItem(endpoint, label, rule, description))


def nav_items():
    items = []
    for item in NAV:
        if rule_allows(current_user, item.rule):
            url = url_for(item.endpoint)
            items.append({"url": url, "label": item.label, "description": item.description,
                          "active": request.path.startswith(url)})
    return items


def register_menu():
    if NAV:
        return
    add_nav("inbox.index", _l("Inbox"), "staff", _l("What is waiting for you, and your notifications"))
    add_nav("scorecards.mine", _l("My scorecards"), "staff",
            _l("Your targets, progress, reviews and results"))
    add_nav("scorecards.team", _l("My team"), "team.view", _l("Scorecards of the people who report to you"))
    add_nav("kpi_templates.index", _l("KPI templates"), "appraisal.manage",
            _l("KPI items, weights and scoring rules per position"))
    add_nav("cycles.index", _l("Cycles"), "appraisal.manage",
            _l("Appraisal cycles: participants, deadlines, progress"))
    add_nav("org.people", _l("People"), "people.manage", _l("Everyone, their manager, department and role"))
    add_nav("org.departments", _l("Departments"), "org.manage", _l("The department tree"))
    add_nav("org.positions", _l("Positions"), "org.manage", _l("Job titles that KPI templates attach to"))
    add_nav("org.stores", _l("Stores"), "stores.manage", _l("Marketplace accounts and who is responsible"))
    add_nav("imports.index", _l("Imports"), "imports.run", _l("Upload marketplace reports and FX rates"))
    add_nav("metrics.dictionary", _l("Metrics"), "staff", _l("Metric definitions: formula, what is included"))
    add_nav("reports.index", _l("Reports"), "staff", _l("Signed PDF reports of locked scorecards"))
    add_nav("reports.verify", _l("Verify a report"), "signed_in", _l("Check a signed PDF report"))
    add_nav("admin.audit", _l("Audit log"), "audit.read", _l("Every change, hash-chained"))


ROLE_LABELS = {"admin": _l("Admin"), "hr": _l("HR"), "employee": _l("Employee"), "client": _l("Outsourcing client")}


def role_label(role):
    return ROLE_LABELS.get(str(role), str(role))
