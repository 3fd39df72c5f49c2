"""Issue 10, pages: the number of SQL statements a page runs does not grow with the org.

One org of SMALL people is built, every page is fetched and its statements counted;
then a second org of LARGE people is added (its own departments, stores, cycle,
imports and reports) and the same pages are fetched again (the cycle pages on the
big org's cycle).  A page that asks once per person, department or store shows a
higher count the second time.
"""
import re
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import event, select

from kpiapp.appraisal import disputes, services
from kpiapp.dashboards.memo import memo
from kpiapp.extensions import db
from kpiapp.models import ImportRecord
from kpiapp.models.reports import IssuedReport, ReportKind
from kpiapp.policy import team_ids
from kpiapp.web.kept_pages import page_memo
from tests.appraisal.factories import ORDER, AdminFactory, HRFactory, Team, make_template, walk_to
from tests.factories import DepartmentFactory, PositionFactory, StoreFactory, UserFactory

pytestmark = pytest.mark.rollback  # one transaction per test, rolled back (tests/conftest.py)

SMALL, LARGE = 6, 18
PER_DEPARTMENT = 3


BOOKKEEPING = ("SAVEPOINT", "RELEASE", "ROLLBACK")  # the rolled-back test transaction's savepoints


class QueryCounter:
    """Counts the statements sent to the database while active (not savepoint bookkeeping)."""

    def __init__(self, bind):
        self.bind, self.count = bind, 0

    def __enter__(self):
        event.listen(self.bind, "before_cursor_execute", self.seen)
        return self

    def __exit__(self, *exc):
        event.remove(self.bind, "before_cursor_execute", self.seen)

    def seen(self, _conn, _cursor, statement, *_args):
        if not statement.lstrip().upper().startswith(BOOKKEEPING):
            self.count += 1


def build_org(size, hr, boss, tag, issued_at=None):
    """`size` people in sub-departments of PER_DEPARTMENT under one manager each, all below `boss`;
    a started cycle (participants: a position and the root department) whose scorecards are
    spread over every state; one import per store; one report per scorecard."""
    position, root = PositionFactory(), DepartmentFactory()
    people = []
    for first in range(0, size, PER_DEPARTMENT):
        department = DepartmentFactory(parent=root)
        manager = UserFactory(department=department, position=None, manager=boss)
        people += [UserFactory(department=department, position=position, manager=manager)
                   for _ in range(min(PER_DEPARTMENT, size - first))]
    make_template(hr, position)
    cycle = services.create_cycle(hr, name=f"Cycle {tag}", kind="quarterly", period_start=date(2026, 10, 1),
                                  period_end=date(2026, 12, 31), participants=[{"position_id": position.id},
                                                              {"department_id": root.id}])
    services.start_cycle(cycle.id, hr.id)
    db.session.commit()
    team = Team(hr, hr, None, boss, boss, people, position, None, cycle)
    cards = [walk_to(team, person, ORDER[i % len(ORDER)]) for i, person in enumerate(people)]
    add_imports(size, hr, tag)
    add_reports(cards, cycle, hr, tag, issued_at)
    add_disputes(cards)
    add_tasks(cards, boss)
    return cycle


def add_tasks(cards, boss):
    """Each person gets a task from `boss` on their data-backed number, with a checklist; they
    answer with a comment mentioning `boss` on the item (the inbox links it)."""
    from kpiapp.objectives import comments, tasks

    for card in cards:
        item = next(i for i in card.items if not i.is_manual)
        tasks.create_task({"title": f"Check {item.name}", "assignee_id": card.person_id, "checklist": "a\nb",
                           "scorecard_item_id": item.id}, boss)
        local = boss.email.split("@")[0]
        comments.add_comment("item", item.id, f"@{local} checked", card.person)
    db.session.commit()


def add_disputes(cards):
    """Every open scorecard's person disputes its data-backed number (the disputes queue)."""
    for card in cards:
        if not card.is_locked:
            item = next(i for i in card.items if not i.is_manual)
            disputes.raise_dispute(item, card.person, f"{card.person.name}: B2B orders are missing.")
    db.session.commit()


def add_imports(size, hr, tag):
    for i in range(size):
        store = StoreFactory()
        db.session.add(ImportRecord(parser="amazon_orders", family="orders", store_id=store.id,
                                    uploaded_by_id=hr.id, filename=f"orders-{tag}-{i}.txt",
                                    sha256="0" * 64, size=10, dedupe_key=f"{tag}-{i}"))
    db.session.commit()


def add_reports(cards, cycle, hr, tag, issued_at=None):
    for card in cards:
        db.session.add(IssuedReport(document_id=f"doc-{tag}-{card.id}", kind=ReportKind.scorecard,
                                    issue_key=f"key-{tag}-{card.id}", scorecard_id=card.id,
                                    scorecard_version=card.version, cycle_id=cycle.id,
                                    person_id=card.person_id,
                                    lang="en", pdf=b"%PDF", size=4, sha256="0" * 64, signer_subject="test",
                                    issued_by_id=hr.id, **({"issued_at": issued_at} if issued_at else {})))
    db.session.commit()


