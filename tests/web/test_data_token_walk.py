"""The data token (docs/dashboards.md, "The memo") changes only when a committed transaction
changed a row a page may read: signing in and walking the app's pages as each role, and the
writes that change no row (a zero-row UPDATE or DELETE, which PostgreSQL's statement triggers
used to count) or set the values the rows had (which both databases counted before 0041), leave
it as it was.

Real commits (rollback(False)): the token changes at COMMIT on PostgreSQL."""
import pytest
from sqlalchemy import text

from kpiapp.extensions import db
from tests.web.test_dashboard_memo import token
from tests.web.test_company_dashboard import org  # noqa: F401 (the org fixture)

pytestmark = pytest.mark.rollback(False)

PAGES = ("/", "/inbox/", "/scorecards/", "/scorecards/team", "/cycles/", "/reviews/", "/objectives/",
         "/tasks/mine", "/tasks/board", "/reports/", "/reports/cycles", "/imports/", "/metrics/",
         "/kpi-templates/", "/contracts/", "/disputes/", "/org/people", "/org/departments", "/org/positions",
         "/org/stores", "/org/clients", "/admin/audit", "/admin/integrations", "/connections",
         "/settings/notifications", "/account/api-tokens", "/account/two-factor", "/account/password",
         "/dashboards/", "/dashboards/company", "/dashboards/company/stores", "/dashboards/stores",
         "/dashboards/team", "/dashboards/person", "/api/v1/cycles", "/api/v1/scorecards",
         "/api/v1/objectives", "/api/v1/tasks", "/healthz")


def cycle_pages(org):
    cycle, card = org.team.cycle, org.team.card(org.team.people[0])
    return (f"/cycles/{cycle.id}", f"/scorecards/{card.id}", f"/dashboards/company?cycle={cycle.id}",
            f"/dashboards/team?cycle={cycle.id}", f"/dashboards/company/stores?cycle={cycle.id}")


def walk(client, paths):
    """GET every path (a page a role may not open answers 403/404: still a request to walk)."""
    for path in paths:
        response = client.get(path)
        assert response.status_code < 500, (path, response.status_code)


def test_signing_in_and_walking_the_pages_as_each_role_leaves_the_token(org, login):
    team = org.team
    db.session.commit()
    before = token()
    for person in (team.admin, team.hr, team.boss, team.manager, team.people[0]):
        client = login(person)
        walk(client, PAGES + cycle_pages(org))
    assert token() == before


@pytest.mark.parametrize("statement", [
    "UPDATE department SET name = name WHERE id = -1",
    "DELETE FROM store_owner WHERE store_id = -1",
    "UPDATE scorecard_item SET actual = actual WHERE id = -1",
    "UPDATE fx_rate SET rate = rate WHERE currency = 'XXX'",
    "DELETE FROM fact_month_stale WHERE month < '1900-01-01'",
    "INSERT INTO fx_rate (date, currency, rate) SELECT date, currency, rate FROM fx_rate WHERE true ON CONFLICT DO NOTHING",
    'UPDATE "user" SET name = name WHERE id = -1',
    "INSERT INTO department (name) SELECT 'x' WHERE false",
])
def test_a_write_that_changes_no_row_leaves_the_token(org, statement):
    """PostgreSQL's statement triggers fired for these too (before migration 0037); the bulk
    fact tables (dbtriggers.EVERY_STATEMENT) still count every statement, by choice."""
    before = token()
    db.session.execute(text(statement))
    db.session.commit()
    assert token() == before


OPEN_ITEMS = "scorecard_id IN (SELECT id FROM scorecard WHERE state <> 'locked')"  # locked items refuse any UPDATE
LAST_DEPARTMENT = "(SELECT max(id) FROM department)"


@pytest.mark.parametrize("statement", [
    "UPDATE department SET name = name, parent_id = parent_id",
    f"UPDATE scorecard_item SET actual = actual, scope = scope, rule = rule WHERE {OPEN_ITEMS}",
    "UPDATE scorecard_total SET weighted = weighted, item_count = item_count",  # keyed on scorecard_id
    'UPDATE "user" SET name = name, department_id = department_id',  # a row trigger on the tracked columns
    "UPDATE store SET name = name",
])
def test_an_update_that_sets_the_values_rows_had_leaves_the_token(org, statement):
    before = token()
    assert db.session.execute(text(statement)).rowcount > 0
    db.session.commit()
    assert token() == before


@pytest.mark.parametrize("statement", [
    f"UPDATE department SET name = name || ' (old)' WHERE id = {LAST_DEPARTMENT}",
    f"UPDATE department SET name = CASE WHEN id = {LAST_DEPARTMENT} THEN name || ' (old)' ELSE name END",
    f"UPDATE scorecard_item SET scope = CASE WHEN id = (SELECT max(id) FROM scorecard_item WHERE {OPEN_ITEMS}) "
    f"THEN '{{\"stores\": []}}' ELSE scope END WHERE {OPEN_ITEMS}",  # json: compared by its text
    "UPDATE scorecard_total SET item_count = CASE WHEN scorecard_id = (SELECT max(scorecard_id) "
    "FROM scorecard_total) THEN item_count + 1 ELSE item_count END",
    'UPDATE "user" SET name = CASE WHEN id = (SELECT max(id) FROM "user") THEN name || \' (old)\' ELSE name END',
])
def test_an_update_that_changes_a_row_among_equal_ones_changes_the_token(org, statement):
    """One changed row is enough, wherever the statement meets it (the others set as they were)."""
    before = token()
    assert db.session.execute(text(statement)).rowcount > 0
    db.session.commit()
    assert token() != before


def test_an_update_of_an_untracked_column_of_a_person_to_a_new_value_leaves_the_token(org):
    before = token()
    db.session.execute(text('UPDATE "user" SET failed_logins = failed_logins + 1, name = name'))
    db.session.commit()
    assert token() == before
