"""Issue 14, "done means": the task board in Chromium at 1366 and 390 px, in Chinese and
English: no wider than the window, the htmx filters swap the board and push the address,
a comment with a mention posts in place; the same pages work with JavaScript off."""
import pytest

from kpiapp.extensions import db
from kpiapp.objectives import tasks
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD
from tests.objectives.helpers_tasks import make_crew

pytestmark = pytest.mark.browser

SIZES = {"1366": (1366, 900), "390": (390, 844)}
LANGS = {"zh": "zh_CN", "en": "en"}
FITS = "document.documentElement.scrollWidth <= window.innerWidth"


def make_board(locale):
    """Two tasks of the manager's team; plain values back (the browser's requests must not wait
    on a read transaction of this test's session: SQLite)."""
    crew = make_crew()
    crew.manager.name, crew.manager.locale = "Li Wei", locale
    tasks.create_task({"title": "Restock AMZ-DE", "assignee_id": crew.worker.id, "due": "2020-01-05",
                       "checklist": "quote\nbook"}, crew.manager)
    started = tasks.create_task({"title": "Fix listing images", "assignee_id": crew.peer.id}, crew.manager)
    tasks.move_task(started, "start", crew.peer)
    values = {"manager": crew.manager.email, "worker_login": crew.worker.email.split("@")[0],
              "peer_id": crew.peer.id}
    db.session.commit()
    db.session.close()
    return values


@pytest.mark.parametrize("lang", list(LANGS))
@pytest.mark.parametrize("size", list(SIZES))
def test_task_board_and_detail(app, browser, shot, size, lang, request):
    crew = make_board(LANGS[lang])
    live_server = request.getfixturevalue("live_server")
    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(10_000)
    sign_in(page, live_server, crew["manager"], PASSWORD)
    page.goto(f"{live_server}/tasks/board")
    assert page.evaluate(FITS), "the board is wider than the window"
    assert page.locator(".task-card").count() == 2
    shot(page, f"board-{size}-{lang}")

    page.select_option("select[name=status]", "in_progress")  # htmx: the board alone is swapped
    page.wait_for_url("**/tasks/board?*status=in_progress*")
    page.wait_for_function("document.querySelectorAll('.task-card').length === 1")
    assert "Fix listing images" in page.inner_text("#task-board")

    page.goto(f"{live_server}/tasks/mine")
    page.goto(f"{live_server}/tasks/board")
    page.click("text=Restock AMZ-DE")
    page.wait_for_selector("textarea[name=body]")  # the task page has loaded, not the board unloading
    assert page.evaluate(FITS), "the task page is wider than the window"
    page.fill("textarea[name=body]", f"@{crew['worker_login']} please book today")
    page.click(".comments button[type=submit]")
    page.wait_for_selector(".comment-list li")
    assert "please book today" in page.inner_text(".comments")
    shot(page, f"task-{size}-{lang}")
    context.close()


def test_without_javascript(app, browser, request):
    crew = make_board("en")
    live_server = request.getfixturevalue("live_server")
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    sign_in(page, live_server, crew["manager"], PASSWORD)
    page.goto(f"{live_server}/tasks/board")
    page.select_option("select[name=person]", str(crew['peer_id']))
    page.click("form.filter-bar button[type=submit]")
    page.wait_for_url(f"**/tasks/board?person={crew['peer_id']}*")
    assert page.locator(".task-card").count() == 1
    page.click("text=Fix listing images")
    page.click("button:has-text('Mark done')")
    page.wait_for_selector(".flash-success")
    assert "Done" in page.inner_text(".task dl")
    context.close()
