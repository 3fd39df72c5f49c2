"""Forms that keep what was typed: a refused post (4xx) shows the form again with the posted
values, the offending input marked (aria-invalid, its message next to it, autofocus on the
first one), and the inputs carry their constraints in HTML."""

import re
from decimal import Decimal

import pytest

from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from tests.appraisal.factories import manual_items, metric_item, walk_to

LONG = ("A long quarter: three launches, two stock-outs and a marketplace audit. " * 45)[:3000]


def tag(html, name):
    """The opening tag of the input/textarea/select named `name`."""
    found = re.search(rf'<(?:input|textarea|select)\b[^>]*\bname="{re.escape(name)}"[^>]*>', html)
    assert found, f"no input {name}"
    return found.group(0)


def attrs(html, name):
    return dict(re.findall(r'([a-z-]+)="([^"]*)"', tag(html, name)))


@pytest.mark.parametrize("htmx", [True, False])
def test_refused_self_review_comes_back_as_typed(team, browser, htmx):
    person = team.people[0]
    card = walk_to(team, person, S.SELF_REVIEW)
    teamwork, gmv = manual_items(card)[0], metric_item(card)
    r = browser(person).post(f"/scorecards/{card.id}/self-review", {
        "self_comment": LONG,
        f"items-{teamwork.id}-self_score": "7",  # the scale is 0 to 5
        f"items-{teamwork.id}-self_comment": "Ran the weekly stand-up",
        f"items-{gmv.id}-self_comment": "B2B orders helped",
        "expected_version": card.version_id,
    }, htmx=htmx)
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and ("<html" in html) != htmx  # the page again, never a redirect
    assert f"{LONG}</textarea>" in html
    assert 'value="Ran the weekly stand-up"' in html and 'value="B2B orders helped"' in html
    score = attrs(html, f"items-{teamwork.id}-self_score")
    assert score["value"] == "7" and score["aria-invalid"] == "true"
    assert " autofocus" in tag(html, f"items-{teamwork.id}-self_score") and html.count("autofocus") == 1
    message = re.search(rf'id="{score["aria-describedby"]}">([^<]+)<', html).group(1)
    assert message == "Enter a number from 0 to 5."
    db.session.refresh(card)
    assert card.self_comment is None and manual_items(card)[0].self_score is None


def test_override_without_reason_marks_the_reason_and_keeps_the_review(team, browser):
    person = team.people[0]
    card = walk_to(team, person, S.MANAGER_REVIEW)
    teamwork, gmv = manual_items(card)[0], metric_item(card)
    r = browser(team.manager).post(f"/scorecards/{card.id}/manager-review", {
        f"items-{teamwork.id}-manager_score": "3.5",
        f"items-{gmv.id}-manager_score": "100",  # differs from the computed points
        f"items-{gmv.id}-manager_comment": "Strong December",
        "manager_comment": "Agreed, with one correction.",
        "expected_version": card.version_id,
    }, htmx=True)
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "Overriding a computed score needs a reason." in html
    reason = attrs(html, f"items-{gmv.id}-override_reason")
    assert reason["aria-invalid"] == "true" and " autofocus" in tag(html, f"items-{gmv.id}-override_reason")
    assert attrs(html, f"items-{teamwork.id}-manager_score")["value"] == "3.5"
    assert attrs(html, f"items-{gmv.id}-manager_score")["value"] == "100"
    assert 'value="Strong December"' in html and "Agreed, with one correction.</textarea>" in html


def test_refused_targets_keep_every_typed_value(team, browser):
    person = team.people[0]
    card = team.card(person)
    gmv, teamwork = metric_item(card), manual_items(card)[0]
    r = browser(person).post(f"/scorecards/{card.id}/targets", {
        f"items-{gmv.id}-target": "105000",
        f"items-{gmv.id}-stretch": "lots",
        f"items-{gmv.id}-threshold": "1e20",  # more than NUMERIC(20, 6) holds: refused, not a 500
        f"items-{teamwork.id}-weight": "140",
        "expected_version": card.version_id,
    }, htmx=True)
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "Some entries need correcting" in html
    assert attrs(html, f"items-{gmv.id}-target")["value"] == "105000"
    assert "aria-invalid" not in tag(html, f"items-{gmv.id}-target")
    stretch, weight = attrs(html, f"items-{gmv.id}-stretch"), attrs(html, f"items-{teamwork.id}-weight")
    assert stretch["value"] == "lots" and stretch["aria-invalid"] == "true"
    assert weight["value"] == "140" and weight["aria-invalid"] == "true"
    assert attrs(html, f"items-{gmv.id}-threshold")["aria-invalid"] == "true"
    assert "This number is too large." in html
    assert "Enter a number." in html and "Enter a number from 0 to 100." in html
    db.session.refresh(gmv)
    assert str(gmv.target) == "100000.000000"


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-inf", "1e999999"])
def test_numbers_that_are_not_finite_are_refused_not_crashed(team, browser, value):
    person = team.people[0]
    card = walk_to(team, person, S.SELF_REVIEW)
    teamwork = manual_items(card)[0]
    r = browser(person).post(f"/scorecards/{card.id}/self-review", {
        f"items-{teamwork.id}-self_score": value, "expected_version": card.version_id}, htmx=True)
    assert r.status_code == 422
    assert attrs(r.get_data(as_text=True), f"items-{teamwork.id}-self_score")["aria-invalid"] == "true"


