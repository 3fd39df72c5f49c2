"""Unit tests for kpiapp.appraisal.scoring: rules, explanations, totals and grades."""

import json
import sys
from decimal import Decimal as D
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

# The project is not installed in the venv; make the checkout importable under --noconftest.
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kpiapp.appraisal.scoring import (  # noqa: E402
    Band,
    Explanation,
    GradeBand,
    QuotaViolation,
    RuleKind,
    ScoringError,
    ScoringRule,
    bonus,
    distribution_check,
    grade_for,
    score_item,
    total_score,
    validate_grade_table,
    validate_weights,
)

from tests.unit.scoring_rules import (  # noqa: E402
    ACOS, HIGHER, IN_STOCK, LISTING_BANDS, LOWER, ODR, SALES, TEAMWORK,
)


def points(rule, actual, manual=None):
    return score_item(rule, None if actual is None else D(actual), manual).points


# --------------------------------------------------------------------------- linear


@pytest.mark.parametrize(
    "actual, expected, code",
    [
        ("60", "0.00", "linear_worse_than_threshold"),
        ("80", "0.00", "linear_worse_than_threshold"),
        ("90", "50.00", "linear_between_threshold_and_target"),
        ("99.99", "99.95", "linear_between_threshold_and_target"),
        ("100", "100.00", "linear_at_target"),
        ("110", "110.00", "linear_between_target_and_stretch"),
        ("120", "120.00", "linear_at_or_beyond_stretch"),
        ("500", "120.00", "linear_at_or_beyond_stretch"),
    ],
)
def test_linear_higher_is_better(actual, expected, code):
    result = score_item(SALES, D(actual))
    assert result.points == D(expected)
    assert result.explanation.code == code
    assert result.explanation.params["points"] == D(expected)


@pytest.mark.parametrize(
    "actual, expected, code",
    [
        ("0.50", "0.00", "linear_worse_than_threshold"),
        ("0.35", "0.00", "linear_worse_than_threshold"),
        ("0.30", "50.00", "linear_between_threshold_and_target"),
        ("0.25", "100.00", "linear_at_target"),
        ("0.22", "108.57", "linear_between_target_and_stretch"),
        ("0.18", "120.00", "linear_at_or_beyond_stretch"),
        ("0.05", "120.00", "linear_at_or_beyond_stretch"),
    ],
)
def test_linear_lower_is_better_mirrors_the_axis(actual, expected, code):
    result = score_item(ACOS, D(actual))
    assert (result.points, result.explanation.code) == (D(expected), code)


def test_points_round_half_up_to_cents():
    rule = ScoringRule(RuleKind.LINEAR, threshold=D(0), target=D(200), stretch=D(300))
    # 1.13 / 200 x 100 = 0.565: half-up gives 0.57 where banker's rounding would give 0.56
    assert points(rule, "1.13") == D("0.57")
    assert points(rule, "2") == D("1.00")
    assert points(rule, "2").as_tuple().exponent == -2


def test_linear_with_stretch_equal_to_target_tops_out_at_100():
    rule = ScoringRule(RuleKind.LINEAR, threshold=D(0), target=D(10), stretch=D(10), cap=D(100))
    assert points(rule, "10") == D(100)
    assert points(rule, "99") == D(100)


@given(
    st.decimals(min_value=-1000, max_value=1000, places=2),
    st.decimals(min_value=-1000, max_value=1000, places=2),
)
def test_linear_points_are_monotonic_and_bounded(a, b):
    low, high = sorted((a, b))
    for rule in (SALES, ACOS):
        p_low, p_high = points(rule, low), points(rule, high)
        assert D(0) <= p_low <= rule.cap and D(0) <= p_high <= rule.cap
        if rule.direction == HIGHER:
            assert p_low <= p_high
        else:
            assert p_low >= p_high


# --------------------------------------------------------------------------- other kinds


