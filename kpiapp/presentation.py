"""How numbers, units, labels and score explanations read, on screen and in signed PDFs.

One module so a value cannot read one way on the page and another in the signed report.
Pure: every function takes the language ('en' or 'zh_CN') explicitly and imports no
Flask; the Jinja filters (kpiapp/web.py) pass the page's language, the PDF its own.
"""
from __future__ import annotations

import functools
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from pathlib import Path
from typing import Any

from babel import Locale
from babel.numbers import format_currency, get_currency_symbol, parse_pattern
from babel.support import NullTranslations, Translations

from kpiapp.appraisal.scoring import Direction, Explanation
from kpiapp.i18n import N_

LANGS = ("en", "zh_CN")
UNITS = ("fraction", "money", "count", "hours", "days", "ratio")
# what each unit is called where a page names it (the metric dictionary, the metric form)
UNIT_LABELS = {
    "fraction": N_("percentage"), "money": N_("amount of money"), "count": N_("count"),
    "hours": N_("hours"), "days": N_("days"), "ratio": N_("ratio"),
}
# what an item's fields are called where a page names them (a change request's changes)
FIELD_LABELS = {
    "name": N_("Name"), "description": N_("Description"), "weight": N_("Weight"), "target": N_("Target"),
    "threshold": N_("Threshold"), "stretch": N_("Stretch"),
}
# marketplace names (brand names stay as they are; "other" is a word)
PLATFORM_LABELS = {
    "amazon": "Amazon", "shopee": "Shopee", "tiktok": "TikTok Shop", "lazada": "Lazada", "walmart": "Walmart",
    "other": N_("Other platform"),
}
DASH = "—"
HUNDRED = Decimal(100)
TRANSLATIONS = Path(__file__).resolve().parent / "translations"


# --------------------------------------------------------------------------- words


@functools.cache
def _locale(lang: str) -> Locale:
    return Locale.parse(_checked(lang))


@functools.cache
def _catalogue(lang: str) -> NullTranslations:
    return Translations.load(str(TRANSLATIONS), [_locale(lang)])


def translate(message: str, lang: str) -> str:
    """A catalogue message (marked with N_ or _l) in `lang`."""
    return _catalogue(lang).gettext(str(message))


def label(member: Any, lang: str) -> str:
    """An enum member's label in `lang`; a value without one (a stray string) shows as is."""
    text = getattr(member, "label", None)
    return translate(text, lang) if text else ("" if member is None else str(member))


def platform_label(platform: Any, lang: str) -> str:
    text = PLATFORM_LABELS.get(str(platform))
    return str(platform) if text is None else translate(text, lang)


def unit_label(unit: str, lang: str) -> str:
    """A metric unit ('fraction', 'money', ...) in words; an unknown unit shows as stored."""
    return translate(UNIT_LABELS[unit], lang) if unit in UNIT_LABELS else unit


def field_label(field: str, lang: str) -> str:
    """An item field ('target', 'weight', ...) by its label; an unknown field shows as stored."""
    return translate(FIELD_LABELS[field], lang) if field in FIELD_LABELS else field


def event_label(action: Any, lang: str) -> str:
    """A workflow action as a step of the approval trail ('Targets submitted')."""
    text = getattr(action, "event_label", None)
    return translate(text, lang) if text else label(action, lang)


def _checked(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"Unsupported language {lang!r}; use 'en' or 'zh_CN'.")
    return lang


# --------------------------------------------------------------------------- numbers


