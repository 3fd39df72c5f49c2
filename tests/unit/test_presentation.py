"""Unit tests for kpiapp.presentation: numbers by unit, labels and plain-words explanations."""

import json
import re
import sys
from decimal import Decimal as D
from pathlib import Path
from types import SimpleNamespace

import pytest

# The project is not installed in the venv; make the checkout importable under --noconftest.
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kpiapp.appraisal.scoring import (  # noqa: E402
    Explanation,
    RuleKind,
    ScoringRule,
    score_item,
)
from kpiapp.presentation import describe  # noqa: E402

from tests.unit.scoring_rules import (  # noqa: E402
    ACOS, HIGHER, IN_STOCK, LISTING_BANDS, ODR, SALES, TEAMWORK,
)


# --------------------------------------------------------------------------- describe


def test_describe_acos_in_english():
    result = score_item(ACOS, D("0.22"))
    assert describe(result.explanation, "en", unit="fraction", label="ACoS") == (
        "ACoS 22.0% is between target 25.0% and stretch 18.0%: "
        "100 + (25.0-22.0)/(25.0-18.0) x 20 = 108.57 points"
    )


def test_describe_acos_in_chinese():
    result = score_item(ACOS, D("0.22"))
    assert describe(result.explanation, "zh_CN", unit="fraction", label="ACoS") == (
        "ACoS 22.0% 介于目标值 25.0% 与挑战值 18.0% 之间："
        "100 + (25.0-22.0)/(25.0-18.0) × 20 = 108.57 分"
    )


@pytest.mark.parametrize(
    "rule, actual, unit, english",
    [
        (SALES, "90", "count", "Actual 90 is between threshold 80 and target 100: (90-80)/(100-80) x 100 = 50 points"),
        (ACOS, "0.40", "fraction", "Actual 40.0% is at or above threshold 35.0%: 0 points"),
        (SALES, "70", None, "Actual 70 is at or below threshold 80: 0 points"),
        (SALES, "100", None, "Actual 100 meets target 100: 100 points"),
        (SALES, "130", None, "Actual 130 reaches stretch 120: capped at 120 points"),
        (ODR, "0.005", "fraction", "Actual 0.5% meets the pass mark (≤ 1.0%): 100 points"),
        (IN_STOCK, "0.9", "fraction", "Actual 90.0% misses the pass mark (≥ 95.0%): 0 points"),
        (LISTING_BANDS, "7", "count", "Actual 7 is in the band 5 to under 10: 60 points"),
        (LISTING_BANDS, "2", "count", "Actual 2 is in the band under 5: 0 points"),
        (LISTING_BANDS, "31", "count", "Actual 31 is in the band 30 and above: 110 points"),
        (LISTING_BANDS, "25", "count", "Actual 25 is in no band: 0 points"),
        (SALES, None, None, "This KPI: no data for this period yet, so no points"),
    ],
)
def test_describe_in_plain_english(rule, actual, unit, english):
    result = score_item(rule, None if actual is None else D(actual))
    assert describe(result.explanation, "en", unit=unit) == english


@pytest.mark.parametrize(
    "unit, value, shown",
    [
        ("money", "123456.789", "123,456.79"),
        ("money", "-5", "(-5.00)"),
        ("count", "12000", "12,000"),
        ("hours", "3.5", "3.5 h"),
        ("days", "30", "30 days"),
        ("ratio", "3.456", "3.46"),
        ("fraction", "0.12345", "12.35%"),
    ],
)
def test_describe_formats_units(unit, value, shown):
    explanation = Explanation("band_none_matched", {"actual": D(value), "points": D(0)})
    assert describe(explanation, "en", unit=unit).startswith(f"Actual {shown} is in no band")


def test_describe_chinese_units():
    explanation = Explanation("band_none_matched", {"actual": D(30), "points": D(0)})
    assert describe(explanation, "zh_CN", unit="days", label="库存可售天数") == (
        "库存可售天数 30 天 不在任何区间内：0 分"
    )


def test_describe_manual_in_both_languages():
    result = score_item(TEAMWORK, None, D(4))
    assert describe(result.explanation, "en") == "Reviewer score 4 out of 5: 4/5 x 100 = 80 points"
    assert describe(result.explanation, "zh_CN") == "评分人打分 4（满分 5）：4/5 × 100 = 80 分"


ALL_EXPLANATIONS = [
    score_item(SALES, None),
    score_item(TEAMWORK, None),
    score_item(TEAMWORK, None, D(2)),
    *(score_item(SALES, D(v)) for v in ("1", "90", "100", "110", "200")),
    *(score_item(ACOS, D(v)) for v in ("1", "0.3", "0.25", "0.2", "0")),
    score_item(ODR, D("0")),
    score_item(ODR, D("1")),
    score_item(LISTING_BANDS, D("1")),
    score_item(LISTING_BANDS, D("25")),
]


@pytest.mark.parametrize("result", ALL_EXPLANATIONS, ids=lambda r: r.explanation.code)
@pytest.mark.parametrize("unit", [None, "fraction", "money", "count", "hours", "days", "ratio"])
def test_every_explanation_reads_in_both_languages(result, unit):
    english = describe(result.explanation, "en", unit=unit, label="KPI")
    chinese = describe(result.explanation, "zh_CN", unit=unit, label="KPI")
    assert english and chinese and "{" not in english + chinese
    assert re.search(r"[\u4e00-\u9fff]", chinese)
    assert not re.search(r"\b(points|threshold|target|stretch|days)\b", chinese)


def test_describe_refuses_unknown_language_and_unit():
    explanation = score_item(SALES, D(90)).explanation
    with pytest.raises(ValueError):
        describe(explanation, "fr")
    with pytest.raises(ValueError):
        describe(explanation, "en", unit="furlongs")




