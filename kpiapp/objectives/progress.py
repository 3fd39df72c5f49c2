"""Progress of key results and objectives (docs/objectives.md, "Progress"). Pure.

A key result's progress is how far its current value has moved from the start value to
the target, in percent, clipped to 0..100; the axis is the same for lower-is-better results
(start 0.30, target 0.25, current 0.27 -> 60). An objective's progress is the weighted mean
of its parts' progress, leaving out parts without progress (and saying on how much weight it
rests). No value is no progress (None), never 0.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

HUNDRED = Decimal(100)
CENT = Decimal("0.01")


def quantize(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def kr_progress(start: Decimal | None, target: Decimal | None, current: Decimal | None) -> Decimal | None:
    """Percent of the way from start to target (0..100), or None without a value or a span."""
    if current is None or start is None or target is None or target == start:
        return None
    share = (current - start) / (target - start) * HUNDRED
    return quantize(min(max(share, Decimal(0)), HUNDRED))


def milestone_progress(done: int, total: int) -> Decimal | None:
    return quantize(Decimal(done) / Decimal(total) * HUNDRED) if total else None


@dataclass(frozen=True)
class Rollup:
    progress: Decimal | None  # the weighted mean of the parts that have progress
    weight_covered: Decimal  # percent of the total weight those parts carry (100 = all)


def rollup(parts: list[tuple[Decimal | None, Decimal]]) -> Rollup:
    """Weighted mean of (progress, weight) parts; parts without progress are left out."""
    total = sum((w for _, w in parts), Decimal(0))
    known = [(p, w) for p, w in parts if p is not None and w > 0]
    weight = sum((w for _, w in known), Decimal(0))
    if not known or weight == 0:
        return Rollup(None, Decimal(0))
    mean = sum((p * w for p, w in known), Decimal(0)) / weight
    return Rollup(quantize(mean), quantize(weight / total * HUNDRED) if total else Decimal(0))


def behind_pace(progress: Decimal | None, elapsed_share: Decimal) -> bool:
    """A metric key result is behind when its progress trails the share of the period gone
    (elapsed_share 0..1), with a 10-point allowance (docs/pace.md uses the same idea)."""
    return progress is not None and progress + 10 < elapsed_share * HUNDRED
