"""The weekly review pages: who may open a team's review, the numbers per person, notes,
decisions that become tasks, close (the snapshot stays), PDF and XLSX, zh and en."""
import io
from datetime import date

import pytest
from openpyxl import load_workbook

from kpiapp.extensions import db
from kpiapp.models import ReviewDecision, Task, WeeklyReview
from tests.factories import ClientUserFactory, UserFactory
from tests.objectives.test_reviews import WEEK, add_sales
from tests.web.test_pace_dashboards import TODAY, build, relax_acos

pytestmark = pytest.mark.rollback

URL = "/reviews/{boss}?week=2026-11-09"  # the page; its forms post to /reviews/<boss>/2026-11-09/...


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr("kpiapp.objectives.routes.reviews.utc_today", lambda: TODAY)


@pytest.fixture
def org(app):
    o = build(["Amy", "Zed"])
    relax_acos(o, o.people[0])
    db.session.commit()
    o.url = URL.format(boss=o.boss.id)
    o.act = f"/reviews/{o.boss.id}/2026-11-09"
    return o


def the_review(org):
    return db.session.execute(db.select(WeeklyReview).filter_by(manager_id=org.boss.id, week=WEEK)).scalar_one()


def test_the_team_manager_and_hr_open_the_review_others_do_not(org, browser):
    amy, zed = org.people
    html = browser(org.boss).page(org.url)
    assert "Weekly review: team of" in html and "Amy" in html and "Zed" in html
    assert "$1,000.00" in html and "$300.00" in html and "+$700.00" in html  # Zed's GMV: a week ago -> now
    assert html.count('data-state="at-risk"') == 1  # Zed's ACoS
    assert html.count("data-chart-spec") == 4  # a sparkline per item per person
    assert browser(org.hr).get(org.url).status_code == 200
    assert browser(amy).get(org.url).status_code == 404
    assert browser(UserFactory()).get(org.url).status_code == 404
    assert browser(ClientUserFactory()).get(org.url).status_code == 403
    assert db.session.query(WeeklyReview).count() == 0  # looking writes nothing


def test_any_day_of_the_week_opens_its_monday(org, browser):
    response = browser(org.boss).get(f"/reviews/{org.boss.id}?week=2026-11-12")
    assert response.status_code == 302 and response.headers["Location"].endswith(org.url)
    this_week = browser(org.boss).get(f"/reviews/{org.boss.id}")  # no week: TODAY's week, shown at once
    assert this_week.status_code == 200 and org.url.split("week=")[1] in this_week.get_data(as_text=True)
    assert browser(org.boss).get(f"/reviews/{org.boss.id}?week=not-a-day").status_code == 404


def test_the_index_lists_the_teams_one_may_review(org, browser):
    html = browser(org.boss).page("/reviews/")
    assert f"/reviews/{org.boss.id}?week=2026-11-09" in html.replace("&amp;", "&")
    picked = browser(org.boss).get(f"/reviews/?manager={org.boss.id}&week=2026-11-11")
    assert picked.headers["Location"].endswith(org.url)
    assert "No team to review" in browser(org.people[0]).page("/reviews/")


def test_notes_and_a_refused_decision_keep_what_was_typed(org, browser):
    b = browser(org.boss)
    assert b.post(org.act + "/notes", {"notes": "Ads too expensive"}).status_code == 302
    assert the_review(org).notes == "Ads too expensive"
    stranger = UserFactory()
    refused = b.post(org.act + "/decisions", {"text": "Cut the ad budget", "owner_id": str(stranger.id)})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "Cut the ad budget" in html and "Choose someone in this team." in html
    assert db.session.query(ReviewDecision).count() == 0


def test_a_decision_then_one_click_makes_it_a_task(org, browser):
    zed = org.people[1]
    b = browser(org.boss)
    assert b.post(org.act + "/decisions", {"text": "Cut the ad budget", "owner_id": str(zed.id)}).status_code == 302
    decision = db.session.query(ReviewDecision).one()
    assert decision.task_id is None
    response = b.post(f"{org.act}/decisions/{decision.id}/task", {"due": "2026-11-16"})
    assert response.status_code == 302
    db.session.expire_all()
    task = db.session.get(Task, db.session.query(ReviewDecision).one().task_id)
    assert (task.assignee_id, task.due, task.review_id) == (zed.id, date(2026, 11, 16), decision.review_id)
    html = b.page(org.url)
    assert f"/decisions/{decision.id}/task" not in html and "To do" in html  # the task's status instead
    # the next week's review opens with it, and its task's status
    nxt = b.page(org.url.replace("2026-11-09", "2026-11-16"))
    assert "Last week's decisions" in nxt and "Cut the ad budget" in nxt and 'data-state="task-open">To do' in nxt


def test_a_decision_with_the_task_box_ticked_is_a_task_at_once(org, browser):
    amy = org.people[0]
    response = browser(org.boss).post(org.act + "/decisions", {"text": "Call the supplier", "owner_id": str(amy.id),
                                                               "due": "2026-11-13", "task": "y"})
    assert response.status_code == 302
    task = db.session.get(Task, db.session.query(ReviewDecision).one().task_id)
    assert (task.title, task.assignee_id, task.creator_id, task.due) == ("Call the supplier", amy.id, org.boss.id,
                                                                         date(2026, 11, 13))


def test_closing_freezes_the_numbers_and_exports(org, browser):
    b = browser(org.boss)
    assert b.post(org.act + "/close").status_code == 302
    add_sales(org.shop, date(2026, 11, 5), "1000", "late-web")
    html = b.page(org.url)
    assert "Closed on" in html and "$1,000.00" in html and "$1,500.00" not in html
    assert "Record the decision" not in html
    assert b.post(org.act + "/notes", {"notes": "late"}).status_code == 422
    xlsx = b.get(org.act + "/export.xlsx")
    assert xlsx.status_code == 200 and "attachment" in xlsx.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0][:5] == ["Person", "Kind", "Name", "A week ago", "Now"]
    assert ["Zed", "KPI item", "GMV", 300, 1000] in [r[:5] for r in rows]
    gmv = next(row for row in sheet.iter_rows() if row[2].value == "GMV")
    assert [c.data_type for c in gmv[3:6]] == ["n", "n", "n"]  # numbers a spreadsheet can add up
    pdf = b.get(org.act + "/export.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_the_review_in_chinese(org, browser):
    org.boss.locale = "zh_CN"
    db.session.commit()
    html = browser(org.boss).page(org.url)
    assert "周会复盘" in html and "Weekly review" not in html and "A week ago" not in html


def test_htmx_gets_the_review_body_back(org, browser):
    b = browser(org.boss)
    fragment = b.get(org.url, htmx=True).get_data(as_text=True)
    assert fragment.lstrip().startswith("<div") and "<html" not in fragment and 'id="review-body"' in fragment
    refused = b.post(org.act + "/decisions", {"text": "", "owner_id": ""}, htmx=True)
    assert refused.status_code == 422 and "<html" not in refused.get_data(as_text=True)