def test_stale_save_keeps_what_was_typed_under_the_conflict_notice(team, browser):
    person = team.people[0]
    card = team.card(person)
    gmv, seen = metric_item(card), card.version_id
    browser(team.manager).post(f"/scorecards/{card.id}/targets",
                               {f"items-{gmv.id}-target": "99000", "expected_version": seen})
    for htmx in (True, False):
        r = browser(person).post(f"/scorecards/{card.id}/targets",
                                 {f"items-{gmv.id}-target": "123456", "expected_version": seen}, htmx=htmx)
        html = r.get_data(as_text=True)
        assert r.status_code == 409 and f"changed by {team.manager.name}" in html
        assert "What you typed is still in the form below" in html and "Reload the scorecard" in html
        assert attrs(html, f"items-{gmv.id}-target")["value"] == "123456"
        db.session.refresh(card)
        assert f'name="expected_version" value="{card.version_id}"' in html  # saving again is deliberate
    db.session.refresh(gmv)
    assert str(gmv.target) == "99000.000000"


def test_inputs_carry_their_constraints(team, browser):
    person = team.people[0]
    card = team.card(person)
    gmv, teamwork = metric_item(card), manual_items(card)[0]
    html = browser(person).page(f"/scorecards/{card.id}")
    weight = attrs(html, f"items-{teamwork.id}-weight")
    assert (weight["type"], weight["min"], weight["max"], weight["step"]) == ("number", "0", "100", "any")
    assert attrs(html, f"items-{gmv.id}-target")["step"] == "any"

    walk_to(team, person, S.SELF_REVIEW)
    html = browser(person).page(f"/scorecards/{card.id}")
    score = attrs(html, f"items-{teamwork.id}-self_score")
    assert (score["type"], score["min"], score["max"], score["step"]) == ("number", "0", "5", "any")
    assert attrs(html, "self_comment")["maxlength"] == "5000"
    assert f'name="items-{gmv.id}-self_score"' not in html  # scored from data, not by its owner

    walk_to(team, person, S.MANAGER_REVIEW)
    html = browser(team.manager).page(f"/scorecards/{card.id}")
    assert attrs(html, f"items-{teamwork.id}-manager_score")["max"] == "5"
    assert attrs(html, f"items-{gmv.id}-manager_score")["max"] == "120"  # points, up to the cap

    walk_to(team, person, S.CALIBRATION)
    html = browser(team.hr).page(f"/scorecards/{card.id}")
    assert " required" in tag(html, "reason") and attrs(html, "reason")["maxlength"] == "2000"


def test_refused_cycle_form_keeps_what_was_typed(team, browser):
    hr = browser(team.hr)
    r = hr.post("/cycles/new", {
        "name": "2027-01", "kind": "quarterly", "period_start": "2027-01-01", "period_end": "",
        "targets_due": "2027-01-05",
        "grade-1-grade": "S", "grade-1-min_score": "95", "grade-1-max_share": "x",
        "position_id": team.position.id,
    })
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert attrs(html, "name")["value"] == "2027-01" and attrs(html, "targets_due")["value"] == "2027-01-05"
    assert re.search(r'<option selected value="quarterly">|<option value="quarterly" selected>', html)
    assert re.search(rf'<option selected value="{team.position.id}">', html)
    end, share = attrs(html, "period_end"), attrs(html, "grade-1-max_share")
    assert end["aria-invalid"] == "true" and " autofocus" in tag(html, "period_end")
    assert " required" in tag(html, "period_end")
    assert share["value"] == "x" and share["aria-invalid"] == "true"
    assert attrs(html, "grade-1-min_score")["max"] == "120"


