"""Tasks through the screens: My tasks, the board and its filters (htmx fragment and plain GET),
a new task keeping typed input on refusal, the steps, the checklist, comments with a mention
(htmx panel and plain POST), who gets 404, CSRF, zh, the menu entry; the comments panel on
the scorecard page."""
import pytest

from kpiapp.extensions import db
from kpiapp.models import Comment, Notification, Task
from kpiapp.objectives import tasks
from kpiapp.objectives.task_flow import TaskStatus
from tests.objectives.helpers_tasks import make_crew

pytestmark = pytest.mark.rollback


@pytest.fixture
def crew(app):
    crew = make_crew()
    crew.manager.name, crew.manager.email = "Li Wei", "li.wei@example.com"
    db.session.commit()
    return crew


def test_create_from_the_form_then_find_it_in_my_tasks(crew, browser):
    me = browser(crew.worker)
    page = me.page("/tasks/new")
    assert 'name="title"' in page and 'name="csrf_token"' in page
    r = me.post("/tasks/new", {"title": "Book the container", "due": "2026-11-20", "checklist": "quote\nbook",
                               "assignee_id": str(crew.worker.id)})
    assert r.status_code == 302
    task = db.session.query(Task).one()
    assert r.headers["Location"].endswith(f"/tasks/{task.id}")
    assert [i.text for i in task.checklist] == ["quote", "book"]
    mine = me.page("/tasks/mine")
    assert "Book the container" in mine and f'href="/tasks/{task.id}"' in mine