def to_decimal(value: Any) -> Decimal | None:
    """A Decimal from a number or numeric text; None for blanks and anything else."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if not isinstance(value, int | float | str):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def number(value: Any, lang: str = "en", places: int = 2, min_places: int = 0) -> str:
    """A plain number with thousands separators: 1234.5 -> '1,234.5'; '—' for no value."""
    found = to_decimal(value)
    return DASH if found is None else _digits(found, min_places, places, True, lang)


def percent(value: Any, lang: str = "en", places: int = 2) -> str:
    """A share already in percent (12.5 -> '12.5%'); '—' for no value."""
    found = to_decimal(value)
    return DASH if found is None else _digits(found, 0, places, True, lang) + "%"


def in_unit(value: Any, unit: str | None, lang: str = "en", currency: str | None = None) -> str:
    """A target or actual as people read it: 0.2213 -> '22.13%', 66466.945 -> '66,466.95',
    36 hours -> '36 h'; money carries `currency`'s symbol when one is given; '—' for no value."""
    found = to_decimal(value)
    return DASH if found is None else _with_unit(found, unit, lang, currency)


def change(value: Any, unit: str | None, lang: str = "en", currency: str | None = None) -> str:
    """A difference as people read it, always signed: +$14,879.82, −0.54% (a fraction's change
    in percentage points), 0; '—' for no value."""
    found = to_decimal(value)
    if found is None:
        return DASH
    sign = "+" if found > 0 else "−" if found < 0 else ""
    return sign + _with_unit(abs(found), unit, lang, currency)


# how a value of a unit is typed into a form: fractions in percent (0.35 is typed 35)
ENTRY_SCALE = {"fraction": HUNDRED}


def to_entry(value: Decimal | None, unit: str | None) -> Decimal | None:
    """A stored value as a person types it: 0.35 of a fraction unit -> 35."""
    return None if value is None else value * ENTRY_SCALE.get(unit, 1)


def from_entry(value: Decimal | None, unit: str | None) -> Decimal | None:
    """A typed value as it is stored: 35 typed for a fraction unit -> 0.35."""
    return None if value is None else value / ENTRY_SCALE.get(unit, 1)


def entry_affix(unit: str | None, lang: str = "en", currency: str | None = None) -> tuple[str, str]:
    """(before, after) an input of this unit: '%' after a percent, the currency symbol before money."""
    if unit == "fraction":
        return "", "%"
    if unit == "money" and currency:
        return get_currency_symbol(currency, _locale(lang)), ""
    if unit in ("hours", "days"):
        return "", _WORDS[lang][unit].strip()
    return "", ""


def bare(value: Decimal, unit: str | None, lang: str = "en") -> str:
    """A number as it appears inside a formula: percentages scaled, no unit word."""
    if unit == "fraction":
        text = _digits(value * HUNDRED, 1, 2, False, lang)
    elif unit == "money":
        text = _digits(value, 2, 2, True, lang)
    elif unit is None:
        text = _digits(value, 0, 4, False, lang)
    else:
        text = _digits(value, 0, 2, unit == "count", lang)
    return f"({text})" if value < 0 else text


def _with_unit(value: Decimal, unit: str | None, lang: str, currency: str | None = None) -> str:
    if unit == "money" and currency:
        return _money(value, currency, lang)
    if unit == "fraction":
        return bare(value, unit, lang) + "%"
    if unit in ("hours", "days"):
        return bare(value, unit, lang) + _WORDS[lang][unit]
    return bare(value, unit, lang)


def _money(value: Decimal, currency: str, lang: str) -> str:
    rounded = _rounded(value, 2)
    text = format_currency(abs(rounded), currency, locale=_locale(lang))
    return f"({text})" if value < 0 else text


def _rounded(value: Decimal, places: int) -> Decimal:
    # half up, as scores are rounded; babel alone would round half to even
    with localcontext(prec=max(28, value.adjusted() + places + 2)):
        return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _digits(value: Decimal, min_places: int, max_places: int, grouping: bool, lang: str) -> str:
    pattern = _pattern(min_places, max_places, grouping)
    return pattern.apply(_rounded(value, max_places), _locale(lang))


@functools.cache
def _pattern(min_places: int, max_places: int, grouping: bool):
    # what babel.numbers.format_decimal does, with the parsed pattern kept
    decimals = "." + "0" * min_places + "#" * (max_places - min_places) if max_places else ""
    return parse_pattern(("#,##0" if grouping else "0") + decimals)


# --------------------------------------------------------------------------- explanations

