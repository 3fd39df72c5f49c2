"""The dashboards' memo (docs/dashboards.md, "The memo"): a repeat request is served from the memo
while no tracked table changed, every kind of write changes the data token (so the next
request builds the page again, with the new figures), a rollback leaves it as it was, and
readers with other rights, filters, language or day never share an entry.

Real commits (rollback(False)): the token changes at COMMIT on PostgreSQL."""
import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import event, select, text, update

from kpiapp.dashboards import services as settings
from kpiapp.dashboards.memo import MISSING, Memo, data_token, memo
from kpiapp.auth.services import record_login
from kpiapp.dbtriggers import EVERY_STATEMENT, UNTRACKED, UNTRACKED_COLUMNS
from kpiapp.extensions import db
from kpiapp.imports.services import start_import
from kpiapp.models import DataTouch, Department, FxRate, ImportStatus, StoreOwner, User
from kpiapp.tracking.services import recompute_cycle
from kpiapp.web.kept_pages import page_memo
from tests.imports.files import generic_file
from tests.web.test_company_dashboard import TODAY, org  # noqa: F401 (the org fixture)

pytestmark = pytest.mark.rollback(False)


def postgresql():
    return db.engine.dialect.name == "postgresql"


def token():
    """The committed token, read in a transaction of its own."""
    db.session.commit()
    found = data_token()
    db.session.commit()
    return found


@pytest.fixture
def day(monkeypatch):
    """The company and team pages' today: TODAY unless a test moves it."""
    today = {"value": TODAY}
    for module in ("company", "team"):
        monkeypatch.setattr(f"kpiapp.dashboards.routes.{module}.utc_today", lambda: today["value"])
    # the whole page is kept under the day too (kpiapp/web/kept_pages.py): the same day
    monkeypatch.setattr("kpiapp.web.kept_pages.today", lambda: (today["value"], today["value"]))
    return today


@pytest.fixture
def hr(org, browser, day):
    return browser(org.team.hr)


def company(org):
    return f"/dashboards/company?cycle={org.team.cycle.id}"


SIGNED = re.compile(r"[\w-]{20,}\.[\w-]{6}\.[\w-]{20,}")  # a CSRF token: signed with the second


def page_of(client, path):
    """The page, its CSRF tokens blanked (they carry the time they were made)."""
    return SIGNED.sub("(csrf)", client.page(path))


def memo_hits():
    """Hits of the dashboards' memo and of the page memo (a whole page kept: kept_pages.py)."""
    return memo().hits + page_memo().hits


def served(client, path):
    """(the page, whether a memo served it: a hit and none of the panels' tables read)."""
    hits, statements = memo_hits(), []
    seen = lambda _conn, _cursor, statement, *_args: statements.append(statement)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        page = page_of(client, path)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    panels_read = [s for s in statements if "scorecard_item" in s or "fact_" in s]
    return page, memo_hits() > hits and not panels_read


def built_fresh(client, path):
    """The page as built with the memos emptied (what the memo must serve)."""
    memo().clear()
    page_memo().clear()
    return page_of(client, path)


# ---- the tracked tables --------------------------------------------------------------------

def installed_triggers():
    if postgresql():
        sql = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    return set(db.session.execute(text(sql)).scalars())


def test_every_table_is_tracked_or_named_untracked(app):
    """A new table's migration calls dbtriggers.track_data_version, or the table is named in
    dbtriggers.UNTRACKED after deciding no memoized page reads it."""
    verbs = ("insert", "update", "delete", "truncate") if postgresql() else ("insert", "update", "delete")
    changed_rows = tuple(f"{{}}_data_version_{v}" for v in verbs)  # PostgreSQL: by transition tables
    every_statement = ("{}_data_version",) if postgresql() else changed_rows

    def names(table):
        return every_statement if table in EVERY_STATEMENT else changed_rows

    triggers = installed_triggers()
    tables = set(db.metadata.tables)
    untracked_but_triggered = [t for t in UNTRACKED & tables
                               if any(n.format(t) in triggers for n in changed_rows + every_statement)]
    neither = [t for t in sorted(tables - UNTRACKED) if not all(n.format(t) in triggers for n in names(t))]
    assert not neither, f"tables without a data-version decision: {neither}"
    assert not untracked_but_triggered
    assert UNTRACKED - tables == {"alembic_version"}, "UNTRACKED names a table that is gone"


