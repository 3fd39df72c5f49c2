"""Client users by invitation (docs/contracts.md, "Client users and the portal").

HR, admins or a contract's lead invite an e-mail for a client company. The link carries a
random token that is stored only as its SHA-256; it is good once, for 7 days, unless revoked.
Accepting it sets the name, language and password and creates the `client` user of that
company; the second factor is then mandatory (auth.mfa). Services flush, the view commits.
"""
import hashlib
import re
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from kpiapp.notifications.mail import queue_mail
from kpiapp.audit import record
from kpiapp.auth.passwords import hash_password, password_problems
from kpiapp.extensions import db
from kpiapp.i18n import N_, LabelledEnum
from kpiapp import policy
from kpiapp.models import ClientCompany, ClientInvite, Contract, Role, User
from kpiapp.models.base import utcnow

INVITE_DAYS = 7
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MESSAGES = {
    "bad_email": _l("Enter a valid e-mail address."),
    "email_taken": _l("This e-mail already belongs to an account."),
    "already_invited": _l("This e-mail already has an open invitation; revoke it first to send a new one."),
    "bad_locale": _l("Choose a language."),
    "name_required": _l("Enter a name."),
    "not_open": _l("This invitation can no longer be revoked."),
}


class InviteError(Exception):
    """A refused invite step: `code`, the form `field` it is about, a translatable message."""

    def __init__(self, code, field=None, message=None):
        super().__init__(code)
        self.code, self.field = code, field
        self.message = message or MESSAGES.get(code, code)


def hash_token(token):
    return hashlib.sha256((token or "").encode()).hexdigest()


class InviteStatus(LabelledEnum):
    OPEN = "open", N_("Waiting to be accepted")
    USED = "used", N_("Accepted")
    REVOKED = "revoked", N_("Revoked")
    EXPIRED = "expired", N_("Expired")


def status(invite, now=None):
    """Where an invitation stands (its InviteStatus)."""
    if invite.used_at is not None:
        return InviteStatus.USED
    if invite.revoked_at is not None:
        return InviteStatus.REVOKED
    return InviteStatus.EXPIRED if invite.expires_at <= (now or utcnow()) else InviteStatus.OPEN


def email_in_use(email):
    return db.session.scalar(select(func.count()).select_from(User)
                             .where(func.lower(User.email) == email.lower())) > 0


def open_invite_for(company, email):
    rows = db.session.scalars(select(ClientInvite).where(
        ClientInvite.client_company_id == company.id, func.lower(ClientInvite.email) == email.lower()))
    return next((i for i in rows if status(i) == "open"), None)


def check_invite_values(company, email, name, locale):
    if not EMAIL_RE.match(email) or len(email) > 254:
        raise InviteError("bad_email", "email")
    if email_in_use(email):
        raise InviteError("email_taken", "email")
    if open_invite_for(company, email) is not None:
        raise InviteError("already_invited", "email")
    if locale not in current_app.config["LANGUAGES"]:
        raise InviteError("bad_locale", "locale")
    if not name:
        raise InviteError("name_required", "name")


def create_invite(company, values, actor, link_for=None):
    """Invite `values["email"]` (with "name", "locale") to `company`; returns (invite, token).
    The token is shown once to the inviter and, when mail is configured, e-mailed through
    `link_for(token)` (the caller knows the site's address)."""
    email = (values.get("email") or "").strip()
    name = (values.get("name") or "").strip()[:120]
    locale = values.get("locale") or ""
    check_invite_values(company, email, name, locale)
    token = secrets.token_urlsafe(32)
    invite = ClientInvite(client_company_id=company.id, email=email, name=name, locale=locale,
                          token_hash=hash_token(token), expires_at=utcnow() + timedelta(days=INVITE_DAYS),
                          invited_by_id=actor.id)
    db.session.add(invite)
    db.session.flush()
    record(db.session, "client_invite.create", "client_invite", invite.id,
           after={"company_id": company.id, "email": email, "locale": locale})
    if link_for is not None:
        mail_invite(invite, company, link_for(token))
    return invite, token


def mail_invite(invite, company, link):
    """The invitation e-mail, in the invitee's language (sent only if SMTP is configured)."""
    with force_locale(invite.locale):
        subject = _("Your invitation to the KPI contract portal of %(org)s",
                    org=current_app.config["ORG_NAME"])
        body = _("Hello %(name)s,\n\n%(org)s invites you to review the KPI contract reports of %(company)s. "
                 "Open this link within %(days)d days to set your password (it works once):\n\n%(link)s\n",
                 name=invite.name, org=current_app.config["ORG_NAME"], company=company.name,
                 days=INVITE_DAYS, link=link)
    queue_mail(invite.email, subject, body)


def find_open_invite(token, lock=False):
    """The open invite this token belongs to, or None (unknown, used, revoked or expired alike)."""
    query = select(ClientInvite).where(ClientInvite.token_hash == hash_token(token))
    if lock:
        query = query.with_for_update()
    invite = db.session.scalar(query)
    return invite if invite is not None and status(invite) == "open" else None


def accept_invite(token, values):
    """Create the client user of the invite: `values` has "name", "locale", "password".
    Raises InviteError("not_open") when the link is no longer good."""
    invite = find_open_invite(token, lock=True)
    if invite is None:
        raise InviteError("not_open")
    name = (values.get("name") or "").strip()[:120]
    check_account_values(invite, name, values.get("locale") or "", values.get("password") or "")
    user = User(email=invite.email, name=name, role=Role.client, locale=values["locale"],
                client_company_id=invite.client_company_id, password_hash=hash_password(values["password"]))
    db.session.add(user)
    db.session.flush()
    invite.used_at, invite.user_id = utcnow(), user.id
    record(db.session, "client_invite.accept", "client_invite", invite.id,
           after={"user_id": user.id, "email": user.email})
    return user


def check_account_values(invite, name, locale, password):
    if not name:
        raise InviteError("name_required", "name")
    if locale not in current_app.config["LANGUAGES"]:
        raise InviteError("bad_locale", "locale")
    problems = password_problems(password, email=invite.email, name=name)
    if problems:
        raise InviteError("weak_password", "password", " ".join(str(p) for p in problems))
    if email_in_use(invite.email):
        raise InviteError("email_taken", "name")


def revoke_invite(invite, actor):
    if status(invite) != "open":
        raise InviteError("not_open")
    invite.revoked_at = utcnow()
    record(db.session, "client_invite.revoke", "client_invite", invite.id, after={"by": actor.id})


def invites_of(company):
    """The company's invitations, newest first."""
    return list(db.session.scalars(select(ClientInvite).where(ClientInvite.client_company_id == company.id)
                                   .order_by(ClientInvite.created_at.desc(), ClientInvite.id.desc())))


def users_of(company):
    return list(db.session.scalars(select(User).where(User.client_company_id == company.id,
                                                      User.role == Role.client).order_by(User.name)))


def companies_for(user):
    """The client companies `user` may invite for: all for HR/admin, else those of contracts they lead."""
    query = select(ClientCompany).order_by(ClientCompany.name)
    if not policy.has_permission(user, "people.manage"):
        query = query.where(ClientCompany.id.in_(select(Contract.client_company_id)
                                                 .where(Contract.lead_id == user.id)))
    return list(db.session.scalars(query))
