"""The task board pages by keyset (issue 14: it showed at most 300 tasks): pages follow the
board order without repeats or gaps, the column counts are over every page, and the pages are
reached by a plain link without JavaScript and appended with htmx."""
from datetime import date, timedelta

import pytest

from kpiapp.extensions import db
from kpiapp.objectives import tasks
from kpiapp.objectives.task_flow import TaskStatus
from tests.objectives.helpers_tasks import make_crew
from tests.web.conftest import Browser

pytestmark = pytest.mark.rollback
DAY = date(2026, 11, 18)


@pytest.fixture
def crew(app):
    return make_crew()


@pytest.fixture
def browser(login):
    return lambda user: Browser(login(user))


def some_tasks(crew, count=11):
    """Open, started, done and dropped tasks with shared, distinct and no due dates."""
    made = []
    for n in range(count):
        due = None if n % 4 == 0 else DAY + timedelta(days=n % 3)
        task = tasks.create_task({"title": f"T{n:02d}", "due": due}, crew.worker)
        if n % 5 == 1:
            tasks.move_task(task, "start", crew.worker)
        elif n % 5 == 2:
            tasks.move_task(task, "finish", crew.worker)
        elif n % 5 == 3:
            tasks.move_task(task, "drop", crew.worker, reason="not needed")
        made.append(task)
    db.session.commit()
    return made


def in_order(columns):
    return [t for ts in columns.values() for t in ts]


def test_pages_cover_the_board_in_order_without_repeats(crew):
    made = some_tasks(crew)
    whole = tasks.board_page(crew.manager, size=100)
    everything = [t.id for t in db.session.execute(tasks.ordered(tasks.task_query(crew.manager))).scalars()]
    assert sorted(everything) == sorted(t.id for t in made) and whole.next_after is None
    seen, after, pages = [], None, 0
    while True:
        page = tasks.board_page(crew.manager, after=after, size=3)
        pages += 1
        ids = sorted((t.id for t in in_order(page.columns)), key=everything.index)
        assert ids == everything[len(seen):len(seen) + len(ids)]
        seen += ids
        assert page.totals == {s: sum(1 for t in made if t.status == s) for s in TaskStatus}
        if page.next_after is None:
            break
        assert page.next_after == ids[-1]
        after = page.next_after
    assert seen == everything and pages == 4


def test_a_page_after_keeps_its_place_when_tasks_are_added(crew):
    some_tasks(crew, 6)
    first = tasks.board_page(crew.manager, size=3)
    shown = {t.id for t in in_order(first.columns)}
    tasks.create_task({"title": "Late arrival", "due": DAY - timedelta(days=30)}, crew.worker)  # sorts first
    db.session.commit()
    rest = tasks.board_page(crew.manager, after=first.next_after, size=10)
    assert not shown & {t.id for t in in_order(rest.columns)} and len(in_order(rest.columns)) == 3


def test_filters_apply_to_every_page_and_a_foreign_cursor_starts_over(crew):
    some_tasks(crew)
    page = tasks.board_page(crew.manager, status="open", size=2)
    assert {t.status for t in in_order(page.columns)} == {TaskStatus.OPEN}
    nxt = tasks.board_page(crew.manager, status="open", size=2, after=page.next_after)
    assert {t.status for t in in_order(nxt.columns)} <= {TaskStatus.OPEN}
    mine = tasks.create_task({"title": "HR only"}, crew.hr)
    db.session.commit()
    from_start = tasks.board_page(crew.peer, after=mine.id, size=100)  # not theirs to see
    assert in_order(from_start.columns) == in_order(tasks.board_page(crew.peer, size=100).columns)


def test_board_more_link_and_htmx_append(crew, browser, monkeypatch):
    made = some_tasks(crew)
    monkeypatch.setattr(tasks, "BOARD_PAGE", 4)
    manager = browser(crew.manager)
    page = manager.page("/tasks/board?person=%d" % crew.worker.id)
    assert page.count('class="task-card"') == 4 and "More tasks" in page
    link = page[page.index('<nav id="board-more"'):]
    href = link[link.index('href="') + 6:link.index('"', link.index('href="') + 6)].replace("&amp;", "&")
    assert f"person={crew.worker.id}" in href and "after=" in href
    plain = manager.page(href)  # without JavaScript: the next page alone, and a way back
    assert plain.count('class="task-card"') == 4 and "First page" in plain
    fragment = manager.get(href, htmx=True).get_data(as_text=True)
    assert 'hx-swap-oob="beforeend:#task-list-' in fragment and fragment.count('class="task-card"') == 4
    assert '<nav id="board-more"' in fragment and "<html" not in fragment
    total = f"({sum(1 for t in made if t.status == TaskStatus.OPEN)})"
    assert total in page


def test_the_api_pages_the_same_way(crew, browser, app, monkeypatch):
    from tests.web.test_cycle_walk import api, new_token

    made = some_tasks(crew)
    monkeypatch.setattr(tasks, "BOARD_PAGE", 5)
    token, http = new_token(browser(crew.manager)), app.test_client()
    ids, after = [], None
    while True:
        status, body = api(http, token, "GET", "/tasks" + (f"?after={after}" if after else ""))
        assert status == 200 and len(body["tasks"]) <= 5
        ids += [t["id"] for t in body["tasks"]]
        after = body["next_after"]
        if after is None:
            break
    assert sorted(ids) == sorted(t.id for t in made) and len(ids) == len(set(ids))
