"""Issue 10, audit log: an event's before/after is listed cut to SHOWN_JSON characters, with a
link to the event alone, where it is shown whole; short ones are listed as they are."""
import re

from markupsafe import escape
from sqlalchemy import select

from kpiapp.admin.routes import SHOWN_JSON
from kpiapp.audit import SYSTEM, Actor, record
from kpiapp.extensions import db
from kpiapp.models import AuditEvent
from tests.appraisal.factories import AdminFactory


def add_events():
    long = {"items": [{"id": n, "actual": "12.50"} for n in range(200)]}
    record(db.session, "scorecard_item.recompute", "cycle", "7", after=long)
    record(db.session, "user.rename", "user", "8", before={"name": "Old"}, after={"name": "New"})
    db.session.commit()
    return db.session.execute(select(AuditEvent.after_json).where(
        AuditEvent.action == "scorecard_item.recompute")).scalar_one()


def shown(text):
    return str(escape(text))  # as Jinja escapes it


def test_a_long_event_is_cut_in_the_list_and_whole_on_its_own(browser):
    whole = add_events()
    admin = browser(AdminFactory())
    listed = admin.get("/admin/audit").get_data(as_text=True)
    assert len(whole) > SHOWN_JSON + 40
    assert shown(whole[:SHOWN_JSON]) in listed and shown(whole[:SHOWN_JSON + 40]) not in listed
    assert f"({len(whole)} characters)" in listed
    short = db.session.execute(select(AuditEvent.after_json).where(AuditEvent.action == "user.rename")).scalar_one()
    assert shown(short) in listed
    link = re.search(rf'<a href="(/admin/audit\?seq=\d+)">[^<]*\({len(whole)} characters\)', listed).group(1)
    alone = admin.get(link).get_data(as_text=True)
    assert shown(whole) in alone
    assert "characters)" not in alone and alone.count("<tr><td>") == 1


def test_the_list_fragment_cuts_the_same(browser):
    whole = add_events()
    fragment = browser(AdminFactory()).get("/admin/audit", htmx=True).get_data(as_text=True)
    assert f"({len(whole)} characters)" in fragment and shown(whole) not in fragment



def test_system_and_anonymous_actors_are_named_in_the_readers_language(browser):
    record(db.session, "cycle.start", "cycle", "7", actor=SYSTEM)
    record(db.session, "auth.login_failed", "user", "8", actor=Actor(None, "anonymous", "127.0.0.1"))
    db.session.commit()
    listed = browser(AdminFactory(locale="zh_CN")).get("/admin/audit").get_data(as_text=True)
    actors = re.findall(r"<tr><td>\d+</td><td>[^<]*</td><td>([^<]*)", listed)
    assert "系统" in actors and "匿名" in actors
    assert "system" not in actors and "anonymous" not in actors
