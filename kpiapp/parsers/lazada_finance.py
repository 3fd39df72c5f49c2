"""Lazada finance transactions: Open Platform /finance/transaction/details/get JSON.

One transaction per object: transaction_date ("18 Nov 2026" or ISO), amount (signed: credits
positive, fees negative), fee_name, order_no, seller_sku, transaction_number. Each fee name
lands in exactly one measure, cash view as for the Amazon settlement: sales and shipping
credited keep their sign; fees, promotions and ads are stored as what the seller paid
(the negated amount, so a reversal lowers them). Unknown fee names: other_fees when negative,
other_settlement_amounts when positive. ref = the order number (else the transaction
number), sku = the seller SKU; the same key twice in one response is summed.
The fee names are those of Lazada's statements [Observed]; confirm against a real account.
"""

from __future__ import annotations

from decimal import Decimal

from kpiapp.parsers.base import Options, ParseError, ParseResult
from kpiapp.parsers.common import (DEFAULT_FORMATS, CellError, Collector, as_dict, check_currency,
                                   json_document, parse_date, to_decimal)

KEY = "lazada_finance"
FAMILY = "lazada_finance"
DATE_FORMATS = DEFAULT_FORMATS + ("%d %b %Y", "%d %B %Y")

# fee name (casefolded) -> (measure, sign applied to the amount)
CREDITS = {"item price credit": "settled_product_sales",
           "shipping fee (paid by customer)": "settled_shipping"}
REFUNDS = ("reversal item price", "reversal shipping fee (paid by customer)")
FEES = {
    "commission": "commission_fees", "reversal commission": "commission_fees",
    "payment fee": "transaction_fees", "reversal payment fee": "transaction_fees",
    "shipping fee paid by seller": "shipping_fees", "shipping fee charged by lazada": "shipping_fees",
    "free shipping max fee": "promotion_costs", "promotional charges vouchers": "promotion_costs",
    "promotional charges flexi-combo": "promotion_costs", "lazcoins discount": "promotion_costs",
    "sponsored discovery - top up": "advertising_cost_settled",
    "marketing solution/social media adverts": "advertising_cost_settled",
    "handling fee": "service_fees", "service fee": "service_fees",
    "wht": "taxes_withheld", "vat": "taxes_withheld",
}


def matches(obj) -> bool:
    """True for /finance/transaction/details/get JSON (transactions with fee_name and amount)."""
    rows = _transactions(obj)
    return bool(rows) and all("fee_name" in r and "amount" in r for r in rows[:3])


def parse(data: bytes, opts: Options) -> ParseResult:
    doc = json_document(data, opts.filename)
    rows = _transactions(doc)
    if not rows and not isinstance(as_dict(doc).get("data"), list):
        raise ParseError("wrong_format", "This JSON is not a Lazada finance transactions response.")
    out = Collector(KEY, FAMILY, opts.currency)
    for i, row in enumerate(rows, start=1):
        with out.row(i) as scope:
            _transaction(scope, row)
    return out.result()


def _transactions(obj) -> list[dict]:
    if isinstance(obj, list):
        return [r for r in obj if isinstance(r, dict)]
    data = as_dict(obj).get("data")
    return [r for r in data if isinstance(r, dict)] if isinstance(data, list) else []


def _transaction(scope, row: dict) -> None:
    day = parse_date(row.get("transaction_date"), "transaction_date", DATE_FORMATS)
    amount = to_decimal(row.get("amount"), "amount")
    currency = check_currency(row["currency"], "currency") if row.get("currency") else None
    ref = str(row.get("order_no") or row.get("transaction_number") or "").strip()
    if not ref:
        raise CellError("missing_value", "No order_no or transaction_number.", "order_no")
    measure, value = classify(str(row.get("fee_name") or ""), amount)
    scope.add(day, measure, value, currency, sku=str(row.get("seller_sku") or "").strip(), ref=ref)


def classify(fee_name: str, amount: Decimal) -> tuple[str, Decimal]:
    """(measure, value) for one transaction amount."""
    name = " ".join(fee_name.casefold().split())
    if name in CREDITS:
        return CREDITS[name], amount
    if name in REFUNDS:
        return "settled_refunds", -amount
    if name in FEES:
        return FEES[name], -amount
    return ("other_fees", -amount) if amount < 0 else ("other_settlement_amounts", amount)
