"""In-app notifications for the contract report steps (docs/contracts.md): sent -> the client
company's users; disputed and accepted -> the contract's lead and account team.

Stored as a message key and params (appraisal/notifications.MESSAGES), rendered when read in
the reader's language; e-mail goes out as for scorecards when MAIL_SERVER is configured.
"""
from sqlalchemy import select

from kpiapp.appraisal import notifications as base
from kpiapp.extensions import db
from kpiapp.models import Notification, Role, User


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
    for user in users:
        note = Notification(user_id=user.id, kind=key, key=key, params=params)
        db.session.add(note)
        if base.mail_configured() and user.email:
            body = base.text(note, base.reader_locale(user))
            base.queue_mail(user.email, f"[kpiapp] {body}", body)


def report_sent(report):
    notify(client_users(report.contract), report, "contract_report.sent")


def report_disputed(report, event):
    clause = event.clause.name if event.clause is not None else ""
    notify(account_team(report.contract), report, "contract_report.disputed",
           clause=clause, comment=event.comment or "")


def report_accepted(report, event):
    notify(account_team(report.contract), report, "contract_report.accepted",
           account=event.actor_account or "")