_TEMPLATES = {
    "en": {
        "no_data": "{label}: no data for this period yet, so no points",
        "no_manual_score": "{label}: not scored by the reviewer yet",
        "linear_worse_than_threshold": (
            "{label} {actual} is {worse} threshold {threshold}: 0 points"
        ),
        "linear_between_threshold_and_target": (
            "{label} {actual} is between threshold {threshold} and target {target}: "
            "{formula} = {points} points"
        ),
        "linear_at_target": "{label} {actual} meets target {target}: {points} points",
        "linear_between_target_and_stretch": (
            "{label} {actual} is between target {target} and stretch {stretch}: "
            "{formula} = {points} points"
        ),
        "linear_at_or_beyond_stretch": (
            "{label} {actual} reaches stretch {stretch}: capped at {points} points"
        ),
        "pass_fail_passed": "{label} {actual} meets the pass mark ({op} {target}): {points} points",
        "pass_fail_failed": "{label} {actual} misses the pass mark ({op} {target}): 0 points",
        "band_matched": "{label} {actual} is in the band {band}: {points} points",
        "band_none_matched": "{label} {actual} is in no band: 0 points",
        "manual_score": "Reviewer score {score} out of {scale_max}: {formula} = {points} points",
    },
    "zh_CN": {
        "no_data": "{label}：本期暂无数据，暂不计分",
        "no_manual_score": "{label}：评分人尚未打分",
        "linear_worse_than_threshold": "{label} {actual} {worse}门槛值 {threshold}：0 分",
        "linear_between_threshold_and_target": (
            "{label} {actual} 介于门槛值 {threshold} 与目标值 {target} 之间："
            "{formula} = {points} 分"
        ),
        "linear_at_target": "{label} {actual} 达到目标值 {target}：{points} 分",
        "linear_between_target_and_stretch": (
            "{label} {actual} 介于目标值 {target} 与挑战值 {stretch} 之间："
            "{formula} = {points} 分"
        ),
        "linear_at_or_beyond_stretch": "{label} {actual} 达到挑战值 {stretch}：封顶 {points} 分",
        "pass_fail_passed": "{label} {actual} 达标（{op} {target}）：{points} 分",
        "pass_fail_failed": "{label} {actual} 未达标（{op} {target}）：0 分",
        "band_matched": "{label} {actual} 落在区间 {band}：{points} 分",
        "band_none_matched": "{label} {actual} 不在任何区间内：0 分",
        "manual_score": "评分人打分 {score}（满分 {scale_max}）：{formula} = {points} 分",
    },
}

_WORDS = {
    "en": {
        "label": "Actual",
        "item": "This KPI",
        "worse_higher_better": "at or below",
        "worse_lower_better": "at or above",
        "times": "x",
        "band_from_to": "{lower} to under {upper}",
        "band_below": "under {upper}",
        "band_from": "{lower} and above",
        "band_any": "any value",
        "hours": " h",
        "days": " days",
    },
    "zh_CN": {
        "label": "实际值",
        "item": "该指标",
        "worse_higher_better": "未超过",
        "worse_lower_better": "未低于",
        "times": "×",
        "band_from_to": "{lower} 至 {upper}（不含 {upper}）",
        "band_below": "低于 {upper}",
        "band_from": "{lower} 及以上",
        "band_any": "任意值",
        "hours": " 小时",
        "days": " 天",
    },
}


