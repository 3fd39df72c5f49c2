"""Target decomposition (目标分解, docs/objectives.md, "Decomposition"). Pure.

Shares and equal splits are rounded to the cent by the largest-remainder rule, so the
children sum to the parent exactly; typed amounts are kept as typed and the difference to
the parent is reported, never spread silently.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

CENT = Decimal("0.01")


class DecompositionError(ValueError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Split:
    amounts: list[Decimal]  # one per child, in the order given
    difference: Decimal  # parent - sum(amounts): 0 for shares and equal splits


def by_shares(total: Decimal, shares: list[Decimal]) -> Split:
    """`total` split in proportion to `shares` (any positive numbers, e.g. percentages)."""
    if not shares or any(s < 0 for s in shares) or sum(shares) <= 0:
        raise DecompositionError("bad_shares", "Shares must be positive numbers.")
    whole = sum(shares)
    exact = [total * s / whole for s in shares]
    return Split(largest_remainder(total, exact), Decimal(0))


def equal(total: Decimal, count: int) -> Split:
    if count < 1:
        raise DecompositionError("no_children", "Choose at least one child.")
    return by_shares(total, [Decimal(1)] * count)


def typed(total: Decimal, amounts: list[Decimal]) -> Split:
    """Amounts as typed (to the cent); the difference to `total` is reported."""
    cents = [a.quantize(CENT) for a in amounts]
    return Split(cents, total - sum(cents, Decimal(0)))


def largest_remainder(total: Decimal, exact: list[Decimal]) -> list[Decimal]:
    """Each exact part floored to the cent; the cents left over go one each to the largest
    remainders (ties: the earlier child), so the parts sum to `total` (to the cent)."""
    floors = [e.quantize(CENT, rounding=ROUND_DOWN) for e in exact]
    left = int(((total.quantize(CENT) - sum(floors, Decimal(0))) / CENT).to_integral_value())
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += CENT
    return floors