def test_refused_template_keeps_rows_and_marks_the_bad_weight(app, browser):
    from tests.appraisal.factories import HRFactory
    from tests.web.test_hr_screens import ROWS

    hr = browser(HRFactory())
    # rows as the page numbers them (from 0); a post numbered otherwise comes back renumbered
    rows = {re.sub(r"items-(\d)", lambda m: f"items-{int(m.group(1)) - 1}", k): v for k, v in ROWS.items()}
    rows.update({"items-1-weight": "thirty", "items-0-threshold": "0"})
    r = hr.post("/kpi-templates/new",
                {**rows, "code": "ops", "name": "Ops", "description": "For the EU team"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and attrs(html, "code")["value"] == "ops"
    assert "For the EU team</textarea>" in html and attrs(html, "items-0-threshold")["value"] == "0"
    weight = attrs(html, "items-1-weight")
    assert weight["value"] == "thirty" and weight["aria-invalid"] == "true"
    assert " autofocus" in tag(html, "items-1-weight")
    assert (weight["type"], weight["min"], weight["max"]) == ("number", "0", "100")
    live = hr.post("/kpi-templates/weights", {**ROWS, "items-1-weight": "80", "items-2-weight": "x"},
                   htmx=True)
    assert "they must total 100" in live.get_data(as_text=True)  # 80 + a non-number is not 100
    blank_row = {"items-3-name": "", "items-3-weight": ""}  # the page always posts blank rows too
    live = hr.post("/kpi-templates/weights", {**ROWS, "items-2-weight": "30", **blank_row}, htmx=True)
    assert 'class="ok"' in live.get_data(as_text=True) and "Weights total: 100" in live.get_data(as_text=True)


def as_acos(item):
    """Make a data item an ACoS item (a fraction, lower is better): 35 % / 25 % / 18 %."""
    item.metric_key = "acos"
    item.rule = {"kind": "linear", "direction": "lower_better", "cap": "120"}
    item.threshold, item.target, item.stretch = Decimal("0.35"), Decimal("0.25"), Decimal("0.18")
    db.session.commit()
    return item


def test_percent_targets_are_typed_and_shown_in_percent(team, browser):
    person = team.people[0]
    card = team.card(person)
    acos = as_acos(metric_item(card))
    html = browser(person).page(f"/scorecards/{card.id}")
    assert attrs(html, f"items-{acos.id}-threshold")["value"] == "35"
    assert attrs(html, f"items-{acos.id}-target")["aria-label"].endswith("(%)")
    r = browser(person).post(f"/scorecards/{card.id}/targets", {
        f"items-{acos.id}-target": "22", "expected_version": card.version_id}, htmx=True)
    assert r.status_code == 200
    assert attrs(r.get_data(as_text=True), f"items-{acos.id}-target")["value"] == "22"
    db.session.refresh(acos)
    assert acos.target == Decimal("0.22")  # stored as the fraction it is


def test_targets_out_of_order_name_the_problem_next_to_the_input(team, browser):
    person = team.people[0]
    card = team.card(person)
    acos = as_acos(metric_item(card))
    r = browser(person).post(f"/scorecards/{card.id}/targets", {
        f"items-{acos.id}-threshold": "20", "expected_version": card.version_id}, htmx=True)
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    threshold = attrs(html, f"items-{acos.id}-threshold")
    assert threshold["value"] == "20" and threshold["aria-invalid"] == "true"
    message = re.search(rf'id="{threshold["aria-describedby"]}">([^<]+)<', html).group(1)
    assert message == "Lower is better here: the threshold must be above the target."
    db.session.refresh(acos)
    assert acos.threshold == Decimal("0.35")


def test_money_inputs_carry_the_currency_and_the_weight_total_shows(team, browser):
    person = team.people[0]
    card = team.card(person)
    gmv = metric_item(card)
    html = browser(person).page(f"/scorecards/{card.id}")
    assert attrs(html, f"items-{gmv.id}-target")["aria-label"].endswith("($)")
    assert re.search(r'<span class="unit" aria-hidden="true">\$</span>', html)
    total = re.search(r'data-weights-total[^>]*>\s*Total weight: <output>([^<]*)</output>', html)
    assert total and total.group(1) == "100"
    assert "data-weight" in tag(html, f"items-{gmv.id}-weight")


def test_a_template_takes_and_shows_percent_metrics_in_percent(app, browser):
    from tests.appraisal.factories import HRFactory
    from kpiapp.models import KpiTemplate

    hr = browser(HRFactory())
    rows = {"items-0-name": "ACoS", "items-0-kind": "metric", "items-0-metric_key": "acos",
            "items-0-weight": "100", "items-0-rule_kind": "linear", "items-0-direction": "lower_better",
            "items-0-threshold": "35", "items-0-target": "22", "items-0-stretch": "18", "items-0-cap": "120"}
    r = hr.post("/kpi-templates/new", {**rows, "code": "ads", "name": "Ads"})
    assert r.status_code == 302
    template = db.session.execute(db.select(KpiTemplate).filter_by(code="ads")).scalar_one()
    item = template.items[0]
    assert (item.threshold, item.target, item.stretch) == (Decimal("0.35"), Decimal("0.22"), Decimal("0.18"))
    assert "22.0%" in hr.page(f"/kpi-templates/{template.id}")  # in_unit, as the scorecard shows it
    form = hr.page(f"/kpi-templates/{template.id}/edit")
    assert attrs(form, "items-0-target")["value"] == "22"
    assert attrs(form, "items-0-target")["aria-label"].endswith("(%)")
