"""Client companies, their users and invitations (HR, admins, a contract's lead), and the
public page where an invited person sets up their account (/invite/<token>)."""
from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user

from kpiapp.auth import services as auth_services
from kpiapp.auth.session import start_session
from kpiapp.contracts import invites
from kpiapp.contracts.invites import companies_for
from kpiapp.extensions import db
from kpiapp.forms import focus_first_error
from kpiapp.models import ClientCompany, ClientInvite
from kpiapp.policy import PUBLIC, allow, authorize
from kpiapp.portal.forms import AcceptInviteForm, InviteForm

bp = Blueprint("clients", __name__)


@bp.route("/org/clients")
@allow("contracts.work")
def index():
    return render_template("portal/clients.html", companies=companies_for(current_user))


def company_page(company, form, token=None, status=200):
    return render_template("portal/client.html", company=company, form=form, token=token,
                           invite_link=token and url_for("clients.accept", token=token, _external=True),
                           users=invites.users_of(company), invites=invites.invites_of(company),
                           invite_status=invites.status), status


@bp.route("/org/clients/<int:company_id>", methods=["GET", "POST"])
@allow("contracts.work")
def company(company_id):
    company = authorize("client.invite", db.session.get(ClientCompany, company_id))
    form = InviteForm()
    if request.method == "GET" and not form.locale.data:
        form.locale.data = "en"
    if not form.validate_on_submit():
        return company_page(company, focus_first_error(form), status=422 if request.method == "POST" else 200)
    try:
        _invite, token = invites.create_invite(company, form.data, current_user,
                                               link_for=lambda t: url_for("clients.accept", token=t, _external=True))
    except invites.InviteError as error:
        getattr(form, error.field or "email").errors.append(str(error.message))
        return company_page(company, focus_first_error(form), status=422)
    db.session.commit()
    flash(_("Invitation created. Pass the link on to the person; it is shown only now."), "success")
    return company_page(company, InviteForm(formdata=None, locale="en"), token=token)


@bp.route("/org/clients/invites/<int:invite_id>/revoke", methods=["POST"])
@allow("contracts.work")
def revoke(invite_id):
    invite = db.session.get(ClientInvite, invite_id)
    authorize("client.invite", invite and invite.client_company)
    try:
        invites.revoke_invite(invite, current_user)
    except invites.InviteError as error:
        flash(str(error.message), "error")
    else:
        db.session.commit()
        flash(_("Invitation revoked."), "success")
    return redirect(url_for("clients.company", company_id=invite.client_company_id))


@bp.route("/invite/<token>", methods=["GET", "POST"])
@allow(PUBLIC)
def accept(token):
    invite = invites.find_open_invite(token)
    if invite is None:
        return render_template("portal/invite_invalid.html"), 404
    form = AcceptInviteForm()
    if request.method == "GET":
        form.name.data, form.locale.data = invite.name, invite.locale or "en"
    if not form.validate_on_submit():
        return accept_page(invite, form, 422 if request.method == "POST" else 200)
    try:
        user = invites.accept_invite(token, form.data)
    except invites.InviteError as error:
        if error.code == "not_open":
            db.session.rollback()
            return render_template("portal/invite_invalid.html"), 404
        getattr(form, error.field or "name").errors.append(str(error.message))
        return accept_page(invite, form, 422)
    auth_services.record_login(user, request.remote_addr, "invite")
    db.session.commit()
    start_session(user)
    flash(_("Welcome. Your account is ready; set up two-factor sign-in now."), "success")
    return redirect(url_for("auth.two_factor"))


def accept_page(invite, form, status):
    """In the language the inviter chose for the person, until they pick one themselves."""
    with force_locale(session.get("locale") or invite.locale or "en"):
        return render_template("portal/invite_accept.html", invite=invite, form=focus_first_error(form)), status

