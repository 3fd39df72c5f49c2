"""The integrations page (admin) and the preferences page (everyone): who may open them, secrets
never rendered back nor in the audit log, test sends showing as deliveries, preferences saved."""
import pytest

from kpiapp.extensions import db
from kpiapp.models import AuditEvent, Channel, DeliveryStatus, Digest, ImChannel, NotificationDelivery, Role
from kpiapp.notifications import delivery, services
from tests.factories import UserFactory
from tests.helpers import post_form, signed_in_client

SECRET = "SEC-do-not-show-9f3a"
TOKEN = "tok-do-not-show-77c1"


@pytest.fixture
def launched(monkeypatch):
    run_ids = []
    monkeypatch.setattr(delivery, "launch", run_ids.extend)
    return run_ids


def admin():
    user = UserFactory(role=Role.admin, locale="en")
    db.session.commit()
    return user


def add_robot(client):
    return post_form(client, "/admin/integrations/new", {
        "platform": "dingtalk", "mode": "robot", "name": "Ops group",
        "webhook_url": f"https://oapi.dingtalk.com/robot/send?access_token={TOKEN}", "secret": SECRET,
        "enabled": "y"}, page="/admin/integrations/new")


def test_only_admins_open_the_integrations_page(app):
    employee = UserFactory(role=Role.employee)
    hr = UserFactory(role=Role.hr)
    db.session.commit()
    assert signed_in_client(app, employee).get("/admin/integrations").status_code in (403, 404)
    assert signed_in_client(app, hr).get("/admin/integrations").status_code in (403, 404)
    assert signed_in_client(app, admin()).get("/admin/integrations").status_code == 200


def test_secrets_are_sealed_never_shown_and_masked_in_the_audit(app):
    client = signed_in_client(app, admin())
    assert add_robot(client).status_code == 302
    channel = db.session.query(ImChannel).one()
    assert (channel.webhook_url, channel.secret) == (f"https://oapi.dingtalk.com/robot/send?access_token={TOKEN}",
                                                     SECRET)
    stored = db.session.execute(db.text("SELECT webhook_url, secret FROM im_channel")).one()
    assert TOKEN not in stored[0] and SECRET not in stored[1]  # ciphertext at rest
    for page in ("/admin/integrations", f"/admin/integrations/{channel.id}/edit"):
        html = client.get(page).get_data(as_text=True)
        assert TOKEN not in html and SECRET not in html
        assert "oapi.dingtalk.com" in html or page.endswith("edit")
    audit_text = " ".join(str(e.before_json) + str(e.after_json) for e in db.session.query(AuditEvent))
    assert TOKEN not in audit_text and SECRET not in audit_text and "***" in audit_text


def test_an_empty_secret_on_edit_keeps_the_stored_one(app):
    client = signed_in_client(app, admin())
    add_robot(client)
    channel = db.session.query(ImChannel).one()
    page = f"/admin/integrations/{channel.id}/edit"
    response = post_form(client, page, {"platform": "dingtalk", "mode": "robot", "name": "Renamed",
                                        "webhook_url": "", "secret": "", "enabled": "y"}, page=page)
    assert response.status_code == 302
    db.session.expire_all()
    assert (channel.name, channel.secret) == ("Renamed", SECRET)


def test_a_robot_without_webhook_is_refused(app):
    client = signed_in_client(app, admin())
    response = post_form(client, "/admin/integrations/new", {"platform": "wecom", "mode": "robot", "name": "x"},
                         page="/admin/integrations/new")
    assert response.status_code == 200 and "A group robot needs its webhook URL." in response.get_data(as_text=True)
    assert db.session.query(ImChannel).count() == 0


def test_test_send_creates_a_delivery_shown_with_its_failure(app, launched):
    user = admin()
    client = signed_in_client(app, user)
    app.config["WECOM_WEBHOOK_URL"] = "http://127.0.0.1:9/cgi-bin/webhook/send?key=" + TOKEN
    response = post_form(client, "/admin/integrations/test", {"platform": "wecom"}, page="/admin/integrations")
    assert response.status_code == 302
    row = db.session.query(NotificationDelivery).one()
    assert (row.channel, row.purpose, row.user_id) == (Channel.wecom, "test", user.id)
    app.config["NOTIFY_MAX_ATTEMPTS"] = 1
    delivery.attempt(row.id)
    assert row.status == DeliveryStatus.failed
    html = client.get("/admin/integrations").get_data(as_text=True)
    assert "kpiapp test message" in html and "connection failed" in html and TOKEN not in html


def test_preferences_page_saves_channels_and_digest_for_oneself(app):
    person = UserFactory(locale="zh_CN")
    db.session.commit()
    client = signed_in_client(app, person)
    html = client.get("/settings/notifications").get_data(as_text=True)
    assert "通知设置" in html and "Notification settings" not in html
    response = post_form(client, "/settings/notifications", {"task.assigned:wecom": "on", "other:email": "on",
                                                             "digest": "weekly"}, page="/settings/notifications")
    assert response.status_code == 302
    assert services.channels_for(person, "task.assigned") == {Channel.wecom}
    assert services.channels_for(person, "comment.mention") == set()  # its row saved with no box ticked
    assert services.channels_for(person, "something.new") == {Channel.email}  # "everything else"
    assert services.digest_of(person) == Digest.weekly