# --------------------------------------------------------------------------- numbers by unit

from kpiapp import presentation  # noqa: E402
from kpiapp.appraisal.workflow import Action, ScorecardState  # noqa: E402
from kpiapp.i18n import LabelledEnum  # noqa: E402


@pytest.mark.parametrize(
    "value, unit, lang, currency, shown",
    [
        ("0.2213", "fraction", "en", None, "22.13%"),
        ("0.2213", "fraction", "zh_CN", None, "22.13%"),
        ("66466.945", "money", "en", None, "66,466.95"),
        ("66466.945", "money", "en", "USD", "$66,466.95"),
        ("66466.945", "money", "zh_CN", "USD", "US$66,466.95"),
        ("66466.945", "money", "zh_CN", "CNY", "¥66,466.95"),
        ("-5", "money", "en", "USD", "($5.00)"),
        ("12000", "count", "zh_CN", None, "12,000"),
        ("36", "hours", "en", None, "36 h"),
        ("36", "hours", "zh_CN", None, "36 小时"),
        ("30", "days", "zh_CN", None, "30 天"),
        ("3.456", "ratio", "en", None, "3.46"),
        ("0.125", None, "en", None, "0.125"),
        (None, "money", "en", "USD", "—"),
        ("", "count", "en", None, "—"),
        ("not a number", "count", "en", None, "—"),
    ],
)
def test_in_unit_reads_as_people_think_of_it(value, unit, lang, currency, shown):
    assert presentation.in_unit(value, unit, lang, currency) == shown


@pytest.mark.parametrize(
    "value, places, shown",
    [("83.50", 2, "83.5"), ("100.00", 2, "100"), ("1234567.891", 2, "1,234,567.89"),
     ("0.125", 2, "0.13"), ("1.2345", 3, "1.235"), (None, 2, "—"), (D("NaN"), 2, "—")],
)
def test_number_rounds_half_up_and_groups(value, places, shown):
    assert presentation.number(value, "en", places) == shown


def test_percent_of_a_share_already_in_percent():
    assert presentation.percent(D("12.5"), "zh_CN") == "12.5%"
    assert presentation.percent(None, "en") == "—"


def test_formatting_refuses_an_unknown_language():
    with pytest.raises(ValueError):
        presentation.number(1, "fr")


# --------------------------------------------------------------------------- labels


def test_labels_come_from_the_enum_in_the_asked_language():
    assert presentation.label(ScorecardState.HR_APPROVAL, "en") == "Waiting for HR approval"
    assert presentation.label(ScorecardState.HR_APPROVAL, "zh_CN") == "待人事审批"
    assert presentation.label(Action.SUBMIT, "en") == "Submit targets"
    assert presentation.event_label(Action.SUBMIT, "en") == "Targets submitted"


def test_a_value_without_a_label_shows_as_is():
    assert presentation.label("legacy_state", "zh_CN") == "legacy_state"
    assert presentation.label(None, "en") == ""


def test_a_labelled_enum_stays_a_plain_string():
    class Colour(LabelledEnum):
        RED = "red", "Red"
        BLUE = "blue"

    assert Colour("red") is Colour.RED and Colour.RED == "red" and f"{Colour.RED}" == "red"
    assert (Colour.RED.label, Colour.BLUE.label) == ("Red", "blue")
    assert json.dumps([Colour.RED]) == '["red"]'


# --------------------------------------------------------------------------- items


def _item(**fields):
    base = dict(name="GMV", explanation=None, is_manual=False, manager_score=None,
                final_points=None, rule={})
    return SimpleNamespace(**{**base, **fields})


def test_explain_reads_the_stored_explanation_in_both_languages():
    stored = score_item(SALES, D(90)).explanation.to_dict()  # as the JSON column holds it
    item = _item(explanation=stored)
    assert presentation.explain(item, "en", "count") == (
        "GMV 90 is between threshold 80 and target 100: (90-80)/(100-80) x 100 = 50 points"
    )
    assert presentation.explain(item, "zh_CN", "count").startswith("GMV 90 介于门槛值 80 与目标值 100 之间")


@pytest.mark.parametrize(
    "fields, english",
    [
        ({}, "GMV: no data for this period yet, so no points"),
        ({"is_manual": True}, "GMV: not scored by the reviewer yet"),
        ({"is_manual": True, "manager_score": D(4), "final_points": D(80), "rule": {"scale_max": "5"}},
         "Reviewer score 4 out of 5: 4/5 x 100 = 80 points"),
    ],
)
def test_explain_without_a_stored_explanation(fields, english):
    assert presentation.explain(_item(**fields), "en") == english


def test_explain_of_an_unreadable_old_explanation_is_empty():
    assert presentation.explain(_item(explanation={"code": "retired_code", "params": {}}), "en") == ""


def test_money_in_an_explanation_carries_the_currency_but_the_formula_stays_bare():
    rule = ScoringRule(RuleKind.LINEAR, HIGHER, threshold=D(80000), target=D(100000), stretch=D(120000))
    explanation = score_item(rule, D(110000)).explanation
    assert describe(explanation, "zh_CN", "money", "GMV", "USD") == (
        "GMV US$110,000.00 介于目标值 US$100,000.00 与挑战值 US$120,000.00 之间："
        "100 + (110,000.00-100,000.00)/(120,000.00-100,000.00) × 20 = 110 分"
    )


def test_change_is_signed():
    from decimal import Decimal

    from kpiapp import presentation
    assert presentation.change(Decimal("14879.82"), "money", "en", "USD") == "+$14,879.82"
    assert presentation.change(Decimal("-0.0054"), "fraction", "en") == "−0.54%"
    assert presentation.change(Decimal("0"), "count", "en") == "0"
    assert presentation.change(None, "count", "en") == "—"
