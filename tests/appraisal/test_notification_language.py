"""Notifications keep a message key and params and are worded when read, in the reader's language."""
import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from kpiapp.appraisal import notifications, services
from kpiapp.appraisal.workflow import Action
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from kpiapp.models import JobRun, Notification
from kpiapp.notifications import delivery, mail
from tests.appraisal.factories import make_team, metric_item, walk_to
from tests.conftest import migration_module
from tests.helpers import signed_in_client


def submitted(team):
    person = team.people[0]
    card = team.card(person)
    services.update_items(card, person, {metric_item(card).id: {"target": "105000"}})
    services.apply_action(card.id, Action.SUBMIT, person)
    db.session.commit()
    return person, card


def sent_to(user):
    return db.session.query(Notification).filter_by(user_id=user.id).order_by(Notification.id.desc()).first()


@pytest.mark.rollback
def test_a_notification_stores_its_key_and_reads_in_either_language(app):
    team = make_team(size=1)
    person, _card = submitted(team)
    note = sent_to(team.manager)
    assert (note.key, note.params) == ("scorecard.submitted", {"cycle": "2026 Q4", "person": person.name})
    assert note.message is None
    assert notifications.text(note, "zh_CN") == f"{person.name} 提交了 2026 Q4 的考核目标：请批准或退回。"
    assert notifications.text(note, "en") == (f"{person.name} submitted targets for 2026 Q4: "
                                              "please approve or return them.")


@pytest.mark.rollback
def test_the_inbox_shows_notifications_in_the_readers_language(app, login):
    team = make_team(size=1)
    person, _card = submitted(team)
    team.manager.locale = "zh_CN"
    db.session.commit()
    page = login(team.manager).get("/inbox/").get_data(as_text=True)
    assert "提交了 2026 Q4 的考核目标" in page and "submitted targets" not in page
    team.manager.locale = "en"
    db.session.commit()
    assert "submitted targets for 2026 Q4" in signed_in_client(app, team.manager).get("/inbox/").get_data(as_text=True)


@pytest.mark.rollback
def test_a_change_request_reads_in_chinese(app):
    team = make_team(size=1)
    person = team.people[0]
    card = walk_to(team, person, S.APPROVED)
    services.request_change(card, person, {metric_item(card).id: {"target": "90000"}}, reason="缺货两周")
    note = sent_to(team.manager)
    assert (note.key, note.params["reason"]) == ("change_requested", "缺货两周")
    assert notifications.text(note, "zh_CN") == f"{person.name} 申请修改 {person.name} 的考核目标：缺货两周"


@pytest.mark.rollback
def test_mail_goes_out_in_the_recipients_language(app, monkeypatch):
    app.config["MAIL_SERVER"] = "mail.invalid"
    sent, launched = {}, []
    monkeypatch.setattr(mail, "send_mail", lambda to, subject, body: sent.setdefault(to, body))
    monkeypatch.setattr(delivery, "launch", launched.extend)  # the deliveries' jobs, run below
    team = make_team(size=1)
    team.manager.locale = "zh_CN"
    team.people[0].locale = "en"
    person, card = submitted(team)
    run_launched(launched)
    link = f"http://127.0.0.1:5000/scorecards/{card.id}"
    assert sent[team.manager.email] == f"{person.name} 提交了 2026 Q4 的考核目标：请批准或退回。 → {link}\n"
    sent.clear()
    services.apply_action(card.id, Action.RETURN_, team.manager, reason="Too low")
    db.session.commit()
    run_launched(launched)
    assert sent[person.email] == f"Your targets for 2026 Q4 were returned: please revise and resubmit. → {link}\n"


def run_launched(run_ids):
    for run_id in run_ids:
        delivery.attempt(db.session.get(JobRun, run_id).subject_id)
    run_ids.clear()


@pytest.mark.rollback  # reads nothing from the database
def test_an_unknown_key_shows_the_stored_text(app):
    note = Notification(key="no.such.message", params={}, message="Old English text.")
    assert notifications.text(note, "zh_CN") == "Old English text."


@pytest.mark.rollback  # pure: no database of its own
def test_the_migration_reads_old_texts_back_into_keys():
    key_and_params = migration_module("0011_notification_key_params.py").key_and_params
    names = {"cycle": "2026 Q4", "person": "Li Lei"}
    assert key_and_params("Li Lei's scorecard for 2026 Q4 is ready for your review.", names) == (
        "scorecard.manager_review", names)
    assert key_and_params("Ann asks to change targets of Li Lei: stock: out", names) == (
        "change_requested", {**names, "actor": "Ann", "reason": "stock: out"})
    assert key_and_params("Something else entirely.", names) == (None, None)
    assert key_and_params("Bob's scorecard for 2026 Q4 is ready for your review.", names) == (None, None)


def test_upgrading_keeps_old_notifications(app):
    """Rows written before 0011 get a key where their text is known and keep their text otherwise."""
    team = make_team(size=1)
    name, card_id, manager_id = team.people[0].name, team.card(team.people[0]).id, team.manager.id
    db.session.remove()  # the migration needs the database to itself
    downgrade(revision="0009")
    with db.engine.begin() as connection:
        for message in (f"{name}'s scorecard for 2026 Q4 is ready for your review.", "A custom note."):
            connection.execute(text("INSERT INTO notification (user_id, scorecard_id, kind, message) "
                                    "VALUES (:user, :card, 'reminder', :message)"),
                               {"user": manager_id, "card": card_id, "message": message})
    upgrade()
    rows = db.session.query(Notification).filter_by(kind="reminder").order_by(Notification.id).all()
    assert [(n.key, n.params) for n in rows] == [
        ("scorecard.manager_review", {"cycle": "2026 Q4", "person": name}), (None, None)]
    assert [notifications.text(n, "zh_CN") for n in rows] == [
        f"{name} 在 2026 Q4 的考核表待你评审。", "A custom note."]
