"""Client users by invitation: HR or a contract's lead invites, the link works once for
7 days, the token is kept only as its hash, and the new client goes on to 2FA enrolment."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from kpiapp.contracts import invites
from kpiapp.extensions import db
from kpiapp.models import AuditEvent, ClientInvite, Role, User
from kpiapp.models.base import utcnow
from tests.contracts.factories import make_contract
from tests.factories import ClientCompanyFactory, UserFactory

NEW_PASSWORD = "amber lantern over quiet harbour"
LINK_RE = re.compile(r'value="(http://[^"]+/invite/([^"]+))"')


def invite(browser, user, company, email="buyer@nordic.example", locale="en"):
    response = browser(user).post(f"/org/clients/{company.id}",
                                  data={"email": email, "name": "Anna Berg", "locale": locale})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    match = LINK_RE.search(response.get_data(as_text=True))
    assert match, "the invitation link is shown once"
    return match.group(2)


def accept(client, token, **data):
    from tests.helpers import csrf_token

    page = client.get(f"/invite/{token}")
    form = {"name": "Anna Berg", "locale": "zh_CN", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
            "csrf_token": csrf_token(client, f"/invite/{token}") if page.status_code == 200 else "", **data}
    return client.post(f"/invite/{token}", data=form)


def test_hr_invites_and_the_client_sets_up_the_account(app, browser, client):
    setup = make_contract()
    token = invite(browser, setup.hr, setup.company)
    stored = db.session.scalar(select(ClientInvite))
    assert stored.token_hash == invites.hash_token(token) and token not in stored.token_hash
    assert stored.expires_at - utcnow() > timedelta(days=6, hours=23)
    response = accept(client, token)
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/two-factor")
    user = db.session.scalar(select(User).where(User.email == "buyer@nordic.example"))
    assert user.role == Role.client and user.client_company_id == setup.company.id and user.locale == "zh_CN"
    assert client.get("/").headers["Location"].endswith("/portal/")
    assert client.get("/portal/").status_code == 200
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"client_invite.create", "client_invite.accept"} <= actions


def test_the_link_works_once(app, browser, client):
    setup = make_contract()
    token = invite(browser, setup.hr, setup.company)
    assert accept(client, token).status_code == 302
    other = app.test_client()
    page = other.get(f"/invite/{token}")
    assert page.status_code == 404 and "Anna" not in page.get_data(as_text=True)
    assert db.session.query(User).filter_by(email="buyer@nordic.example").count() == 1


@pytest.mark.parametrize("how", ["expired", "revoked", "unknown"])
def test_a_dead_link_reveals_nothing(app, browser, client, how):
    setup = make_contract()
    token = invite(browser, setup.hr, setup.company)
    stored = db.session.scalar(select(ClientInvite))
    if how == "expired":
        stored.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    elif how == "revoked":
        hr = browser(setup.hr)
        assert hr.post(f"/org/clients/invites/{stored.id}/revoke").status_code == 302
    else:
        token = token[:-2] + "xx"
    page = client.get(f"/invite/{token}")
    body = page.get_data(as_text=True)
    assert page.status_code == 404 and setup.company.name not in body and "buyer@" not in body
    assert client.post(f"/invite/{token}", data={"name": "x"}).status_code in (400, 404)


def test_a_weak_password_is_refused_and_the_form_keeps_the_name(app, browser, client):
    setup = make_contract()
    token = invite(browser, setup.hr, setup.company)
    response = accept(client, token, password="password", confirm="password", name="Anna B.")
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and 'value="Anna B."' in body
    assert db.session.query(User).filter_by(email="buyer@nordic.example").count() == 0


def test_an_email_with_an_account_or_an_open_invite_is_refused(app, browser):
    setup = make_contract()
    hr = browser(setup.hr)
    taken = hr.post(f"/org/clients/{setup.company.id}", data={"email": setup.lead.email, "name": "X", "locale": "en"})
    assert taken.status_code == 422 and setup.lead.email in taken.get_data(as_text=True)
    invite(browser, setup.hr, setup.company)
    again = hr.post(f"/org/clients/{setup.company.id}",
                    data={"email": "buyer@nordic.example", "name": "Anna", "locale": "en"})
    assert again.status_code == 422 and db.session.query(ClientInvite).count() == 1


def test_the_lead_invites_for_their_contracts_company_only(app, browser):
    setup = make_contract()
    other = ClientCompanyFactory()
    lead = browser(setup.lead)
    assert lead.get(f"/org/clients/{setup.company.id}").status_code == 200
    assert lead.get(f"/org/clients/{other.id}").status_code == 404
    listing = lead.get("/org/clients").get_data(as_text=True)
    assert setup.company.name in listing and other.name not in listing
    invite(browser, setup.lead, setup.company)
    member = browser(setup.member)
    assert member.get(f"/org/clients/{setup.company.id}").status_code == 404
    assert browser(UserFactory()).get("/org/clients").status_code == 403


def test_the_invitation_mail_goes_out_in_the_invitees_language(app, browser, monkeypatch):
    setup = make_contract()
    app.config["MAIL_SERVER"] = "smtp.invalid"
    sent = []
    monkeypatch.setattr("kpiapp.contracts.invites.queue_mail", lambda to, subject, body: sent.append((to, body)))
    token = invite(browser, setup.hr, setup.company, locale="zh_CN")
    assert sent and sent[0][0] == "buyer@nordic.example" and f"/invite/{token}" in sent[0][1]
    assert "邀请您审阅" in sent[0][1]


def test_the_new_client_must_enrol_two_factor_before_the_portal(app, browser, client):
    setup = make_contract()
    token = invite(browser, setup.hr, setup.company)
    app.config["MFA_REQUIRED_FOR_PRIVILEGED"] = True
    assert accept(client, token).headers["Location"].endswith("/account/two-factor")
    assert client.get("/portal/").headers["Location"].endswith("/account/two-factor")
    assert client.get("/account/two-factor").status_code == 200


def test_the_invitation_page_speaks_the_invitees_language(app, browser, client):
    setup = make_contract()
    token = invite(browser, setup.hr, setup.company, locale="zh_CN")
    page = client.get(f"/invite/{token}").get_data(as_text=True)
    assert "设置您的账号" in page and "Set up your account" not in page
