"""Safe metric formulas over base measures: a small recursive-descent parser, no eval.

Grammar (ASCII only, whitespace ignored):
    expr    := term (('+' | '-') term)*
    term    := unary (('*' | '/') unary)*
    unary   := '-' unary | primary
    primary := NUMBER | NAME | ('min' | 'max') '(' expr (',' expr)+ ')' | '(' expr ')'
NUMBER is digits with an optional fraction (no exponent, no underscores).
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

MAX_LENGTH = 500
MAX_DEPTH = 50
PERIOD_DAYS = "period_days"
FUNCTIONS = {"min": min, "max": max}

_TOKEN = re.compile(
    r"(?P<space>\s+)|(?P<number>\d+(?:\.\d*)?|\.\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>[-+*/(),])",
    re.ASCII,
)
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2}


class FormulaError(ValueError):
    """A formula that cannot be parsed; `position` is a 0-based character index."""

    def __init__(self, message: str, position: int | None = None):
        super().__init__(message, position)
        self.message = message
        self.position = position

    def __str__(self) -> str:
        if self.position is None:
            return self.message
        return f"{self.message} (at position {self.position})"


# --------------------------------------------------------------------------- tree


@dataclass(frozen=True)
class Num:
    value: Decimal

    def __str__(self) -> str:
        return f"{self.value:f}"


@dataclass(frozen=True)
class Name:
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Neg:
    operand: Node

    def __str__(self) -> str:
        inner = str(self.operand)
        return f"-({inner})" if isinstance(self.operand, BinOp | Neg) else f"-{inner}"


@dataclass(frozen=True)
class BinOp:
    op: str
    left: Node
    right: Node

    def __str__(self) -> str:
        prec = _PRECEDENCE[self.op]
        left, right = str(self.left), str(self.right)
        if isinstance(self.left, BinOp) and _PRECEDENCE[self.left.op] < prec:
            left = f"({left})"
        # a same-level right operand keeps its parentheses so the text parses back to this tree
        if isinstance(self.right, BinOp) and _PRECEDENCE[self.right.op] <= prec:
            right = f"({right})"
        return f"{left} {self.op} {right}"


@dataclass(frozen=True)
class Call:
    func: str
    args: tuple[Node, ...]

    def __str__(self) -> str:
        return f"{self.func}({', '.join(str(a) for a in self.args)})"


Node = Num | Name | Neg | BinOp | Call


@dataclass(frozen=True)
class Formula:
    """A parsed formula: `names` it reads, `evaluate(values)`, `str()` canonical text."""

    tree: Node
    names: frozenset[str]

    def __str__(self) -> str:
        return str(self.tree)

    def evaluate(self, values: Mapping[str, Decimal | None]) -> Decimal | None:
        """Value of the formula, or None for "no data": a missing, None or non-finite
        input, or a zero divisor.

        Arithmetic is exact (rationals) and rounded once to a Decimal at the end, so a
        divisor that is exactly zero is always seen as zero.
        """
        inputs = {}
        for name in self.names:
            value = values.get(name)
            if value is None or (isinstance(value, Decimal) and not value.is_finite()):
                return None
            if isinstance(value, bool) or not isinstance(value, Decimal | int):
                raise TypeError(f"{name} must be a Decimal, got {type(value).__name__}.")
            inputs[name] = Fraction(value)
        result = _evaluate(self.tree, inputs)
        if result is None:
            return None
        return Decimal(result.numerator) / Decimal(result.denominator)


def _evaluate(node: Node, inputs: dict[str, Fraction]) -> Fraction | None:
    if isinstance(node, Num):
        return Fraction(node.value)
    if isinstance(node, Name):
        return inputs[node.name]
    if isinstance(node, Neg):
        value = _evaluate(node.operand, inputs)
        return None if value is None else -value
    if isinstance(node, Call):
        args = [_evaluate(arg, inputs) for arg in node.args]
        return None if None in args else FUNCTIONS[node.func](args)
    left, right = _evaluate(node.left, inputs), _evaluate(node.right, inputs)
    if left is None or right is None:
        return None
    if node.op == "+":
        return left + right
    if node.op == "-":
        return left - right
    if node.op == "*":
        return left * right
    return None if right == 0 else left / right


# --------------------------------------------------------------------------- parser


def parse_formula(text: str, allowed_names: set[str]) -> Formula:
    """Parse `text` into a Formula over `allowed_names` plus 'period_days'.

    Raises FormulaError(message, position) for anything outside the grammar, unknown
    names (with suggestions), input over 500 characters or nesting deeper than 50.
    """
    if not isinstance(text, str):
        raise FormulaError("A formula must be text.", None)
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"The formula is longer than {MAX_LENGTH} characters.", MAX_LENGTH)
    parser = _Parser(text, set(allowed_names) | {PERIOD_DAYS})
    tree = parser.parse()
    return Formula(tree, frozenset(parser.names))


@dataclass
class _Token:
    kind: str  # number, name, op, end
    text: str
    position: int


def _tokenize(text: str) -> list[_Token]:
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise FormulaError(f"Unexpected character {text[position]!r}.", position)
        if match.lastgroup != "space":
            tokens.append(_Token(match.lastgroup, match.group(), position))
        position = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str, allowed: set[str]):
        self.tokens = _tokenize(text)
        self.allowed = allowed
        self.index = 0
        self.depth = 0
        self.names: set[str] = set()

    def parse(self) -> Node:
        if self.peek.kind == "end":
            raise FormulaError("The formula is empty.", 0)
        node = self.expr()
        if self.peek.kind != "end":
            raise self.unexpected()
        return node

    @property
    def peek(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def expect(self, text: str) -> None:
        if self.peek.text != text or self.peek.kind != "op":
            raise self.unexpected(f"Expected {text!r}")
        self.take()

    def unexpected(self, prefix: str = "Unexpected") -> FormulaError:
        token = self.peek
        if token.kind == "end":
            return FormulaError(f"{prefix}: the formula ends too early.", token.position)
        return FormulaError(f"{prefix}: found {token.text!r}.", token.position)

    def expr(self) -> Node:
        node = self.term()
        while self.peek.kind == "op" and self.peek.text in "+-":
            node = BinOp(self.take().text, node, self.term())
        return node

    def term(self) -> Node:
        node = self.unary()
        while self.peek.kind == "op" and self.peek.text in "*/":
            op = self.take()
            if self.peek.text == "*" and op.text == "*":
                raise FormulaError("'**' (power) is not allowed.", op.position)
            node = BinOp(op.text, node, self.unary())
        return node

    def unary(self) -> Node:
        if self.peek.kind == "op" and self.peek.text == "-":
            self.take()
            with _Nesting(self):
                return Neg(self.unary())
        return self.primary()

    def primary(self) -> Node:
        token = self.peek
        if token.kind == "number":
            self.take()
            return Num(Decimal(token.text))
        if token.kind == "name":
            return self.name_or_call()
        if token.kind == "op" and token.text == "(":
            self.take()
            with _Nesting(self):
                node = self.expr()
            self.expect(")")
            return node
        raise self.unexpected()

    def name_or_call(self) -> Node:
        token = self.take()
        is_call = self.peek.kind == "op" and self.peek.text == "("
        if is_call:
            if token.text not in FUNCTIONS:
                raise FormulaError(
                    f"{token.text!r} cannot be called; only min() and max() can.", token.position
                )
            return self.call(token)
        if token.text in FUNCTIONS:
            raise FormulaError(f"{token.text}() needs arguments in parentheses.", token.position)
        if token.text not in self.allowed:
            raise FormulaError(self.unknown_name_message(token.text), token.position)
        self.names.add(token.text)
        return Name(token.text)

    def call(self, func: _Token) -> Node:
        self.expect("(")
        with _Nesting(self):
            args = [self.expr()]
            while self.peek.kind == "op" and self.peek.text == ",":
                self.take()
                args.append(self.expr())
        self.expect(")")
        if len(args) < 2:
            raise FormulaError(f"{func.text}() needs at least two arguments.", func.position)
        return Call(func.text, tuple(args))

    def unknown_name_message(self, name: str) -> str:
        choices = sorted(self.allowed)
        lowered = {c.lower(): c for c in choices}
        close = difflib.get_close_matches(name.lower(), list(lowered), n=3, cutoff=0.6)
        message = f"Unknown name {name!r}."
        if close:
            message += " Did you mean " + " or ".join(repr(lowered[c]) for c in close) + "?"
        return message


class _Nesting:
    """Counts nesting (parentheses, calls, unary minus) and stops beyond MAX_DEPTH."""

    def __init__(self, parser: _Parser):
        self.parser = parser

    def __enter__(self):
        self.parser.depth += 1
        if self.parser.depth > MAX_DEPTH:
            raise FormulaError(
                f"The formula is nested deeper than {MAX_DEPTH} levels.", self.parser.peek.position
            )

    def __exit__(self, *exc):
        self.parser.depth -= 1
        return False
