"""Results export and bonus screens (docs/bonus.md): HR's pages, downloads, who sees a bonus."""
import csv
import re
import io
from decimal import Decimal as D

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from kpiapp.bonus import services
from kpiapp.extensions import db
from kpiapp.models import BonusLine, Role
from tests.appraisal.factories import manual_items, metric_item
from tests.bonus.factories import BASES, graded_team
from tests.factories import UserFactory
from tests.web.test_cycle_walk import api, new_token


@pytest.fixture
def team(app):
    return graded_team()


def bases_form(team, bases=BASES):
    return {f"base-{p.id}": str(b) for p, b in zip(team.people, bases)}


def frozen(team, budget=None):
    services.set_bases(team.cycle, team.hr, dict(zip([p.id for p in team.people], BASES)))
    services.set_budget(team.cycle, team.hr, budget)
    services.freeze(team.cycle, team.hr)
    db.session.commit()
    return team


def rows_of_csv(body):
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def test_hr_types_bases_sets_a_budget_and_freezes(team, browser):
    hr = browser(team.hr)
    bonus = f"/cycles/{team.cycle.id}/bonus"
    assert hr.post(f"{bonus}/bases", bases_form(team)).status_code == 302
    assert hr.post(f"{bonus}/budget", {"budget": "20000"}).status_code == 302
    page = hr.page(bonus)
    assert '<dd id="bonus-total-amount">21,333.33</dd>' in page
    assert '<dd id="bonus-total-paid">20,000.00</dd>' in page
    row = page.split(f'id="bonus-{team.people[0].id}"')[1].split("</tr>")[0]
    assert "<td>12,000.00</td><td>11,250.00</td>" in row  # amount before, paid after scaling
    assert hr.post(f"{bonus}/freeze").status_code == 302
    page = hr.page(bonus)
    assert 'name="base-' not in page and "/bonus.xlsx" in page
    refused = hr.post(f"{bonus}/bases", bases_form(team, (D(1), D(1), D(1))))
    assert refused.status_code == 409 and "frozen" in refused.get_data(as_text=True)
    kept = select(BonusLine.base).where(BonusLine.person_id == team.people[0].id)
    assert db.session.scalar(kept) == D("8000.00")


def test_a_bad_typed_base_changes_nothing(team, browser):
    hr = browser(team.hr)
    response = hr.post(f"/cycles/{team.cycle.id}/bonus/bases", bases_form(team, ("100", "-1", "5")))
    assert response.status_code == 422
    assert db.session.scalar(select(BonusLine.id)) is None


def test_import_shows_every_problem_with_its_line_in_chinese(team, browser):
    team.hr.locale = "zh_CN"
    db.session.commit()
    hr = browser(team.hr)
    data = f"email,base\n{team.people[0].email},8000\nnobody@example.com,1.234\n".encode()
    response = hr.client.post(f"/cycles/{team.cycle.id}/bonus/import",
                              data={"csrf_token": hr.token, "file": (io.BytesIO(data), "bases.csv")})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "没有使用该邮箱的人员。" in html and "最多两位小数（分）。" in html
    assert "<td>3</td><td>email</td>" in html and "<td>3</td><td>base</td>" in html
    assert db.session.scalar(select(BonusLine.id)) is None


def test_import_of_a_good_xlsx_file(team, browser):
    from openpyxl import Workbook
    book = Workbook()
    book.active.append(["email", "base"])
    for person, base in zip(team.people, BASES):
        book.active.append([person.email, float(base) if base != D("3333.33") else "3333.33"])
    buffer = io.BytesIO()
    book.save(buffer)
    hr = browser(team.hr)
    response = hr.client.post(f"/cycles/{team.cycle.id}/bonus/import",
                              data={"csrf_token": hr.token,
                                    "file": (io.BytesIO(buffer.getvalue()), "b.xlsx")})
    assert response.status_code == 302
    assert sorted(db.session.scalars(select(BonusLine.base))) == [D("3333.33"), D("5000.00"), D("8000.00")]


def test_payroll_xlsx_after_the_freeze_only(team, browser):
    hr = browser(team.hr)
    url = f"/cycles/{team.cycle.id}/bonus.xlsx"
    assert hr.get(url).status_code == 302  # nothing final to pay yet
    frozen(team, D("20000"))
    response = hr.get(url)
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == services.PAYROLL_COLUMNS
    assert sorted(r[4:] for r in rows[1:]) == [
        ["1.000", "3333.33", "3333.33", "3125.00"],
        ["1.200", "5000.00", "6000.00", "5625.00"],
        ["1.500", "8000.00", "12000.00", "11250.00"],
    ]