def pages(cycle_id):
    """(who, path) for every page of the issue, as the role that sees it."""
    return {
        "calibration": ("hr", f"/cycles/{cycle_id}/calibration"),
        "cycle board": ("hr", f"/cycles/{cycle_id}"),
        "cycle health": ("hr", f"/cycles/{cycle_id}/health"),
        "bonus table": ("hr", f"/cycles/{cycle_id}/bonus"),
        "results export": ("hr", f"/cycles/{cycle_id}/results.xlsx"),
        "results API": ("hr", f"/api/v1/cycles/{cycle_id}/results"),
        "cycles": ("hr", "/cycles/"),
        "team": ("boss", "/scorecards/team"),
        "inbox": ("boss", "/inbox/"),
        "inbox (HR: cards to calibrate)": ("hr", "/inbox/"),
        "imports": ("hr", "/imports/"),
        "people": ("hr", "/org/people"),
        "audit log": ("admin", "/admin/audit"),
        "reports": ("hr", "/reports/"),
        "reports (manager)": ("boss", "/reports/"),
        "data disputes (HR queue)": ("hr", "/disputes/"),
        "home (HR: cycle funnel)": ("hr", "/"),
        "home (manager: team pipeline)": ("boss", "/"),
        "home (admin)": ("admin", "/"),
        "team dashboard (manager)": ("boss", f"/dashboards/team?cycle={cycle_id}"),
        "team dashboard (HR: everyone)": ("hr", f"/dashboards/team?cycle={cycle_id}"),
        "store dashboard list": ("hr", "/dashboards/stores"),
        "company dashboard (HR)": ("hr", f"/dashboards/company?cycle={cycle_id}"),
        "person dashboard (manager's own)": ("boss", f"/dashboards/person?cycle={cycle_id}"),
        "dashboards index": ("boss", "/dashboards/"),
        "task board (manager)": ("boss", "/tasks/board"),
        "task board (HR: everyone)": ("hr", "/tasks/board"),
        "my tasks": ("boss", "/tasks/mine"),
        "tasks API": ("boss", "/api/v1/tasks"),
    }


def count_pages(clients, cycle_id):
    counts = {}
    for name, (who, path) in pages(cycle_id).items():
        clients[who].get(path)  # warm: first-request caches (babel, templates) are not the page's cost
        memo().clear()  # but the memos are: count the page built (test_dashboard_memo.py and
        page_memo().clear()  # test_kept_pages.py count a hit)
        with QueryCounter(db.engines[None]) as counter:
            response = clients[who].get(path)
        assert response.status_code == 200, (name, response.status_code)
        counts[name] = counter.count
    return counts


def test_page_queries_do_not_grow_with_the_org(app, login):
    hr, admin = HRFactory(), AdminFactory()
    boss = UserFactory(position=None)
    small = build_org(SMALL, hr, boss, "small")
    clients = {"hr": login(hr), "admin": login(admin), "boss": login(boss)}
    before = count_pages(clients, small.id)
    large = build_org(LARGE, hr, boss, "large")
    after = count_pages(clients, large.id)
    grown = {name: (before[name], after[name]) for name in before if before[name] != after[name]}
    assert after == before, grown


def test_team_ids_reaches_every_level_in_one_query(app):
    top = UserFactory(position=None)
    middle = UserFactory(position=None, manager=top)
    low = [UserFactory(position=None, manager=middle) for _ in range(3)]
    lowest = UserFactory(position=None, manager=low[0])
    UserFactory(position=None)  # outside the line
    db.session.commit()
    expected = {middle.id, lowest.id, *(p.id for p in low)}  # loads the rows the commit expired
    db.session.refresh(top)
    with QueryCounter(db.engines[None]) as counter:
        ids = team_ids(top)
    assert ids == expected
    assert counter.count == 1


def test_team_ids_survives_a_cycle_in_the_line(app):
    first = UserFactory(position=None)
    second = UserFactory(position=None, manager=first)
    first.manager = second
    db.session.commit()
    assert team_ids(first) == {first.id, second.id}
    assert team_ids(second) == {first.id, second.id}


def walk_pages(client, path, pattern):
    """Follow the 'older' links from `path`; [(ids on the page)] per page."""
    pages_seen = []
    while path:
        html = client.get(path).get_data(as_text=True)
        pages_seen.append(re.findall(pattern, html))
        older = re.search(r'<a href="([^"]*before=\d+)"', html)
        path = older.group(1).replace("&amp;", "&") if older else None
    return pages_seen


def test_imports_list_pages_by_keyset(app, login, monkeypatch):
    monkeypatch.setattr("kpiapp.imports.routes.LIST_SIZE", 4)
    hr = HRFactory()
    add_imports(10, hr, "keyset")
    seen = walk_pages(login(hr), "/imports/", r'href="/imports/(\d+)"')
    assert [len(page) for page in seen] == [4, 4, 2]
    ids = [int(i) for page in seen for i in page]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 10


def test_reports_list_pages_by_keyset_through_equal_times(app, login, monkeypatch):
    monkeypatch.setattr("kpiapp.reports.routes.LIST_SIZE", 4)
    hr, boss = HRFactory(), UserFactory(position=None)
    # every report issued at the same instant: only the id orders them
    build_org(SMALL, hr, boss, "keyset", issued_at=datetime(2026, 12, 31, 12, 0, tzinfo=timezone.utc))
    reports = db.session.execute(select(IssuedReport)).scalars().all()
    seen = walk_pages(login(hr), "/reports/", r"<code>(doc-[^<]+)</code>")
    assert [len(page) for page in seen] == [4, 2]
    assert sorted(d for page in seen for d in page) == sorted(r.document_id for r in reports)
