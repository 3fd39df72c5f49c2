"""Bonus arithmetic (docs/bonus.md): amount = base x coefficient, and scaling a cycle's
amounts to a budget so that they sum to it exactly in cents (largest-remainder method).

Pure functions over Decimal and integer cents: no Flask, no database.
"""
from decimal import Decimal
from fractions import Fraction

from kpiapp.appraisal.scoring import CENT, quantize_points

HUNDRED = 100


def amount(base, coefficient):
    """base x coefficient, half-up to the cent; None until there is a coefficient (or a base)."""
    if base is None or coefficient is None:
        return None
    return quantize_points(Decimal(base) * Decimal(coefficient))


def to_cents(value):
    return int((Decimal(value) * HUNDRED).to_integral_value())


def from_cents(cents):
    return (Decimal(cents) / HUNDRED).quantize(CENT)


def exact_shares(amounts, budget):
    """Each amount's exact share of `budget` (in cents, as Fractions): amount x budget / total."""
    cents = [to_cents(a) for a in amounts]
    total = sum(cents)
    if total == 0:
        raise ValueError("nothing to scale: the amounts total 0")
    return [Fraction(c * to_cents(budget), total) for c in cents]


def scale_to_budget(amounts, budget):
    """The amounts scaled to sum to `budget` exactly, in cents (largest remainder).

    Each share is floored to the cent; the cents left over (fewer than the number of lines)
    go one each to the lines with the largest remainders; equal remainders go to the line
    earlier in `amounts`. Every result is the floor of its exact share or one cent more.
    Raises ValueError when the amounts total 0 (nothing to scale by)."""
    shares = exact_shares(amounts, budget)
    floors = [s.numerator // s.denominator for s in shares]
    left = to_cents(budget) - sum(floors)
    by_remainder = sorted(range(len(shares)), key=lambda i: (-(shares[i] - floors[i]), i))
    for i in by_remainder[:left]:
        floors[i] += 1
    return [from_cents(c) for c in floors]


def paid(amounts, budget=None):
    """What is paid: the amounts as they are, or scaled to `budget` when there is one."""
    if budget is None:
        return list(amounts)
    return scale_to_budget(amounts, budget)
