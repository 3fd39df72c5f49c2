"""Scoring maths for KPI items, weights, grades and bonuses.

Pure functions over Decimal: no Flask, no request, no database. Every item score
carries a structured Explanation (code + params) that kpiapp.presentation.describe
turns into plain English or Simplified Chinese, so people can see why a score is what it is.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

HUNDRED = Decimal(100)
CENT = Decimal("0.01")


class ScoringError(ValueError):
    """A rule, weight set or grade table that cannot be scored; `code` is stable for the UI."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class RuleKind(StrEnum):
    LINEAR = "linear"
    BANDS = "bands"
    PASS_FAIL = "pass_fail"
    MANUAL = "manual"


class Direction(StrEnum):
    HIGHER_BETTER = "higher_better"
    LOWER_BETTER = "lower_better"


def quantize_points(value: Decimal) -> Decimal:
    """Round points to 2 decimals, half up."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class Band:
    """A value range worth `points`: lower inclusive, upper exclusive, None = open."""

    lower: Decimal | None
    upper: Decimal | None
    points: Decimal

    def contains(self, value: Decimal) -> bool:
        return (self.lower is None or value >= self.lower) and (
            self.upper is None or value < self.upper
        )


@dataclass(frozen=True)
class ScoringRule:
    """How one KPI item turns an actual value (or a reviewer score) into points."""

    kind: RuleKind
    direction: Direction = Direction.HIGHER_BETTER
    threshold: Decimal | None = None
    target: Decimal | None = None
    stretch: Decimal | None = None
    cap: Decimal = Decimal(120)
    bands: tuple[Band, ...] = ()
    pass_points: Decimal = Decimal(100)
    scale_max: Decimal | None = None

    def __post_init__(self):
        object.__setattr__(self, "kind", _enum(RuleKind, self.kind, "kind"))
        object.__setattr__(self, "direction", _enum(Direction, self.direction, "direction"))
        object.__setattr__(self, "bands", tuple(self.bands))

    @property
    def higher_better(self) -> bool:
        return self.direction == Direction.HIGHER_BETTER

    def validate(self) -> None:
        """Raise ScoringError if the rule is incomplete or inconsistent."""
        for name in ("threshold", "target", "stretch", "cap", "pass_points", "scale_max"):
            _check_number(getattr(self, name), name)
        for band in self.bands:
            for name in ("lower", "upper", "points"):
                _check_number(getattr(band, name), f"band {name}")
        _VALIDATORS[self.kind](self)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form: enums and decimals as strings."""
        return {
            "kind": str(self.kind),
            "direction": str(self.direction),
            "threshold": _dec_str(self.threshold),
            "target": _dec_str(self.target),
            "stretch": _dec_str(self.stretch),
            "cap": _dec_str(self.cap),
            "bands": [
                {
                    "lower": _dec_str(b.lower),
                    "upper": _dec_str(b.upper),
                    "points": _dec_str(b.points),
                }
                for b in self.bands
            ],
            "pass_points": _dec_str(self.pass_points),
            "scale_max": _dec_str(self.scale_max),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScoringRule:
        """Build a rule from `to_dict` output. Parses only; call `validate()` to check it."""
        if not isinstance(data, Mapping) or "kind" not in data:
            raise ScoringError("invalid_rule", "A scoring rule needs at least a 'kind'.")
        unknown = set(data) - _RULE_KEYS
        if unknown:
            raise ScoringError("invalid_rule", f"Unknown rule keys: {', '.join(sorted(unknown))}.")
        bands = data.get("bands") or []
        if not isinstance(bands, list | tuple):
            raise ScoringError("invalid_rule", "'bands' must be a list.")
        values = {
            name: _parse_decimal(data[name], name)
            for name in ("threshold", "target", "stretch", "cap", "pass_points", "scale_max")
            if name in data
        }
        for name in ("cap", "pass_points"):  # null means "use the default"
            if name in values and values[name] is None:
                del values[name]
        return cls(
            kind=data["kind"],
            direction=data.get("direction") or Direction.HIGHER_BETTER,
            bands=tuple(_band_from_dict(b) for b in bands),
            **values,
        )


_RULE_KEYS = set(ScoringRule.__dataclass_fields__)


def _band_from_dict(data: Any) -> Band:
    if not isinstance(data, Mapping) or "points" not in data:
        raise ScoringError("invalid_rule", "Each band needs 'lower', 'upper' and 'points'.")
    points = _parse_decimal(data["points"], "band points")
    if points is None:
        raise ScoringError("invalid_rule", "A band needs points.")
    return Band(
        _parse_decimal(data.get("lower"), "band lower"),
        _parse_decimal(data.get("upper"), "band upper"),
        points,
    )


def _enum(enum_cls, value, name):
    try:
        return enum_cls(value)
    except ValueError:
        raise ScoringError("invalid_rule", f"Unknown {name} {value!r}.") from None


def _dec_str(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _parse_decimal(value: Any, name: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ScoringError("invalid_rule", f"{name} must be a number.")
    try:
        # str() first so a float from hand-written JSON keeps its short decimal form
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ScoringError("invalid_rule", f"{name} is not a number: {value!r}.") from None
    _check_number(number, name)
    return number


def _check_number(value: Any, name: str) -> None:
    if value is None:
        return
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ScoringError("invalid_number", f"{name} must be a finite Decimal, got {value!r}.")


def _validate_linear(rule: ScoringRule) -> None:
    missing = [n for n in ("threshold", "target", "stretch") if getattr(rule, n) is None]
    if missing:
        raise ScoringError("linear_incomplete", f"A linear rule needs {', '.join(missing)}.")
    t, g, s = rule.threshold, rule.target, rule.stretch
    problem = order_problem(rule.direction, t, g, s)
    if problem is not None:
        raise ScoringError("linear_order", ORDER_PROBLEMS[problem[0]])
    if rule.cap < HUNDRED:
        raise ScoringError("cap_below_100", "The cap must be at least 100 points.")
    # with no stretch zone "target -> 100" and "stretch -> cap" would disagree
    if s == g and rule.cap != HUNDRED:
        raise ScoringError(
            "cap_without_stretch",
            "When stretch equals target there is no stretch zone: cap must be 100.",
        )


# what is wrong with a linear rule's limits, in the direction's terms
ORDER_PROBLEMS = {
    "order_threshold_not_below_target": "Higher is better: the threshold must be below the target.",
    "order_stretch_below_target": "Higher is better: the stretch must be at least the target.",
    "order_threshold_not_above_target": "Lower is better: the threshold must be above the target.",
    "order_stretch_above_target": "Lower is better: the stretch must be at most the target.",
}


def order_problem(direction, threshold, target, stretch) -> tuple[str, str] | None:
    """(code, limit at fault) when the limits given are out of order, else None.

    Higher is better: threshold < target <= stretch; lower is better, the reverse. A limit
    left blank is not compared, so a half-filled row can be saved and checked as it grows."""
    higher = _enum(Direction, direction or Direction.HIGHER_BETTER, "direction") == Direction.HIGHER_BETTER
    if threshold is not None and target is not None:
        if higher and not threshold < target:
            return "order_threshold_not_below_target", "threshold"
        if not higher and not threshold > target:
            return "order_threshold_not_above_target", "threshold"
    if stretch is not None and target is not None:
        if higher and stretch < target:
            return "order_stretch_below_target", "stretch"
        if not higher and stretch > target:
            return "order_stretch_above_target", "stretch"
    return None


def _validate_bands(rule: ScoringRule) -> None:
    if not rule.bands:
        raise ScoringError("bands_empty", "A bands rule needs at least one band.")
    for band in rule.bands:
        if band.lower is not None and band.upper is not None and band.lower >= band.upper:
            raise ScoringError("band_empty_range", "Each band's lower must be below its upper.")
    ordered = sorted(rule.bands, key=_band_start)
    for prev, nxt in zip(ordered, ordered[1:], strict=False):
        if prev.upper is None or nxt.lower is None or prev.upper > nxt.lower:
            raise ScoringError("bands_overlap", "Bands must not overlap.")


def _band_start(band: Band) -> tuple[int, Decimal]:
    return (0, Decimal(0)) if band.lower is None else (1, band.lower)


def _validate_pass_fail(rule: ScoringRule) -> None:
    if rule.target is None:
        raise ScoringError("pass_fail_incomplete", "A pass/fail rule needs a target.")
    if rule.pass_points <= 0:
        raise ScoringError("pass_points_not_positive", "Pass points must be above 0.")


def _validate_manual(rule: ScoringRule) -> None:
    if rule.scale_max is None or rule.scale_max <= 0:
        raise ScoringError("scale_max_not_positive", "A manual rule needs a scale maximum above 0.")


_VALIDATORS = {
    RuleKind.LINEAR: _validate_linear,
    RuleKind.BANDS: _validate_bands,
    RuleKind.PASS_FAIL: _validate_pass_fail,
    RuleKind.MANUAL: _validate_manual,
}


# --------------------------------------------------------------------------- item scores


@dataclass(frozen=True)
class Explanation:
    """Why an item scored what it did: a stable code and the numbers behind it."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form for freezing with a locked scorecard."""
        return {
            "code": self.code,
            "params": {k: str(v) if isinstance(v, Decimal) else v for k, v in self.params.items()},
        }


@dataclass(frozen=True)
class ItemScore:
    points: Decimal | None
    explanation: Explanation


def score_item(
    rule: ScoringRule, actual: Decimal | None, manual_score: Decimal | None = None
) -> ItemScore:
    """Score one KPI item. No data (actual None) gives points None with code 'no_data'.

    Manual rules use `manual_score` and ignore `actual`.
    """
    rule.validate()
    if rule.kind == RuleKind.MANUAL:
        return _score_manual(rule, manual_score)
    if actual is None:
        return ItemScore(None, Explanation("no_data"))
    _check_number(actual, "actual")
    return _SCORERS[rule.kind](rule, actual)


def _result(code: str, points: Decimal, **params: Any) -> ItemScore:
    points = quantize_points(points)
    return ItemScore(points, Explanation(code, {**params, "points": points}))


def _score_linear(rule: ScoringRule, actual: Decimal) -> ItemScore:
    # mirror the axis for lower-is-better so one set of comparisons serves both
    sign = 1 if rule.higher_better else -1
    a, t, g, s = (sign * v for v in (actual, rule.threshold, rule.target, rule.stretch))
    common = {"actual": actual, "direction": str(rule.direction)}
    if a <= t:
        return _result(
            "linear_worse_than_threshold", Decimal(0), threshold=rule.threshold, **common
        )
    if a >= s:
        return _result(
            "linear_at_or_beyond_stretch", rule.cap, stretch=rule.stretch, cap=rule.cap, **common
        )
    if a < g:
        points = (a - t) / (g - t) * HUNDRED
        return _result(
            "linear_between_threshold_and_target",
            points,
            threshold=rule.threshold,
            target=rule.target,
            **common,
        )
    if a == g:
        return _result("linear_at_target", HUNDRED, target=rule.target, **common)
    points = HUNDRED + (a - g) / (s - g) * (rule.cap - HUNDRED)
    return _result(
        "linear_between_target_and_stretch",
        points,
        target=rule.target,
        stretch=rule.stretch,
        cap=rule.cap,
        **common,
    )


def _score_bands(rule: ScoringRule, actual: Decimal) -> ItemScore:
    for band in rule.bands:
        if band.contains(actual):
            return _result(
                "band_matched", band.points, actual=actual, lower=band.lower, upper=band.upper
            )
    return _result("band_none_matched", Decimal(0), actual=actual)


def _score_pass_fail(rule: ScoringRule, actual: Decimal) -> ItemScore:
    passed = actual >= rule.target if rule.higher_better else actual <= rule.target
    code = "pass_fail_passed" if passed else "pass_fail_failed"
    points = rule.pass_points if passed else Decimal(0)
    return _result(code, points, actual=actual, target=rule.target, direction=str(rule.direction))


def _score_manual(rule: ScoringRule, manual_score: Decimal | None) -> ItemScore:
    if manual_score is None:
        return ItemScore(None, Explanation("no_manual_score", {"scale_max": rule.scale_max}))
    _check_number(manual_score, "manual score")
    if not 0 <= manual_score <= rule.scale_max:
        raise ScoringError(
            "manual_score_out_of_range", f"The score must be between 0 and {rule.scale_max}."
        )
    points = manual_score / rule.scale_max * HUNDRED
    return _result("manual_score", points, score=manual_score, scale_max=rule.scale_max)


_SCORERS = {
    RuleKind.LINEAR: _score_linear,
    RuleKind.BANDS: _score_bands,
    RuleKind.PASS_FAIL: _score_pass_fail,
}


# --------------------------------------------------------------------------- totals


def validate_weights(weights: list[Decimal]) -> None:
    """Raise ScoringError('weights_not_100') unless every weight is > 0 and they sum to 100."""
    for weight in weights:
        _check_number(weight, "weight")
        if weight <= 0:
            raise ScoringError("weights_not_100", f"Every weight must be above 0 (got {weight}).")
    total = sum(weights, Decimal(0))
    if total != HUNDRED:
        raise ScoringError("weights_not_100", f"Weights must total 100 (they total {total}).")


def total_score(items: list[tuple[Decimal | None, Decimal]]) -> Decimal | None:
    """Sum of points x weight / 100, rounded once; None while any item has no points.

    The weights are validated first, so a total is never computed from weights
    that do not add up to 100.
    """
    validate_weights([weight for _, weight in items])
    if any(points is None for points, _ in items):
        return None
    return quantize_points(_weighted_sum(items))


def projected_score(items: list[tuple[Decimal | None, Decimal]]) -> tuple[Decimal | None, Decimal]:
    """(projected total, share of the weight it rests on) while some items have no points yet.

    The items that have points count as the total would count them; the rest are assumed
    to score like them (their weights spread in proportion). None while no item has points.
    """
    validate_weights([weight for _, weight in items])
    scored = [(p, w) for p, w in items if p is not None]
    covered = sum((w for _, w in scored), Decimal(0))
    if not scored:
        return None, covered
    return quantize_points(_weighted_sum(scored) * HUNDRED / covered), covered


def _weighted_sum(items: list[tuple[Decimal, Decimal]]) -> Decimal:
    return sum((p * w / HUNDRED for p, w in items), Decimal(0))


# --------------------------------------------------------------------------- grades


@dataclass(frozen=True)
class GradeBand:
    """A grade reached from `min_score` up. `max_share` is a fraction (0.2 = at most 20%)."""

    grade: str
    min_score: Decimal
    max_share: Decimal | None = None
    coefficient: Decimal = Decimal(1)


@dataclass(frozen=True)
class QuotaViolation:
    grade: str
    count: int
    share: Decimal
    max_share: Decimal


def validate_grade_table(bands: list[GradeBand]) -> None:
    """Raise ScoringError if the grade table is empty, ambiguous or out of range."""
    if not bands:
        raise ScoringError("grade_table_empty", "The grade table needs at least one grade.")
    grades = [b.grade for b in bands]
    if any(not isinstance(g, str) or not g.strip() for g in grades):
        raise ScoringError("blank_grade", "Every grade needs a name.")
    if len(set(grades)) != len(grades):
        raise ScoringError("duplicate_grade", "Grade names must be unique.")
    for band in bands:
        _check_number(band.min_score, "min_score")
        _check_number(band.coefficient, "coefficient")
        _check_number(band.max_share, "max_share")
        if band.max_share is not None and not 0 < band.max_share <= 1:
            raise ScoringError("invalid_max_share", "A quota share must be above 0 and at most 1.")
        if band.coefficient < 0:
            raise ScoringError("negative_coefficient", "A bonus coefficient cannot be negative.")
    if len({b.min_score for b in bands}) != len(bands):
        raise ScoringError("duplicate_min_score", "Two grades cannot start at the same score.")


def grade_for(total: Decimal | None, bands: list[GradeBand]) -> str | None:
    """The highest grade whose min_score <= total; None for no total or below every grade."""
    if total is None:
        return None
    reached = [b for b in bands if b.min_score <= total]
    return max(reached, key=lambda b: b.min_score).grade if reached else None


def bonus(base: Decimal, grade: str, bands: list[GradeBand]) -> Decimal:
    """base x the grade's coefficient, rounded to cents."""
    band = _band_for_grade(grade, bands)
    return quantize_points(base * band.coefficient)


def distribution_check(grades: list[str], bands: list[GradeBand]) -> list[QuotaViolation]:
    """Grades whose share of `grades` exceeds their max_share, in grade-table order."""
    counts = Counter(grades)
    for grade in counts:
        _band_for_grade(grade, bands)
    violations = []
    for band in bands:
        count = counts.get(band.grade, 0)
        # compare count > max_share x n exactly; the rounded share is only for display
        if band.max_share is not None and count > band.max_share * len(grades):
            share = (Decimal(count) / Decimal(len(grades))).quantize(
                Decimal("0.0001"), rounding=ROUND_HALF_UP
            )
            violations.append(QuotaViolation(band.grade, count, share, band.max_share))
    return violations


def _band_for_grade(grade: str, bands: list[GradeBand]) -> GradeBand:
    for band in bands:
        if band.grade == grade:
            return band
    raise ScoringError("unknown_grade", f"Grade {grade!r} is not in the grade table.")
