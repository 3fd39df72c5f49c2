"""The pages that run third-party JavaScript (vega-embed charts, Swagger UI) under the strict CSP."""

import pytest
from playwright.sync_api import expect

from kpiapp.extensions import db
from tests.appraisal.factories import make_team, walk_to
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def console_errors(page):
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def policy_violations(errors):
    return [e for e in errors if "Content Security Policy" in e or "unsafe-eval" in e]


def test_scorecard_chart_draws_without_relaxing_the_csp(app, live_server, page, shot):
    from kpiapp.appraisal.workflow import ScorecardState as S

    team = make_team(size=1)
    person = team.people[0]
    walk_to(team, person, S.LOCKED)
    card_id, email = team.card(person).id, person.email
    db.session.commit()
    errors = console_errors(page)

    sign_in(page, live_server, email, PASSWORD)
    page.goto(f"{live_server}/scorecards/{card_id}")
    figure = page.locator(f"#scorecard-{card_id}-points")
    expect(figure.locator(".chart-view svg")).to_be_visible()
    expect(figure.locator("table.chart-data")).to_have_class("chart-data visually-hidden")
    assert "GMV" in figure.locator(".chart-view svg").inner_html()  # the item labels are drawn
    shot(page, "scorecard-chart")
    assert not policy_violations(errors)


def test_api_docs_page_works_under_the_csp(live_server, page, shot):
    errors = console_errors(page)
    page.goto(f"{live_server}/api/v1/docs")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    assert page.locator(".opblock").count() >= 7
    shot(page, "api-docs")
    assert not policy_violations(errors)
