"""Shopee payment/get_escrow_detail JSON -> per-order fee and income measures. §5.

Facts are order-level (ref = order_sn, sku=""). The response has no date: an
order-level escrow_release_time / create_time (Unix seconds) is used when present,
otherwise the caller's date_from (the payout date). No currency either: pass the
store currency (or add 'currency' to the object).
"""

from __future__ import annotations

from decimal import Decimal

from kpiapp.parsers.base import Options, ParseError, ParseResult
from kpiapp.parsers.common import (CellError, Collector, as_dict, check_currency,
                                   json_document, to_decimal, unix_date)

KEY = "shopee_escrow"
FAMILY = "shopee_escrow"
ZERO = Decimal(0)
_TIME_FIELDS = ("escrow_release_time", "payout_time", "create_time")

# cost measure -> (fields added, fields subtracted) of order_income, as magnitudes
_COSTS = {
    "commission_fees": (("commission_fee",), ()),
    "service_fees": (("service_fee",), ()),
    "transaction_fees": (("seller_transaction_fee",), ()),
    # net shipping the seller bears: carrier charges less Shopee rebate and buyer-paid shipping
    "shipping_fees": (("actual_shipping_fee", "reverse_shipping_fee"),
                      ("shopee_shipping_rebate", "buyer_paid_shipping_fee")),
    "seller_discounts": (("seller_discount", "voucher_from_seller"), ()),
    "platform_discounts": (("voucher_from_shopee", "shopee_discount"), ()),
    "other_fees": (("order_ams_commission_fee", "campaign_fee"), ()),
}


def matches(obj) -> bool:
    """True for get_escrow_detail JSON (one or more objects holding order_income)."""
    return bool(_details(obj))


def parse(data: bytes, opts: Options) -> ParseResult:
    """Parse escrow details into order-level fee measures."""
    details = _details(json_document(data, opts.filename))
    if not details:
        raise ParseError("wrong_format", "This JSON is not a Shopee get_escrow_detail response.")
    out = Collector(KEY, FAMILY, opts.currency)
    for i, detail in enumerate(details, start=1):
        with out.row(i) as row:
            sn = str(detail.get("order_sn") or "").strip()
            if not sn:
                raise CellError("missing_value", "No order_sn.", "order_sn")
            income = as_dict(detail.get("order_income"))
            day = _day(detail, opts)
            code = detail.get("currency") or income.get("currency")
            currency = check_currency(code, "currency") if code else None
            row.add(day, "escrow_amount", _amount(income, "escrow_amount"), currency, ref=sn)
            for measure, (plus, minus) in _COSTS.items():
                value = _magnitudes(income, plus) - _magnitudes(income, minus)
                row.add(day, measure, value, currency, ref=sn)
            row.add(day, "refund_amount", abs(_amount(income, "seller_return_refund")), currency, ref=sn)
    return out.result()


def _magnitudes(income: dict, fields: tuple[str, ...]) -> Decimal:
    return sum((abs(_amount(income, f)) for f in fields), ZERO)


def _amount(income: dict, field: str) -> Decimal:
    value = income.get(field)
    return ZERO if value is None or value == "" else to_decimal(value, "order_income." + field)


def _day(detail: dict, opts: Options):
    for field in _TIME_FIELDS:
        if detail.get(field):
            return unix_date(detail[field], opts.tz, field)
    if opts.date_from is None:
        raise ParseError("date_range_required",
                         "Escrow details carry no date; choose the payout date.")
    return opts.date_from


def _details(obj, depth: int = 0) -> list[dict]:
    """Escrow objects from a single response, a batch response or a plain list."""
    if depth > 3:
        return []
    if isinstance(obj, list):
        return [d for item in obj for d in _details(item, depth + 1)]
    obj = as_dict(obj)
    if "order_income" in obj:
        return [obj]
    inner = obj.get("escrow_detail", obj.get("response"))
    return _details(inner, depth + 1) if isinstance(inner, (dict, list)) else []
