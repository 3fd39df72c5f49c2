"""In-app notifications for the contract report steps (docs/contracts.md): sent -> the client
company's users; disputed and accepted -> the contract's lead and account team.

Sent through the one notification layer (kpiapp/notifications): a message key and params
rendered in the reader's language, in-app and on the channels each person chose.
"""
from sqlalchemy import select

from kpiapp.extensions import db
from kpiapp.models import Role, User
from kpiapp.notifications import services


def client_users(contract):
    return db.session.execute(select(User).where(
        User.role == Role.client, User.active.is_(True), User.client_company_id == contract.client_company_id)
        .order_by(User.id)).scalars().all()


def account_team(contract):
    ids = contract.team_ids
    if not ids:
        return []
    return db.session.execute(select(User).where(User.id.in_(ids), User.active.is_(True))
                              .order_by(User.id)).scalars().all()


def _params(report, **extra):
    contract = report.contract
    return {"contract": contract.code, "title": contract.title,
            "period": report.period_start.isoformat()[:7], "revision": report.revision,
            "report_id": report.id, **extra}


def notify(users, report, key, **extra):
    params = _params(report, **extra)
    return services.notify(users, key, key, link=report_link(users, report), **params)


def report_link(users, report):
    """Clients read the report in the portal; the account team on the contract's pages."""
    if users and all(user.role == Role.client for user in users):
        return f"/portal/reports/{report.id}"
    return f"/contracts/{report.contract_id}/reports/{report.id}"


def report_sent(report):
    notify(client_users(report.contract), report, "contract_report.sent")


def report_disputed(report, event):
    clause = event.clause.name if event.clause is not None else ""
    notify(account_team(report.contract), report, "contract_report.disputed",
           clause=clause, comment=event.comment or "")


def report_accepted(report, event):
    notify(account_team(report.contract), report, "contract_report.accepted",
           account=event.actor_account or "")
