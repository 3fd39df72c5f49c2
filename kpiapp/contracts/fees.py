"""The contract fee for one period (docs/contracts.md, "The fee"). Pure: numbers in, steps out.

    base fee                       B
    commission  = pct % x M        (M: the commission metric over the period, all stores)
    subtotal    = B + commission
    adjustment  = adjust_pct % x subtotal    (the band holding the score; 0 when none does)
    bonus       = bonus_amount when score >= bonus_threshold, else 0
    fee         = subtotal + adjustment + bonus

Every step is rounded half-up to the cent, so the steps add up to the fee exactly.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from kpiapp.appraisal.scoring import Band

CENT = Decimal("0.01")
HUNDRED = Decimal(100)


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class FeeTerms:
    base_fee: Decimal
    commission_pct: Decimal | None = None
    bands: tuple[Band, ...] = ()  # Band.points holds the adjustment in percent (+10, -20)
    bonus_threshold: Decimal | None = None
    bonus_amount: Decimal | None = None


@dataclass(frozen=True)
class FeeStep:
    code: str  # base | commission | subtotal | adjustment | bonus | total
    amount: Decimal
    params: dict = field(default_factory=dict)  # the inputs, for the page, PDF and XLSX

    def to_dict(self) -> dict:
        return {"code": self.code, "amount": str(self.amount),
                "params": {k: (str(v) if isinstance(v, Decimal) else v) for k, v in self.params.items()}}


def bands_from_json(rows) -> tuple[Band, ...]:
    """ContractVersion.fee_bands ([{"lower", "upper", "adjust_pct"}], strings) as Bands."""
    def number(value):
        return None if value in (None, "") else Decimal(str(value))

    return tuple(Band(number(r.get("lower")), number(r.get("upper")), Decimal(str(r["adjust_pct"])))
                 for r in rows or ())


def fee_for(terms: FeeTerms, score: Decimal | None, commission_base: Decimal | None) -> list[FeeStep]:
    """The fee's steps, the last one the total. No score (a report not yet computable) means
    no adjustment and no bonus; no commission base with a commission rate is a ValueError
    (the service must refuse to send a report whose commission cannot be computed)."""
    base = cents(terms.base_fee)
    steps = [FeeStep("base", base)]
    commission = Decimal(0)
    if terms.commission_pct:
        if commission_base is None:
            raise ValueError("the commission base (e.g. GMV) has no value for the period")
        commission = cents(terms.commission_pct * commission_base / HUNDRED)
        steps.append(FeeStep("commission", commission, {"pct": terms.commission_pct, "base": commission_base}))
    subtotal = base + commission
    steps.append(FeeStep("subtotal", subtotal))
    band = next((b for b in terms.bands if score is not None and b.contains(score)), None)
    if band is not None:
        steps.append(FeeStep("adjustment", cents(band.points * subtotal / HUNDRED),
                             {"pct": band.points, "score": score, "lower": band.lower, "upper": band.upper}))
    if terms.bonus_amount and terms.bonus_threshold is not None and score is not None \
            and score >= terms.bonus_threshold:
        steps.append(FeeStep("bonus", cents(terms.bonus_amount),
                             {"threshold": terms.bonus_threshold, "score": score}))
    total = sum((s.amount for s in steps if s.code != "subtotal"), Decimal(0))
    steps.append(FeeStep("total", total))
    return steps
