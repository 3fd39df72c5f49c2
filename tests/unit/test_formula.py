"""The safe formula parser: grammar, errors with positions, and exact evaluation."""

import sys
from decimal import Decimal as D
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

# The project is not installed in the venv; make the checkout importable under --noconftest.
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kpiapp.metrics.formula import Formula, FormulaError, parse_formula  # noqa: E402

NAMES = {"ad_spend", "ad_sales", "ordered_sales", "units_ordered", "sessions", "cogs"} | {"a", "b", "c"}


def parse(text):
    return parse_formula(text, NAMES)


def value(text, **values):
    return parse(text).evaluate({k: D(v) if v is not None else None for k, v in values.items()})


# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    "text, canonical",
    [
        ("ad_spend/ad_sales", "ad_spend / ad_sales"),
        ("  (ad_spend) / (ad_sales)  ", "ad_spend / ad_sales"),
        ("a+b*c", "a + b * c"),
        ("(a+b)*c", "(a + b) * c"),
        ("a-(b-c)", "a - (b - c)"),
        ("a-b-c", "a - b - c"),
        ("a/(b/c)", "a / (b / c)"),
        ("a*(b*c)", "a * (b * c)"),
        ("-a*b", "-a * b"),
        ("-(a*b)", "-(a * b)"),
        ("--a", "-(-a)"),
        ("a*-b", "a * -b"),
        ("min(a,b)", "min(a, b)"),
        ("max(a, b, c)", "max(a, b, c)"),
        ("0.10 * ordered_sales", "0.10 * ordered_sales"),
        (".5*a", "0.5 * a"),
        ("007 + a", "7 + a"),
        ("cogs / period_days", "cogs / period_days"),
        ("a\n+\tb", "a + b"),
    ],
)
def test_canonical_text(text, canonical):
    formula = parse(text)
    assert str(formula) == canonical
    assert parse(canonical) == formula


def test_names_are_the_inputs_used():
    assert parse("(ordered_sales - cogs) / ordered_sales + 1").names == {"ordered_sales", "cogs"}
    assert parse("2 * 3").names == frozenset()


def test_period_days_is_always_allowed():
    formula = parse_formula("units_ordered / period_days", {"units_ordered"})
    assert formula.names == {"units_ordered", "period_days"}
    assert formula.evaluate({"units_ordered": D(300), "period_days": D(30)}) == D(10)


# --------------------------------------------------------------------------- evaluation


@pytest.mark.parametrize(
    "text, values, result",
    [
        ("a + b * c", {"a": "1", "b": "2", "c": "3"}, "7"),
        ("(a + b) * c", {"a": "1", "b": "2", "c": "3"}, "9"),
        ("a - b - c", {"a": "10", "b": "3", "c": "2"}, "5"),
        ("a / b / c", {"a": "12", "b": "3", "c": "2"}, "2"),
        ("-a * b", {"a": "2", "b": "3"}, "-6"),
        ("min(a, b)", {"a": "2", "b": "3"}, "2"),
        ("max(a, b, c)", {"a": "2", "b": "3", "c": "-1"}, "3"),
        ("ad_spend / ad_sales", {"ad_spend": "98.56", "ad_sales": "289.89"}, None),
        ("a / 3 * 3", {"a": "1"}, "1"),
    ],
)
def test_evaluate(text, values, result):
    got = value(text, **values)
    if result is None:
        assert got == D("98.56") / D("289.89")
    else:
        assert got == D(result)


def test_evaluate_returns_decimal():
    assert isinstance(value("a / b", a="1", b="3"), D)
    assert value("a / b", a="1", b="3") == D(1) / D(3)


@pytest.mark.parametrize(
    "text, values",
    [
        ("a / b", {"a": "1", "b": "0"}),
        ("a / (b - c)", {"a": "1", "b": "2", "c": "2"}),
        ("a / (b / 3 * 3 - 1)", {"a": "1", "b": "1"}),
        ("min(a, b / c)", {"a": "1", "b": "1", "c": "0"}),
        ("a + b", {"a": "1"}),
        ("a + b", {"a": "1", "b": None}),
        ("a + b", {"a": "1", "b": "NaN"}),
    ],
)
def test_no_data(text, values):
    assert value(text, **values) is None


def test_no_data_even_when_the_missing_input_is_multiplied_by_zero():
    assert value("0 * a + b", b="1") is None


def test_float_inputs_are_refused():
    with pytest.raises(TypeError):
        parse("a + 1").evaluate({"a": 1.5})


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "text, position, words",
    [
        ("", 0, "empty"),
        ("   ", 0, "empty"),
        ("a +", 3, "ends too early"),
        ("(a + b", 6, "Expected ')'"),
        ("a + b)", 5, "')'"),
        ("a b", 2, "'b'"),
        ("a ** b", 2, "power"),
        ("a.b", 1, "'.'"),
        ("a.__class__", 1, "'.'"),
        ("a[0]", 1, "'['"),
        ("'a'", 0, "\"'\""),
        ("a < b", 2, "'<'"),
        ("a == b", 2, "'='"),
        ("lambda: a", 6, "':'"),
        ("lambda", 0, "Unknown name 'lambda'"),
        ("__import__('os')", 11, "\"'\""),
        ("__import__(a)", 0, "only min() and max()"),
        ("\u0663 + a", 0, "Unexpected character"),
        ("a\u3000+ b", 1, "Unexpected character"),
        ("abs(a)", 0, "only min() and max()"),
        ("min(a)", 0, "at least two"),
        ("min", 0, "needs arguments"),
        ("min()", 4, "Unexpected"),
        ("max(a,)", 6, "Unexpected"),
        ("1e5", 1, "'e5'"),
        ("0x10", 1, "'x10'"),
        ("1_000", 1, "'_000'"),
        ("+a", 0, "'+'"),
        ("a % b", 2, "'%'"),
        ("ａ", 0, "Unexpected character"),
        ("a # comment", 2, "'#'"),
        ("a; b", 1, "';'"),
        ("1.2.3", 3, "'.3'"),
    ],
)
def test_rejected_formulas(text, position, words):
    with pytest.raises(FormulaError) as err:
        parse(text)
    assert err.value.position == position
    assert words in err.value.message
    assert f"position {position}" in str(err.value)