def update_trigger_columns(table):
    """The columns named by `table`'s UPDATE OF trigger(s), as the database keeps them."""
    if postgresql():
        sql = ("SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal "
               "AND tgrelid = CAST(:table AS regclass) AND tgname LIKE '%data_version%'")
        definitions = db.session.execute(text(sql), {"table": f'"{table}"'}).scalars()
    else:
        sql = "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :table AND name LIKE '%update'"
        definitions = db.session.execute(text(sql), {"table": table}).scalars()
    named = [re.search(r"UPDATE OF (.+?) ON ", d) for d in definitions]
    return {c.strip().strip('"') for m in named if m for c in m.group(1).split(",")}


def test_only_the_sign_in_bookkeeping_of_a_person_is_untracked(app):
    """A column added to "user" is tracked unless it is named in UNTRACKED_COLUMNS: the UPDATE OF
    trigger names every other column of the model."""
    columns = {c.name for c in db.metadata.tables["user"].columns}
    assert UNTRACKED_COLUMNS["user"] <= columns
    assert update_trigger_columns("user") == columns - UNTRACKED_COLUMNS["user"]


def update_trigger_definition(table):
    if postgresql():
        sql = ("SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = CAST(:table AS regclass) "
               "AND tgname = :name")
        return db.session.execute(text(sql), {"table": f'"{table}"', "name": f"{table}_data_version_update"}).scalar()
    sql = "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = :name"
    return db.session.execute(text(sql), {"name": f"{table}_data_version_update"}).scalar()


def test_an_update_is_compared_on_every_tracked_column(app):
    """An UPDATE counts only a row whose tracked columns changed (migration 0041): SQLite's row
    triggers and "user"'s on PostgreSQL name the columns they compare, so a column added to a
    tracked table needs the table's triggers made again (dbtriggers.track_data_version); PostgreSQL's
    statement triggers compare whole rows. The EVERY_STATEMENT tables count every UPDATE."""
    compared = re.compile(r'old\.("?)(\w+)\1', re.IGNORECASE)
    wrong = {}
    for table in sorted(set(db.metadata.tables) - UNTRACKED - EVERY_STATEMENT):
        definition = update_trigger_definition(table)
        if postgresql() and table not in UNTRACKED_COLUMNS:
            if "OLD TABLE AS old_rows NEW TABLE AS new_rows" not in definition:
                wrong[table] = definition
            continue
        columns = {c.name for c in db.metadata.tables[table].columns} - UNTRACKED_COLUMNS.get(table, frozenset())
        named = {m.group(2) for m in compared.finditer(definition.split(" WHEN ", 1)[-1])}
        if " WHEN " not in definition or named != columns:
            wrong[table] = sorted(columns ^ named)
    assert not wrong


def test_a_login_leaves_the_token_as_it_was_a_department_move_does_not(org, hr):
    person = org.team.people[0]
    before = token()
    record_login(person, "127.0.0.1", "password")
    person.failed_logins = 3
    db.session.commit()
    assert person.last_login_at is not None and token() == before
    first, _from_memo = served(hr, company(org))
    record_login(person, "127.0.0.1", "password")
    db.session.commit()
    assert served(hr, company(org)) == (first, True)
    changes_page(org, hr, lambda: setattr(person, "department_id", org.ads.id))


# ---- served from the memo ------------------------------------------------------------------