@pytest.mark.parametrize(
    "actual, expected, code",
    [
        ("-3", "0", "band_matched"),
        ("4.99", "0", "band_matched"),
        ("5", "60", "band_matched"),
        ("9.99", "60", "band_matched"),
        ("10", "100", "band_matched"),
        ("25", "0", "band_none_matched"),
        ("30", "110", "band_matched"),
    ],
)
def test_bands_lower_inclusive_upper_exclusive(actual, expected, code):
    result = score_item(LISTING_BANDS, D(actual))
    assert (result.points, result.explanation.code) == (D(expected), code)


@pytest.mark.parametrize(
    "rule, actual, expected",
    [
        (ODR, "0.005", "100"),
        (ODR, "0.01", "100"),
        (ODR, "0.0101", "0"),
        (IN_STOCK, "0.95", "100"),
        (IN_STOCK, "0.9499", "0"),
    ],
)
def test_pass_fail(rule, actual, expected):
    assert points(rule, actual) == D(expected)


def test_pass_fail_custom_pass_points():
    rule = ScoringRule(RuleKind.PASS_FAIL, target=D(1), pass_points=D(50))
    assert points(rule, "2") == D(50)


@pytest.mark.parametrize("score, expected", [("0", "0"), ("4", "80"), ("5", "100"), ("3.3", "66")])
def test_manual_score_scales_to_100(score, expected):
    result = score_item(TEAMWORK, None, D(score))
    assert result.points == D(expected)
    assert result.explanation.code == "manual_score"


@pytest.mark.parametrize("score", ["-0.01", "5.01"])
def test_manual_score_out_of_range(score):
    with pytest.raises(ScoringError) as err:
        score_item(TEAMWORK, None, D(score))
    assert err.value.code == "manual_score_out_of_range"


def test_manual_without_score_has_no_points():
    result = score_item(TEAMWORK, D(3))
    assert result.points is None
    assert result.explanation.code == "no_manual_score"


@pytest.mark.parametrize("rule", [SALES, ACOS, LISTING_BANDS, ODR])
def test_no_data_gives_no_points(rule):
    result = score_item(rule, None)
    assert result.points is None
    assert result.explanation == Explanation("no_data")


def test_float_actual_is_refused():
    with pytest.raises(ScoringError) as err:
        score_item(SALES, 90.5)
    assert err.value.code == "invalid_number"


# --------------------------------------------------------------------------- validation


def linear(direction=HIGHER, **kw):
    return ScoringRule(RuleKind.LINEAR, direction, **kw)


@pytest.mark.parametrize(
    "rule, code",
    [
        (linear(target=D(100), stretch=D(120)), "linear_incomplete"),
        (linear(threshold=D(80), stretch=D(120)), "linear_incomplete"),
        (linear(threshold=D(80), target=D(100)), "linear_incomplete"),
        (linear(threshold=D(100), target=D(100), stretch=D(120)), "linear_order"),
        (linear(threshold=D(80), target=D(100), stretch=D(90)), "linear_order"),
        (linear(LOWER, threshold=D("0.2"), target=D("0.25"), stretch=D("0.18")), "linear_order"),
        (linear(LOWER, threshold=D("0.35"), target=D("0.25"), stretch=D("0.3")), "linear_order"),
        (linear(threshold=D(0), target=D(1), stretch=D(2), cap=D(99)), "cap_below_100"),
        (linear(threshold=D(0), target=D(1), stretch=D(1)), "cap_without_stretch"),
        (linear(threshold=D("NaN"), target=D(1), stretch=D(2)), "invalid_number"),
        (linear(threshold=0.5, target=D(1), stretch=D(2)), "invalid_number"),
        (ScoringRule(RuleKind.BANDS), "bands_empty"),
        (ScoringRule(RuleKind.BANDS, bands=[Band(D(5), D(5), D(1))]), "band_empty_range"),
        (
            ScoringRule(RuleKind.BANDS, bands=[Band(D(0), D(10), D(1)), Band(D(9), D(20), D(2))]),
            "bands_overlap",
        ),
        (
            ScoringRule(RuleKind.BANDS, bands=[Band(None, D(10), D(1)), Band(None, D(5), D(2))]),
            "bands_overlap",
        ),
        (
            ScoringRule(RuleKind.BANDS, bands=[Band(D(10), None, D(1)), Band(D(20), None, D(2))]),
            "bands_overlap",
        ),
        (ScoringRule(RuleKind.PASS_FAIL), "pass_fail_incomplete"),
        (ScoringRule(RuleKind.PASS_FAIL, target=D(1), pass_points=D(0)), "pass_points_not_positive"),
        (ScoringRule(RuleKind.MANUAL), "scale_max_not_positive"),
        (ScoringRule(RuleKind.MANUAL, scale_max=D(0)), "scale_max_not_positive"),
    ],
)
def test_invalid_rules_are_refused(rule, code):
    with pytest.raises(ScoringError) as err:
        rule.validate()
    assert err.value.code == code
    with pytest.raises(ScoringError):
        score_item(rule, D(1), D(1))