def describe(
    explanation: Explanation,
    lang: str = "en",
    unit: str | None = None,
    label: str | None = None,
    currency: str | None = None,
) -> str:
    """Plain-language sentence for a scoring explanation, in 'en' or 'zh_CN'.

    `unit` formats values ('fraction' shows as a percentage, 'money', 'count', 'hours',
    'days', 'ratio'); `label` names the KPI (e.g. 'ACoS'); `currency` puts its symbol on
    money values (the formula keeps bare numbers).
    """
    words = _WORDS[_checked(lang)]
    if unit is not None and unit not in UNITS:
        raise ValueError(f"Unknown unit {unit!r}.")
    p = explanation.params
    default_label = words["item"] if p.get("actual") is None else words["label"]
    fields: dict[str, str] = {"label": label or default_label}
    for name in ("actual", "threshold", "target", "stretch"):
        if p.get(name) is not None:
            fields[name] = _with_unit(p[name], unit, lang, currency)
    for name in ("points", "cap", "score", "scale_max"):
        if p.get(name) is not None:
            fields[name] = _digits(p[name], 0, 2, False, lang)
    direction = p.get("direction", Direction.HIGHER_BETTER)
    fields["worse"] = words[f"worse_{direction}"]
    fields["op"] = "≥" if direction == Direction.HIGHER_BETTER else "≤"
    fields["formula"] = _formula(explanation, unit, lang)
    if explanation.code == "band_matched":
        fields["band"] = _band_words(p.get("lower"), p.get("upper"), unit, lang, currency)
    return _TEMPLATES[lang][explanation.code].format(**fields)


def _formula(explanation: Explanation, unit: str | None, lang: str) -> str:
    p, code, times = explanation.params, explanation.code, _WORDS[lang]["times"]
    if code == "manual_score":
        return f"{bare(p['score'], None, lang)}/{bare(p['scale_max'], None, lang)} {times} 100"
    higher = p.get("direction") == Direction.HIGHER_BETTER
    v = {k: bare(p[k], unit, lang) for k in ("actual", "threshold", "target", "stretch") if k in p}
    if code == "linear_between_threshold_and_target":
        if higher:
            return f"({v['actual']}-{v['threshold']})/({v['target']}-{v['threshold']}) {times} 100"
        return f"({v['threshold']}-{v['actual']})/({v['threshold']}-{v['target']}) {times} 100"
    if code == "linear_between_target_and_stretch":
        span = _digits(p["cap"] - HUNDRED, 0, 2, False, lang)
        if higher:
            ratio = f"({v['actual']}-{v['target']})/({v['stretch']}-{v['target']})"
        else:
            ratio = f"({v['target']}-{v['actual']})/({v['target']}-{v['stretch']})"
        return f"100 + {ratio} {times} {span}"
    return ""


def _band_words(lower, upper, unit, lang, currency) -> str:
    words = _WORDS[lang]
    lo = None if lower is None else _with_unit(lower, unit, lang, currency)
    up = None if upper is None else _with_unit(upper, unit, lang, currency)
    if lo is not None and up is not None:
        return words["band_from_to"].format(lower=lo, upper=up)
    if up is not None:
        return words["band_below"].format(upper=up)
    if lo is not None:
        return words["band_from"].format(lower=lo)
    return words["band_any"]


def explain(item: Any, lang: str, unit: str | None = None, currency: str | None = None) -> str:
    """A scorecard item's score in plain words, or '' when its stored explanation no longer
    reads (written by an older scoring version). `item` needs explanation, is_manual,
    manager_score, final_points, rule and name, as kpiapp.models.ScorecardItem has."""
    data = item.explanation or _implied_explanation(item)
    params = {
        k: v if k == "direction" else _number_or_text(v)
        for k, v in (data.get("params") or {}).items()
    }
    try:
        return describe(Explanation(data["code"], params), lang, unit, item.name, currency)
    except (KeyError, ValueError, TypeError, AttributeError, ArithmeticError):
        return ""


def _implied_explanation(item: Any) -> dict[str, Any]:
    # items scored before explanations were stored, and manual items not scored yet
    if not item.is_manual:
        return {"code": "no_data", "params": {}}
    if item.manager_score is None or item.final_points is None:
        return {"code": "no_manual_score", "params": {}}
    scale_max = (item.rule or {}).get("scale_max")
    return {
        "code": "manual_score",
        "params": {"score": item.manager_score, "points": item.final_points, "scale_max": scale_max},
    }


def _number_or_text(value: Any) -> Any:
    found = to_decimal(value)
    return value if found is None else found