def test_unknown_name_suggests_close_matches():
    with pytest.raises(FormulaError) as err:
        parse("ad_spnd / ad_sales")
    assert err.value.position == 0
    assert "'ad_spnd'" in err.value.message and "'ad_spend'" in err.value.message


def test_unknown_name_suggestion_ignores_case():
    with pytest.raises(FormulaError) as err:
        parse("ordered_sales / Sessions")
    assert err.value.position == 16
    assert "'sessions'" in err.value.message


def test_unknown_name_without_a_close_match():
    with pytest.raises(FormulaError) as err:
        parse("zzzzzz")
    assert err.value.message == "Unknown name 'zzzzzz'."


def test_length_limit():
    parse(" " * 499 + "a")
    with pytest.raises(FormulaError) as err:
        parse(" " * 500 + "a")
    assert err.value.position == 500


def test_depth_limit():
    assert str(parse("(" * 50 + "a" + ")" * 50)) == "a"
    with pytest.raises(FormulaError) as err:
        parse("(" * 51 + "a" + ")" * 51)
    assert "nested" in err.value.message
    with pytest.raises(FormulaError):
        parse("-" * 51 + "a")
    with pytest.raises(FormulaError):
        parse("min(a, " * 51 + "a" + ")" * 51)


def test_long_flat_formulas_are_fine():
    formula = parse(" + ".join(["a"] * 120))
    assert formula.evaluate({"a": D(1)}) == D(120)


def test_non_text_is_refused():
    with pytest.raises(FormulaError):
        parse_formula(None, NAMES)


# --------------------------------------------------------------------------- properties

FORMULA_CHARS = "abc()+-*/., 0123456789minaxe_\t*=<'[]"


@settings(max_examples=400)
@given(st.one_of(st.text(max_size=600), st.text(alphabet=FORMULA_CHARS, max_size=80)))
def test_random_text_only_ever_raises_formula_error(text):
    try:
        formula = parse(text)
    except FormulaError:
        return
    assert isinstance(formula, Formula)
    assert parse(str(formula)) == formula


VALUE_NAMES = ["a", "b", "c"]
numbers = st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False)


def _leaf():
    return st.one_of(
        numbers.filter(lambda d: d >= 0).map(lambda d: ("num", d)),
        st.sampled_from(VALUE_NAMES).map(lambda n: ("name", n)),
    )


def _branch(children):
    return st.one_of(
        st.tuples(st.sampled_from("+-*/"), children, children).map(lambda t: ("bin", *t)),
        children.map(lambda c: ("neg", c)),
        st.tuples(st.sampled_from(["min", "max"]), st.lists(children, min_size=2, max_size=3)).map(
            lambda t: ("call", *t)
        ),
    )


trees = st.recursive(_leaf(), _branch, max_leaves=12)
LEVEL = {"+": 1, "-": 1, "*": 2, "/": 2}


def render(tree, draw_bool, level=0, right=False):
    """Text with only the parentheses precedence needs, plus some redundant ones and spacing."""
    kind = tree[0]
    if kind == "num":
        text = f"{tree[1]:f}"
    elif kind == "name":
        text = tree[1]
    elif kind == "neg":
        inner = render(tree[1], draw_bool, level=3)
        text = f"-{inner}"
    elif kind == "call":
        text = f"{tree[1]}(" + ", ".join(render(a, draw_bool) for a in tree[2]) + ")"
    else:
        op, left, right_tree = tree[1], tree[2], tree[3]
        mine = LEVEL[op]
        space = " " if draw_bool() else ""
        left_text = render(left, draw_bool, mine)
        right_text = render(right_tree, draw_bool, mine, True)
        text = f"{left_text}{space}{op}{space}{right_text}"
        needs = mine < level or (right and mine == level) or level == 3
        if needs or draw_bool():
            text = f"({text})"
        return text
    return f"({text})" if draw_bool() and draw_bool() else text


def reference(tree, values):
    """Exact evaluation in Fraction arithmetic; None on a zero divisor."""
    kind = tree[0]
    if kind == "num":
        return Fraction(tree[1])
    if kind == "name":
        return values[tree[1]]
    if kind == "neg":
        inner = reference(tree[1], values)
        return None if inner is None else -inner
    if kind == "call":
        args = [reference(a, values) for a in tree[2]]
        return None if None in args else (min if tree[1] == "min" else max)(args)
    left, right = reference(tree[2], values), reference(tree[3], values)
    if left is None or right is None:
        return None
    op = tree[1]
    if op == "/":
        return None if right == 0 else left / right
    return {"+": left + right, "-": left - right, "*": left * right}[op]


@settings(max_examples=400)
@given(trees, st.fixed_dictionaries({n: numbers for n in VALUE_NAMES}), st.data())
def test_valid_expressions_match_fraction_arithmetic(tree, values, data):
    text = render(tree, lambda: data.draw(st.booleans()))
    formula = parse(text)
    expected = reference(tree, {k: Fraction(v) for k, v in values.items()})
    got = formula.evaluate(values)
    if expected is None:
        assert got is None
    else:
        assert got is not None
        assert abs(Fraction(got) - expected) <= abs(expected) * Fraction(1, 10**26)
    # the canonical text means the same thing
    assert parse(str(formula)).evaluate(values) == got
