"""Whole pages kept (kpiapp/web/kept_pages.py), the list pages and the dashboards: a repeat request
is served from the page memo and equals the page built afresh, with this session's own CSRF token;
readers, query strings, fragments, flashes and the day never share an entry; a write to a tracked
table, and to the untracked tables a page names (audit log, notifications, reminder log), shows on
the next request.

Real commits (rollback(False)): the token changes at COMMIT on PostgreSQL."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import event

from kpiapp.appraisal import notifications
from kpiapp.auth.services import record_login
from kpiapp.connectors import services as connector_services
from kpiapp.dbtriggers import UNTRACKED
from kpiapp.extensions import db
from kpiapp.models import ReminderLog
from kpiapp.models.reminders import ReminderKind
from kpiapp.web import kept_pages
from kpiapp.web.kept_pages import page_memo
from tests.appraisal.factories import S, walk_to
from tests.factories import StoreFactory
from tests.helpers import csrf_from
from tests.web.test_dashboard_memo import SIGNED
from tests.web.test_page_queries import add_reports

pytestmark = pytest.mark.rollback(False)


def pages(team):
    """{name: (reader, path)} of every kept page (test_every_kept_view_is_listed_here checks)."""
    cycle = team.cycle.id
    return {"cycles.calibration": (team.hr, f"/cycles/{cycle}/calibration"),
            "cycles.detail": (team.hr, f"/cycles/{cycle}"),
            "cycles.health": (team.hr, f"/cycles/{cycle}/health"),
            "scorecards.team": (team.manager, "/scorecards/team"),
            "inbox.index": (team.people[0], "/inbox/"),
            "imports.index": (team.hr, "/imports/"),
            "org.people": (team.hr, "/org/people"),
            "admin.audit": (team.admin, "/admin/audit"),
            "reports.index": (team.hr, "/reports/"),
            "dashboards.company": (team.hr, f"/dashboards/company?cycle={cycle}"),
            "dashboards.company_stores": (team.hr, f"/dashboards/company/stores?cycle={cycle}"),
            "dashboards.stores": (team.hr, f"/dashboards/stores?cycle={cycle}"),
            "dashboards.team": (team.manager, f"/dashboards/team?cycle={cycle}"),
            "dashboards.person_me": (team.people[0], f"/dashboards/person?cycle={cycle}"),
            "dashboards.person": (team.manager, f"/dashboards/person/{team.people[0].id}?cycle={cycle}")}


@pytest.fixture
def kept(team):
    walk_to(team, team.people[0], S.CALIBRATION)
    walk_to(team, team.people[1], S.SUBMITTED)
    page_memo().clear()
    return team


def served(client, path, htmx=False):
    """(the page with CSRF tokens blanked, whether the page memo served it)."""
    hits = page_memo().hits
    response = client.get(path, htmx=htmx)
    assert response.status_code == 200, (path, response.status_code)
    return SIGNED.sub("(csrf)", response.get_data(as_text=True)), page_memo().hits > hits


def built_fresh(client, path):
    page_memo().clear()
    return served(client, path)[0]


def test_a_repeat_request_is_kept_and_equals_a_build(kept, browser):
    for name, (reader, path) in pages(kept).items():
        client = browser(reader)
        first, from_memo = served(client, path)
        assert not from_memo, name
        again, from_memo = served(client, path)
        assert from_memo and again == first, name
        assert built_fresh(client, path) == again, name


def test_a_kept_page_carries_this_sessions_csrf_token(kept, browser):
    path = f"/cycles/{kept.cycle.id}"
    first, second = browser(kept.hr), browser(kept.hr)  # two sessions of one reader
    first.page(path)
    page = second.page(path)
    assert served(second, path)[1]
    token = csrf_from(page)
    assert token != csrf_from(first.page(path))
    assert SIGNED.findall(page) and all(t == token for t in set(SIGNED.findall(page)))
    assert '"X-CSRFToken": "%s"' % token in page
    # the kept page's token is accepted by this session's forms
    switched = second.client.post("/language", data={"csrf_token": token, "locale": "zh_CN", "back": path})
    assert switched.status_code == 302


def test_readers_never_share_a_page(kept, browser):
    amy, zed = kept.people[:2]
    notifications.notify([amy], kept.card(amy), "reminder", "scorecard.draft")
    db.session.commit()
    hers = served(browser(amy), "/inbox/")[0]
    his, from_memo = served(browser(zed), "/inbox/")
    assert not from_memo and his != hers
    boss = browser(kept.boss)
    theirs, from_memo = served(boss, "/scorecards/team")
    assert not from_memo and theirs != served(browser(kept.manager), "/scorecards/team")[0]
    assert served(boss, "/scorecards/team") == (theirs, True)


def test_the_query_string_the_fragment_and_the_language_are_in_the_key(kept, browser):
    hr = browser(kept.hr)
    whole = served(hr, "/org/people")[0]
    name = kept.people[2].name
    found, from_memo = served(hr, "/org/people?q=" + name)
    assert not from_memo and name in found and kept.people[0].name not in found
    fragment, from_memo = served(hr, "/org/people", htmx=True)
    assert not from_memo and "<html" not in fragment and "<html" in whole
    with hr.client.session_transaction() as session:
        session["locale"] = "zh_CN"
    chinese, from_memo = served(hr, "/org/people")
    assert not from_memo and chinese != whole
    assert served(hr, "/org/people") == (chinese, True)


def test_a_tracked_write_shows_on_the_next_request(kept, browser):
    hr = browser(kept.hr)
    person = kept.people[0]
    for path in ("/org/people", f"/cycles/{kept.cycle.id}/calibration", f"/cycles/{kept.cycle.id}"):
        served(hr, path)
        assert served(hr, path)[1], path
    person.name = "Renamed Person"
    db.session.commit()
    for path in ("/org/people", f"/cycles/{kept.cycle.id}/calibration"):
        page, from_memo = served(hr, path)
        assert not from_memo and "Renamed Person" in page, path


def test_an_issued_report_shows_on_the_reports_list(kept, browser):
    hr, person = browser(kept.hr), kept.people[0]
    served(hr, "/reports/")
    assert served(hr, "/reports/")[1]
    add_reports([kept.card(person)], kept.cycle, kept.hr, "kept")
    page, from_memo = served(hr, "/reports/")
    assert not from_memo and f"doc-kept-{kept.card(person).id}" in page


def test_a_sign_in_shows_on_the_audit_log_though_the_token_stays(kept, browser):
    """A login writes only untracked columns and the audit log: the page's own version moves."""
    admin = browser(kept.admin)
    served(admin, "/admin/audit")
    assert served(admin, "/admin/audit")[1]
    hits = page_memo().hits
    record_login(kept.people[2], "203.0.113.9", "password")
    db.session.commit()
    page, from_memo = served(admin, "/admin/audit")
    assert not from_memo and page_memo().hits == hits and "203.0.113.9" in page


