"""Issue 11: the grouped menu, the home page's "what needs me now", the scorecard's stepper and
projected total, and an inbox that names the verb, the return reason and what is overdue."""
import re
from datetime import date
from decimal import Decimal

import pytest

from kpiapp.appraisal import progress, services
from kpiapp.appraisal.workflow import Action
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from tests.appraisal.factories import walk_to

pytestmark = pytest.mark.rollback


def menu(html):
    return html[html.index("<header"):html.index("</header>")]


def test_menu_groups_the_entries_and_marks_the_current_section(team, browser):
    html = menu(browser(team.hr).page("/org/people"))
    groups = re.findall(r'data-group="(\w+)">\s*<summary( class="current")?>', html)
    assert [name for name, _ in groups] == ["mine", "dashboards", "appraisal", "org", "data"]  # "system": one entry
    assert dict(groups)["org"] and not dict(groups)["mine"]
    assert '<a href="/org/people" aria-current="page">' in html
    assert html.count('aria-current="page"') == 1


def test_a_section_with_one_entry_is_a_plain_link(team, browser):
    html = menu(browser(team.people[0]).page("/metrics/"))
    assert 'data-group="data"' not in html
    assert re.search(r'<a href="/metrics/"\s+aria-current="page"', html)


def test_my_team_shows_only_to_people_with_reports(team, browser):
    assert 'href="/scorecards/team"' in menu(browser(team.manager).page("/"))
    assert 'href="/scorecards/team"' not in menu(browser(team.people[0]).page("/"))


def test_home_names_my_next_step_and_my_projected_score(team, browser):
    person = team.people[0]
    card = walk_to(team, person, S.SELF_REVIEW)
    html = browser(person).page("/")
    assert "Complete your self-review" in html and "Waiting for me: 1" in html
    assert f'href="/scorecards/{card.id}"' in html
    assert re.search(r"Projected score 110\b", html) and "projected until reviewed" in html


def test_home_shows_the_team_pipeline_to_managers_and_the_funnel_to_hr(team, browser):
    walk_to(team, team.people[0], S.SELF_REVIEW)
    manager_home = browser(team.manager).page("/")
    pipeline = manager_home[manager_home.index('id="team-pipeline"'):]
    counts = dict(re.findall(r"<span>([^<]+)</span> <strong>(\d+)</strong>", pipeline))
    assert counts["Self-review"] == "1" and counts["Targets"] == "2"
    assert 'id="cycle-funnel"' in browser(team.hr).page("/")
    employee_home = browser(team.people[1]).page("/")
    assert 'id="team-pipeline"' not in employee_home and 'id="cycle-funnel"' not in employee_home


def test_scorecard_stepper_shows_the_stage_who_acts_and_the_deadline(team, browser):
    person = team.people[0]
    card = walk_to(team, person, S.SELF_REVIEW)
    team.cycle.self_review_due = date(2000, 1, 31)
    db.session.commit()
    html = browser(team.manager).page(f"/scorecards/{card.id}")
    steps = re.findall(r'<li class="step([^"]*)"\s*(aria-current="step")?>([^<]+)</li>', html)
    assert [label for _, _, label in steps] == ["Targets", "Approval", "Tracking", "Self-review",
                                                "Manager review", "Calibration", "Locked"]
    assert [label for _, current, label in steps if current] == ["Self-review"]
    assert "step-overdue" in steps[3][0]
    assert f"Next: {person.name}" in html and "Complete your self-review" in html and "(overdue)" in html


def test_scorecard_projects_a_total_until_reviewed_then_shows_the_real_one(team, browser):
    person = team.people[0]
    card = walk_to(team, person, S.SELF_REVIEW)
    projection = progress.projected(card)
    assert projection.total == Decimal("110.00") and projection.covered == Decimal(60)
    assert re.search(r"Projected score 110, data as of", browser(person).page(f"/scorecards/{card.id}"))
    walk_to(team, person, S.CALIBRATION)
    assert progress.projected(card) is None
    assert "Projected score" not in browser(person).page(f"/scorecards/{card.id}")


def test_inbox_names_the_verb_the_return_reason_and_overdue_items(team, browser):
    person = team.people[0]
    card = walk_to(team, person, S.SUBMITTED)
    services.apply_action(card.id, Action.RETURN_, team.manager, reason="GMV target too low")
    team.cycle.targets_due = date(2000, 1, 31)
    db.session.commit()
    html = browser(person).page("/inbox/")
    row = html[html.index('id="waiting"'):html.index("</table>")]
    assert "Revise and resubmit your targets" in row and "Returned: GMV target too low" in row
    assert 'class="overdue-row"' in row and "(overdue)" in row
    manager_inbox = browser(team.manager).page("/inbox/")
    assert "Revise and resubmit" not in manager_inbox[manager_inbox.index('id="waiting"'):]


def section(html, card, name):
    start = html.index(f'id="scorecard-{card.id}-{name}"')
    return html[start:html.index("</section>", start) if name != "status" else html.index("</article>", start)]


@pytest.mark.parametrize("state, who, action, form", [
    (S.DRAFT, "owner", "submit", "items"),
    (S.SELF_REVIEW, "owner", "submit_self_review", "reviews"),
    (S.MANAGER_REVIEW, "manager", "submit_manager_review", "reviews"),
    (S.MANAGER_REVIEW, "manager", "return_self_review", "reviews"),
])
def test_a_step_button_sits_next_to_the_form_it_sends_on(team, browser, state, who, action, form):
    person = team.people[0]
    card = walk_to(team, person, state)
    html = browser(person if who == "owner" else team.manager).page(f"/scorecards/{card.id}")
    assert f'data-action="{action}"' in section(html, card, form)
    assert f'data-action="{action}"' not in section(html, card, "status")
    assert "Your next step is below" in section(html, card, "status")


def test_a_step_without_a_form_stays_in_the_status_panel(team, browser):
    card = walk_to(team, team.people[0], S.SUBMITTED)
    html = browser(team.manager).page(f"/scorecards/{card.id}")
    status = section(html, card, "status")
    assert 'data-action="approve"' in status and 'data-action="return"' in status