@pytest.mark.parametrize("rule", [SALES, ACOS, LISTING_BANDS, ODR, IN_STOCK, TEAMWORK])
def test_valid_rules_pass_validation(rule):
    rule.validate()


def test_touching_bands_do_not_overlap():
    ScoringRule(
        RuleKind.BANDS, bands=[Band(D(10), D(20), D(2)), Band(None, D(10), D(1))]
    ).validate()


def test_unknown_kind_is_a_scoring_error():
    with pytest.raises(ScoringError) as err:
        ScoringRule("curve")
    assert err.value.code == "invalid_rule"


# --------------------------------------------------------------------------- JSON


@pytest.mark.parametrize("rule", [SALES, ACOS, LISTING_BANDS, ODR, IN_STOCK, TEAMWORK])
def test_rule_round_trips_through_json(rule):
    data = json.loads(json.dumps(rule.to_dict()))
    assert ScoringRule.from_dict(data) == rule


def test_to_dict_writes_decimals_as_strings():
    data = ACOS.to_dict()
    assert data["threshold"] == "0.35"
    assert data["kind"] == "linear" and data["direction"] == "lower_better"
    assert data["scale_max"] is None


def test_from_dict_fills_defaults_and_accepts_plain_numbers():
    rule = ScoringRule.from_dict({"kind": "linear", "threshold": 80, "target": "100", "stretch": 120.5})
    assert rule.direction == HIGHER and rule.cap == D(120)
    assert rule.stretch == D("120.5")
    rule.validate()


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"kind": "curve"},
        {"kind": "linear", "direction": "sideways"},
        {"kind": "linear", "threshold": "abc"},
        {"kind": "linear", "threshold": "NaN"},
        {"kind": "linear", "threshold": True},
        {"kind": "linear", "threshold": [1]},
        {"kind": "linear", "colour": "red"},
        {"kind": "bands", "bands": "0-10"},
        {"kind": "bands", "bands": [{"lower": "0"}]},
        {"kind": "bands", "bands": [{"lower": "0", "points": None}]},
        "linear",
    ],
)
def test_from_dict_rejects_malformed_rules(data):
    with pytest.raises(ScoringError) as err:
        ScoringRule.from_dict(data)
    assert err.value.code in {"invalid_rule", "invalid_number"}


def test_explanation_to_dict_is_json_safe():
    data = score_item(ACOS, D("0.22")).explanation.to_dict()
    assert json.loads(json.dumps(data)) == {
        "code": "linear_between_target_and_stretch",
        "params": {
            "actual": "0.22",
            "direction": "lower_better",
            "target": "0.25",
            "stretch": "0.18",
            "cap": "120",
            "points": "108.57",
        },
    }


# --------------------------------------------------------------------------- weights, total


def test_weights_that_total_100_are_valid():
    validate_weights([D(30), D("45.5"), D("24.5")])


@pytest.mark.parametrize(
    "weights",
    [[], [D(50), D(49)], [D(50), D("50.01")], [D(100), D(0)], [D(110), D(-10)], [D(100), D("NaN")]],
)
def test_weights_not_100(weights):
    with pytest.raises(ScoringError) as err:
        validate_weights(weights)
    assert err.value.code in {"weights_not_100", "invalid_number"}