def test_a_notification_and_its_reading_show_in_the_inbox(kept, browser):
    amy = kept.people[0]
    client = browser(amy)
    served(client, "/inbox/")
    before, from_memo = served(client, "/inbox/")
    assert from_memo
    [sent] = notifications.notify([amy], kept.card(amy), "reminder", "scorecard.draft")
    db.session.commit()
    page, from_memo = served(client, "/inbox/")
    assert not from_memo and f'value="{sent.id}"' in page and f'value="{sent.id}"' not in before
    assert served(client, "/inbox/")[1]
    notifications.mark_read(amy, [sent.id])
    db.session.commit()
    page, _from_memo = served(client, "/inbox/")  # the unread set is the first request's again
    assert f'value="{sent.id}"' not in page and page == before


def test_a_reminder_sent_shows_on_cycle_health(kept, browser):
    hr = browser(kept.hr)
    path = f"/cycles/{kept.cycle.id}/health"
    served(hr, path)
    assert served(hr, path)[1]
    person = kept.people[1]
    db.session.add(ReminderLog(cycle_id=kept.cycle.id, stage="approval", person_id=person.id,
                               recipient_id=kept.manager.id, kind=ReminderKind.due, day=date.today()))
    db.session.commit()
    page, from_memo = served(hr, path)
    assert not from_memo and f'id="reminder-' in page


def test_a_request_with_flashes_is_built_and_shows_them(kept, browser):
    hr = browser(kept.hr)
    served(hr, "/org/people")
    with hr.client.session_transaction() as session:
        session["_flashes"] = [("success", "Flash for this session")]
    page, from_memo = served(hr, "/org/people")
    assert not from_memo and "Flash for this session" in page
    again, from_memo = served(hr, "/org/people")
    assert from_memo and "Flash for this session" not in again


def test_a_new_day_builds_the_page_again(kept, browser, monkeypatch):
    hr = browser(kept.hr)
    path = f"/cycles/{kept.cycle.id}/health"
    served(hr, path)
    assert served(hr, path)[1]

    class Tomorrow(date):
        @classmethod
        def today(cls):
            return date.today() + timedelta(days=1)
    monkeypatch.setattr(kept_pages, "date", Tomorrow)
    assert not served(hr, path)[1]


def test_the_memo_off_keeps_nothing(kept, browser, app, monkeypatch):
    monkeypatch.setitem(app.extensions, "page_memo", kept_pages.Memo(0))
    hr = browser(kept.hr)
    served(hr, "/org/people")
    assert not served(hr, "/org/people")[1]


def test_every_kept_view_is_listed_here(kept, app):
    kept_views = {name for name, view in app.view_functions.items() if hasattr(view, "kept_untracked")}
    assert kept_views == set(pages(kept))


UNTRACKED_READ = re.compile(r'\b(?:FROM|JOIN)\s+"?(%s)"?\b' % "|".join(sorted(UNTRACKED)), re.I)


def test_every_kept_page_reads_only_the_untracked_tables_it_names(kept, browser, app):
    """Such a table changes without the token: a page reading one must put its version in the key."""
    for name, (reader, path) in pages(kept).items():
        client = browser(reader)
        page_memo().clear()
        statements = []
        seen = lambda _conn, _cursor, statement, *_args: statements.append(statement)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", seen)
        try:
            client.page(path)
        finally:
            event.remove(db.engine, "before_cursor_execute", seen)
        read = {table for s in statements for table in UNTRACKED_READ.findall(s)}
        named = set(app.view_functions[name].kept_untracked)
        assert read - {"data_version", "data_touch"} == named, (name, read)


def test_the_store_dashboard_is_built_on_every_request(kept, browser, monkeypatch):
    """Its heading's badge says whether the store's pulled data is older than its freshness limit:
    that follows the clock, not the data token, so the whole page is not kept (its panels are:
    kpiapp/dashboards/memo.py)."""
    store_id = StoreFactory().id
    db.session.commit()
    hr = browser(kept.hr)
    path = f"/dashboards/stores/{store_id}?cycle={kept.cycle.id}"
    assert "Data stale" not in served(hr, path)[0]
    monkeypatch.setattr(connector_services, "stale_store_ids", lambda now=None: {store_id})  # hours later
    page, from_memo = served(hr, path)
    assert not from_memo and "Data stale" in page