def test_the_second_request_is_served_from_the_memo_and_equals_the_built_page(org, hr):
    first, from_memo = served(hr, company(org))
    assert not from_memo
    again, from_memo = served(hr, company(org))
    assert from_memo and again == first
    assert "All stores" in again  # the link the route adds to a copy of the memo's store panel
    kept = [p for value in memo().entries.values() if isinstance(value, list) for p in value]
    assert any(p.key == "stores" for p in kept) and all(p.more is None for p in kept)
    stores = f"/dashboards/company/stores?cycle={org.team.cycle.id}"
    first = served(hr, stores)[0]
    assert served(hr, stores) == (first, True)
    download = hr.get(company(org) + "&download=stores&format=csv").get_data()
    assert download == hr.get(company(org) + "&download=stores&format=csv").get_data()
    assert built_fresh(hr, company(org)) == again


def test_a_dashboard_request_writes_nothing_tracked(org, hr):
    before = token()
    hr.page(company(org))
    hr.page(f"/dashboards/company/stores?cycle={org.team.cycle.id}")
    hr.page(f"/dashboards/team?cycle={org.team.cycle.id}")
    assert token() == before


def test_the_team_dashboard_is_kept_per_reader(org, browser, hr):
    path = f"/dashboards/team?cycle={org.team.cycle.id}"
    first = served(hr, path)[0]
    assert served(hr, path) == (first, True)
    boss = browser(org.team.manager)
    theirs, from_memo = served(boss, path)
    assert not from_memo
    assert served(boss, path) == (theirs, True)
    assert built_fresh(boss, path) == theirs and built_fresh(hr, path) == first


# ---- every kind of write changes the token, and the page ---------------------------------

def changes_page(org, client, write, path=None):
    """Write (committed), then: the token changed, the page was built again (not served), it
    equals the page built with the memo emptied, and it differs from the page before."""
    path = path or company(org)
    before, old = token(), page_of(client, path)
    assert served(client, path)[1]
    write()
    db.session.commit()
    assert token() != before
    page, from_memo = served(client, path)
    assert not from_memo
    assert page == built_fresh(client, path)
    assert page != old
    return page


def gmv_of(client, org, code):
    """The store's GMV in the store panel's download (the fifth column)."""
    rows = client.get(company(org) + "&download=stores&format=csv").get_data(as_text=True).splitlines()
    return next(row.split(",")[4] for row in rows if row.startswith(code + ","))


def test_a_fact_import_changes_the_page(org, hr):
    assert gmv_of(hr, org, "AMZ-US") == "1900"

    def write():
        found = start_import(generic_file([("2026-11-05", "AMZ-US", "", "ordered_sales", "777.00", "USD")]),
                             "late.csv", None, org.team.hr)
        assert found.status == ImportStatus.committed, found.error
    changes_page(org, hr, write)
    assert gmv_of(hr, org, "AMZ-US") == "2677"


def test_an_fx_rate_changes_the_page(org, hr):
    changes_page(org, hr, lambda: db.session.execute(
        update(FxRate).where(FxRate.currency == "EUR").values(rate=FxRate.rate + 1)))


def test_a_recompute_changes_the_page(org, hr):
    card = org.team.card(org.team.people[2])  # its item has no actual: the recompute scores it
    card.items[0].scope = [{"store_id": org.us.id, "share_pct": "100"}]
    db.session.commit()
    changes_page(org, hr, lambda: recompute_cycle(org.team.cycle.id, today=TODAY))


def test_a_score_change_changes_the_page(org, hr):
    from kpiapp.appraisal import services as appraisal

    item = org.team.card(org.team.people[0]).items[0]
    changes_page(org, hr, lambda: appraisal.set_actual(item, "90000", date(2026, 11, 10), {"source": "test"}))