def test_non_positive_weight_uses_the_weights_code():
    with pytest.raises(ScoringError) as err:
        validate_weights([D(100), D(0)])
    assert err.value.code == "weights_not_100"


def test_total_score_is_weighted_sum():
    items = [(D("108.57"), D(30)), (D(50), D(50)), (D(100), D(20))]
    # 32.571 + 25 + 20 = 77.571
    assert total_score(items) == D("77.57")


def test_total_score_rounds_once_not_per_item():
    items = [(D("0.01"), D("33.34")), (D("0.01"), D("33.33")), (D("0.01"), D("33.33"))]
    # per-item rounding would give 0.00 + 0.00 + 0.00
    assert total_score(items) == D("0.01")


def test_total_score_is_none_while_an_item_has_no_points():
    assert total_score([(D(100), D(60)), (None, D(40))]) is None


def test_total_score_refuses_bad_weights():
    with pytest.raises(ScoringError) as err:
        total_score([(D(100), D(60)), (D(100), D(30))])
    assert err.value.code == "weights_not_100"


# --------------------------------------------------------------------------- grades

GRADES = [
    GradeBand("S", D(110), max_share=D("0.1"), coefficient=D("1.5")),
    GradeBand("A", D(95), max_share=D("0.3"), coefficient=D("1.2")),
    GradeBand("B", D(80), coefficient=D(1)),
    GradeBand("C", D(60), coefficient=D("0.5")),
    GradeBand("D", D(0), coefficient=D(0)),
]


@pytest.mark.parametrize(
    "total, grade",
    [("120", "S"), ("110", "S"), ("109.99", "A"), ("95", "A"), ("80", "B"), ("59.99", "D"), ("0", "D")],
)
def test_grade_for(total, grade):
    assert grade_for(D(total), GRADES) == grade
    assert grade_for(D(total), list(reversed(GRADES))) == grade


def test_grade_for_no_total_or_below_every_band():
    assert grade_for(None, GRADES) is None
    assert grade_for(D(-1), GRADES) is None


def test_bonus_uses_the_grade_coefficient():
    assert bonus(D("3000"), "A", GRADES) == D("3600.00")
    assert bonus(D("3333.33"), "C", GRADES) == D("1666.67")
    with pytest.raises(ScoringError) as err:
        bonus(D(1000), "Z", GRADES)
    assert err.value.code == "unknown_grade"


def test_distribution_check_reports_grades_over_quota():
    grades = ["S", "S", "A", "A", "A", "A", "B", "B", "C", "D"]
    assert distribution_check(grades, GRADES) == [
        QuotaViolation("S", 2, D("0.2000"), D("0.1")),
        QuotaViolation("A", 4, D("0.4000"), D("0.3")),
    ]


def test_distribution_check_at_quota_is_fine():
    grades = ["S", "A", "A", "A"] + ["B"] * 6
    assert distribution_check(grades, GRADES) == []
    assert distribution_check([], GRADES) == []


def test_distribution_check_unknown_grade():
    with pytest.raises(ScoringError) as err:
        distribution_check(["S", "X"], GRADES)
    assert err.value.code == "unknown_grade"


def test_valid_grade_table():
    validate_grade_table(GRADES)


@pytest.mark.parametrize(
    "bands, code",
    [
        ([], "grade_table_empty"),
        ([GradeBand(" ", D(0))], "blank_grade"),
        ([GradeBand("A", D(90)), GradeBand("A", D(0))], "duplicate_grade"),
        ([GradeBand("A", D(90)), GradeBand("B", D(90))], "duplicate_min_score"),
        ([GradeBand("A", D(90), max_share=D(0))], "invalid_max_share"),
        ([GradeBand("A", D(90), max_share=D("1.1"))], "invalid_max_share"),
        ([GradeBand("A", D(90), coefficient=D("-0.1"))], "negative_coefficient"),
        ([GradeBand("A", 90)], "invalid_number"),
    ],
)
def test_invalid_grade_tables(bands, code):
    with pytest.raises(ScoringError) as err:
        validate_grade_table(bands)
    assert err.value.code == code