def test_a_refused_form_keeps_what_was_typed(crew, browser):
    me = browser(crew.worker)
    r = me.post("/tasks/new", {"title": "Keep me", "due": "next friday", "description": "typed words"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert 'value="Keep me"' in html and "typed words" in html and 'value="next friday"' in html
    assert 'id="task-due-error"' in html and "YYYY-MM-DD" in html
    r = me.post("/tasks/new", {"title": "For a peer", "assignee_id": str(crew.peer.id)})
    assert r.status_code == 422 and "the people below you" in r.get_data(as_text=True)
    assert db.session.query(Task).count() == 0


def test_steps_checklist_and_htmx_swap(crew, browser):
    task = tasks.create_task({"title": "Restock", "assignee_id": crew.worker.id}, crew.manager)
    db.session.commit()
    me = browser(crew.worker)
    page = me.page(f"/tasks/{task.id}")
    assert f'action="/tasks/{task.id}/start"' in page and f'action="/tasks/{task.id}/reopen"' not in page
    r = me.post(f"/tasks/{task.id}/start", htmx=True)
    assert r.status_code == 200 and f'id="task-{task.id}"' in r.get_data(as_text=True)
    assert "<html" not in r.get_data(as_text=True)
    r = me.post(f"/tasks/{task.id}/drop", {"reason": ""})
    assert r.status_code == 422 and "Please give a reason." in r.get_data(as_text=True)
    r = me.post(f"/tasks/{task.id}/finish")
    assert r.status_code == 302
    db.session.refresh(task)
    assert task.status == TaskStatus.DONE
    r = me.post(f"/tasks/{task.id}/checklist", {"text": "count pallets"})
    assert r.status_code == 302 and r.headers["Location"].endswith("#checklist")
    item = db.session.get(Task, task.id).checklist[0]
    assert me.post(f"/tasks/{task.id}/checklist/{item.id}", {"done": "1"}).status_code == 302
    db.session.refresh(item)
    assert item.done
    assert me.post(f"/tasks/{task.id}/checklist/{item.id}/remove", htmx=True).status_code == 200
    assert db.session.get(Task, task.id).checklist == []


def test_others_get_404_and_clients_403(crew, browser, login):
    task = tasks.create_task({"title": "Private work"}, crew.worker)
    db.session.commit()
    peer = browser(crew.peer)
    assert peer.get(f"/tasks/{task.id}").status_code == 404
    assert peer.post(f"/tasks/{task.id}/start").status_code == 404
    assert peer.post(f"/comments/task/{task.id}", {"body": "hi"}).status_code == 404
    assert "Private work" not in peer.page("/tasks/board")
    assert browser(crew.manager).get(f"/tasks/{task.id}").status_code == 200
    db.session.refresh(task)
    assert task.status == TaskStatus.OPEN and db.session.query(Comment).count() == 0


def test_board_filters_plain_and_htmx(crew, browser):
    mine = tasks.create_task({"title": "Worker task", "assignee_id": crew.worker.id}, crew.manager)
    tasks.create_task({"title": "Peer task", "assignee_id": crew.peer.id}, crew.manager)
    tasks.move_task(mine, "start", crew.worker)
    db.session.commit()
    boss = browser(crew.manager)
    page = boss.page("/tasks/board")
    assert "Worker task" in page and "Peer task" in page and 'hx-get="/tasks/board"' in page
    page = boss.page(f"/tasks/board?person={crew.peer.id}")
    assert "Peer task" in page and "Worker task" not in page
    r = boss.get("/tasks/board?status=in_progress", htmx=True)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" not in html and 'id="task-board"' in html
    assert "Worker task" in html and "Peer task" not in html
    assert "Worker task" not in boss.page("/tasks/board?due=overdue")
    # a person outside the viewer's line in the filter is ignored, not shown
    assert "Peer task" in boss.page(f"/tasks/board?person={crew.outsider.id}")


def test_comment_with_a_mention_htmx_and_plain(crew, browser):
    task = tasks.create_task({"title": "Restock", "assignee_id": crew.worker.id}, crew.manager)
    db.session.commit()
    me = browser(crew.worker)
    r = me.post(f"/comments/task/{task.id}", {"body": "@Li Wei the supplier is late"}, htmx=True)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "the supplier is late" in html and f'id="comments-task-{task.id}"' in html
    assert [n.user_id for n in db.session.query(Notification).filter_by(key="comment.mention")] == [crew.manager.id]
    r = me.post(f"/comments/task/{task.id}", {"body": "  ", "next": f"/tasks/{task.id}"}, htmx=True)
    assert r.status_code == 422 and "Write a comment." in r.get_data(as_text=True)
    r = me.post(f"/comments/task/{task.id}", {"body": "plain post", "next": "https://evil.example/"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/tasks/{task.id}#comments")
    page = me.page(f"/tasks/{task.id}")
    assert "plain post" in page and "the supplier is late" in page
    inbox = browser(crew.manager).page("/inbox/")
    assert "mentioned you in a comment on Restock" in inbox and f'href="/tasks/{task.id}#comment-' in inbox


def test_comments_on_the_scorecard_page(crew, browser):
    card = crew.team.card(crew.worker)
    boss = browser(crew.manager)
    assert f'action="/comments/scorecard/{card.id}"' in boss.page(f"/scorecards/{card.id}")
    r = boss.post(f"/comments/scorecard/{card.id}", {"body": "Strong start", "next": f"/scorecards/{card.id}"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/scorecards/{card.id}#comments")
    assert "Strong start" in browser(crew.worker).page(f"/scorecards/{card.id}")


def test_without_csrf_nothing_is_written(crew, login):
    task = tasks.create_task({"title": "Restock"}, crew.worker)
    db.session.commit()
    client = login(crew.worker)
    assert client.post(f"/comments/task/{task.id}", data={"body": "no token"}).status_code == 400
    assert client.post("/tasks/new", data={"title": "no token"}).status_code == 400
    assert db.session.query(Comment).count() == 0 and db.session.query(Task).count() == 1


def test_chinese_pages_and_the_menu(crew, browser):
    task = tasks.create_task({"title": "补货", "due": "2020-01-01"}, crew.worker)
    crew.worker.locale = "zh_CN"
    db.session.commit()
    me = browser(crew.worker)
    page = me.page("/tasks/mine")
    assert "我的任务" in page and "逾期" in page
    assert "任务看板" in me.page("/tasks/board")
    detail = me.page(f"/tasks/{task.id}")
    assert "清单" in detail and "评论" in detail
    assert 'href="/tasks/mine"' in me.page("/")


def test_no_english_on_the_task_pages_for_a_chinese_user(crew, browser):
    """The zh walk of tests/web/test_zh_everywhere.py, on the task pages with a task, a checklist,
    a comment and a refusal (that walk needs the whole demo)."""
    import re

    from tests.web.test_zh_everywhere import english_in, visible_text

    task = tasks.create_task({"title": "补货", "due": "2020-01-01", "checklist": "联系工厂",
                              "assignee_id": crew.worker.id}, crew.manager)
    tasks.move_task(task, "start", crew.worker)
    crew.manager.locale = "zh_CN"
    db.session.commit()
    boss = browser(crew.manager)
    boss.post(f"/comments/task/{task.id}", {"body": "请尽快"})
    names = [re.escape(p.name) for p in (crew.manager, crew.worker, crew.peer, *crew.team.people)]
    allowed = re.compile("|".join(sorted(names, key=len, reverse=True)))
    paths = ["/tasks/mine", "/tasks/board", "/tasks/board?status=open&due=overdue", "/tasks/new",
             f"/tasks/{task.id}"]
    found = {path: english_in(visible_text(boss.page(path)), allowed) for path in paths}
    fragment = boss.get("/tasks/board?person=" + str(crew.worker.id), htmx=True).get_data(as_text=True)
    found["board (htmx)"] = english_in(visible_text(fragment), allowed)
    refused = boss.post("/tasks/new", {"title": ""}).get_data(as_text=True)
    found["refused form"] = english_in(visible_text(refused), allowed)
    comment = boss.post(f"/comments/task/{task.id}", {"body": " "}, htmx=True).get_data(as_text=True)
    found["refused comment (htmx)"] = english_in(visible_text(comment), allowed)
    assert {path: runs for path, runs in found.items() if runs} == {}


def test_item_comments_on_the_provenance_page_and_the_mention_link(crew, browser):
    from tests.appraisal.factories import metric_item

    item = metric_item(crew.team.card(crew.worker))
    crew.worker.name = "Wang Fang"
    db.session.commit()
    boss = browser(crew.manager)
    page = boss.page(f"/provenance/items/{item.id}")
    assert f'action="/comments/item/{item.id}"' in page
    r = boss.post(f"/comments/item/{item.id}", {"body": "@Wang Fang where is the B2B order?"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/provenance/items/{item.id}#comments")
    assert "where is the B2B order?" in browser(crew.worker).page(f"/provenance/items/{item.id}")
    assert f'href="/provenance/items/{item.id}#comment-' in browser(crew.worker).page("/inbox/")


def test_key_result_comments_on_its_page_and_the_mention_link(crew, browser):
    boss = browser(crew.manager)
    page = boss.page(f"/key-results/{crew.kr.id}")
    assert f'action="/comments/key_result/{crew.kr.id}"' in page
    r = boss.post(f"/comments/key_result/{crew.kr.id}", {"body": f"@{crew.worker.email.split('@')[0]} on track?"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/key-results/{crew.kr.id}#comments")
    me = browser(crew.worker)
    assert "on track?" in me.page(f"/key-results/{crew.kr.id}")
    assert f'href="/key-results/{crew.kr.id}#comment-' in me.page("/inbox/")
    assert browser(crew.peer).get(f"/key-results/{crew.kr.id}").status_code == 404