def test_org_changes_change_the_page(org, hr):
    changes_page(org, hr, lambda: db.session.execute(
        update(Department).where(Department.id == org.amazon.id).values(name="Amazon renamed")))
    changes_page(org, hr, lambda: db.session.execute(
        update(StoreOwner).where(StoreOwner.store_id == org.de.id, StoreOwner.share_pct == 50)
        .values(share_pct=Decimal("25"))))
    person = db.session.execute(select(User).where(User.department_id == org.ads.id, User.active.is_(True))
                                .order_by(User.id)).scalars().first()
    changes_page(org, hr, lambda: setattr(person, "active", False))


def test_publishing_a_panel_changes_what_staff_see(org, browser, hr):
    employee = browser(org.team.people[0])
    assert employee.get(company(org)).status_code == 404
    before = token()
    settings.set_public("company", "freshness", True, org.team.hr)
    db.session.commit()
    assert token() != before
    page = employee.page(company(org))
    assert 'id="panel-freshness"' in page and 'id="panel-departments"' not in page
    assert 'id="panel-departments"' in hr.page(company(org))  # HR's entry is HR's: every panel


def test_a_new_day_builds_the_page_again(org, hr, day):
    hr.page(company(org))
    assert served(hr, company(org))[1]
    day["value"] = date(2026, 12, 1)
    assert not served(hr, company(org))[1]


def test_readers_with_other_filters_or_language_never_share_an_entry(org, hr, browser):
    hr.page(company(org))
    assert not served(hr, company(org) + "&platform=shopee")[1]
    assert not served(hr, company(org) + f"&store={org.us.id}")[1]
    org.team.hr.locale = "zh_CN"
    db.session.commit()
    chinese, from_memo = served(browser(org.team.hr), company(org))
    assert not from_memo and "按部门的达成度" in chinese


# ---- the token: once per transaction, at commit; a rollback leaves it ---------------------

def test_a_rollback_leaves_the_token_as_it_was(org):
    before = token()
    db.session.execute(update(Department).values(name=Department.name + "!"))
    db.session.rollback()
    assert token() == before
    with db.session.begin_nested():
        db.session.execute(update(FxRate).values(rate=FxRate.rate + 1))
        db.session.flush()
        db.session.rollback()  # the savepoint only
    db.session.commit()
    assert token() == before
    assert not db.session.execute(select(DataTouch)).all()


def test_a_writing_transaction_reads_no_entry_until_it_commits(org):
    before = token()
    db.session.execute(update(Department).values(name=Department.name + "!"))
    inside = data_token()
    if postgresql():
        assert inside is None  # its writes are not in the token yet: the memo is not used
        assert len(db.session.execute(select(DataTouch)).all()) == 1
        db.session.execute(update(FxRate).values(rate=FxRate.rate + 1))
        assert len(db.session.execute(select(DataTouch)).all()) == 1  # noted once
    else:
        assert inside not in (None, before)  # a row trigger: the new token at once
    db.session.commit()
    after = token()
    assert after not in (None, before)
    assert not db.session.execute(select(DataTouch)).all()


@pytest.mark.skipif("not __import__('os').environ.get('DATABASE_URL', '').startswith('postgresql')",
                    reason="TRUNCATE and COPY are PostgreSQL's")
def test_truncate_and_copy_change_the_token(org):
    before = token()
    db.session.execute(text("TRUNCATE dashboard_public_panel"))
    db.session.commit()
    middle = token()
    assert middle != before
    cursor = db.session.connection().connection.driver_connection.cursor()
    with cursor.copy("COPY fx_rate (date, currency, rate) FROM STDIN") as copy:
        copy.write_row((date(2030, 1, 1), "JPY", Decimal("0.0068")))
    db.session.commit()
    assert token() not in (before, middle)


def test_the_memo_is_bounded():
    small = Memo(size=3)
    for n in range(5):
        small.put(n, n)
    assert small.get(0) is MISSING and list(small.entries) == [2, 3, 4]
    small.get(2)
    small.put(5, 5)
    assert list(small.entries) == [4, 2, 5]