def test_results_export_one_row_per_item_with_safe_cells(team, browser):
    card = team.card(team.people[0])
    item = manual_items(card)[0]
    hr = browser(team.hr)
    body = hr.get(f"/cycles/{team.cycle.id}/results.csv").data
    rows = rows_of_csv(body)
    assert len(rows) == 6  # 3 people x 2 items
    mine = [r for r in rows if r["person_id"] == str(team.people[0].id)]
    assert [(r["item"], r["weight"], r["target"], r["actual"], r["points"]) for r in mine] == [
        ("GMV", "60.00", "100000.000000", "110000.000000", "110.00"),
        (item.name, "40.00", "", "", "80.00"),
    ]
    assert {(r["total"], r["grade"], r["coefficient"], r["state"], r["acknowledgement"]) for r in mine} == {
        ("98.00", "S", "1.500", "locked", "none")}
    assert mine[0]["manager"] == team.manager.name and mine[0]["email"] == team.people[0].email


def test_results_cells_cannot_run_as_formulas(team, browser):
    person = team.people[1]
    person.name = "=HYPERLINK(\"http://evil\",\"x\")"
    db.session.commit()
    hr = browser(team.hr)
    rows = rows_of_csv(hr.get(f"/cycles/{team.cycle.id}/results.csv").data)
    names = {r["person"] for r in rows if r["person_id"] == str(person.id)}
    assert names == {"'=HYPERLINK(\"http://evil\",\"x\")"}
    sheet = load_workbook(io.BytesIO(hr.get(f"/cycles/{team.cycle.id}/results.xlsx").data)).active
    names = {row[2].value for row in sheet.iter_rows(min_row=2)}
    assert "'=HYPERLINK(\"http://evil\",\"x\")" in names
    assert not any(str(n).startswith("=") for n in names)


def test_only_hr_and_admins_reach_the_bonus_and_results_pages(team, browser):
    cycle = team.cycle.id
    for user, status in ((team.people[0], 403), (team.manager, 403), (team.hr, 200), (team.admin, 200)):
        client = browser(user)
        for path in (f"/cycles/{cycle}/bonus", f"/cycles/{cycle}/results.csv"):
            assert client.get(path).status_code == status, (user.role, path)
        frozen_now = client.post(f"/cycles/{cycle}/bonus/freeze").status_code
        assert frozen_now == 403 if status == 403 else frozen_now in (302, 409)  # 409: admin after HR


def test_each_person_sees_their_own_bonus_only_once_frozen(team, browser):
    person = team.people[0]
    card_url = f"/scorecards/{team.card(person).id}"
    assert 'id="my-bonus"' not in browser(person).page(card_url)  # not frozen yet
    frozen(team, D("20000"))
    own = browser(person).page(card_url)
    assert 'id="my-bonus"' in own and "11,250.00" in own and "12,000.00" in own
    managers_view = browser(team.manager).page(card_url)
    assert 'id="my-bonus"' not in managers_view and "11,250.00" not in managers_view
    assert "11,250.00" in browser(team.hr).page(card_url)


def test_api_results_follow_the_scorecard_visibility(team, browser, app):
    http = app.test_client()
    status, body = api(http, new_token(browser(team.people[0])), "GET", f"/cycles/{team.cycle.id}/results")
    assert status == 200 and {r["person_id"] for r in body["rows"]} == {str(team.people[0].id)}
    assert [(r["item"], r["points"], r["total"], r["grade"]) for r in body["rows"]][0] == (
        "GMV", "110.00", "98.00", "S")
    status, body = api(http, new_token(browser(team.manager)), "GET", f"/cycles/{team.cycle.id}/results")
    assert len(body["rows"]) == 6 and body["columns"][:3] == ["cycle", "person_id", "person"]
    outsider = UserFactory(role=Role.employee)
    db.session.commit()
    status, _body = api(http, new_token(browser(outsider)), "GET", f"/cycles/{team.cycle.id}/results")
    assert status == 404


def test_the_bonus_table_pages_by_keyset_and_htmx_gets_the_table_only(team, browser, monkeypatch):
    monkeypatch.setattr("kpiapp.appraisal.queries.PAGE_SIZE", 2)
    hr = browser(team.hr)
    first = hr.page(f"/cycles/{team.cycle.id}/bonus")
    shown = re.findall(r'<tr id="bonus-(\d+)">', first)
    next_link = re.search(r'<a href="([^"]*after=\d+)" rel="next"', first).group(1).replace("&amp;", "&")
    second = hr.get(next_link, htmx=True).get_data(as_text=True)
    assert second.lstrip().startswith('<div id="bonus-live">')
    shown += re.findall(r'<tr id="bonus-(\d+)">', second)
    assert len(shown) == 3 and sorted(map(int, shown)) == sorted(p.id for p in team.people)
    assert "rel=\"next\"" not in second and "<html" not in second
