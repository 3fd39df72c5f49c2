"""FX rates file: date,currency,rate (rate = base-currency units for 1 unit of currency)."""

from __future__ import annotations

from kpiapp.parsers.base import FxRate, RowError
from kpiapp.parsers.common import CellError, Columns, check_currency, read_sheet, records

COLUMNS = Columns(
    aliases={"date": ("date", "日期"), "currency": ("currency", "币种"), "rate": ("rate", "汇率")},
    required=("date", "currency", "rate"),
)


def parse_fx(data: bytes, filename: str) -> tuple[list[FxRate], list[RowError]]:
    """Rates in file order plus row errors; a (date, currency) pair may appear once."""
    sheet = read_sheet(data, filename, COLUMNS)
    rates: list[FxRate] = []
    errors: list[RowError] = []
    seen: dict[tuple, int] = {}
    for rec in records(sheet):
        try:
            rate = _rate(rec, seen)
        except CellError as exc:
            errors.append(RowError(rec.line, exc.column, exc.code, exc.message))
            continue
        seen[(rate.date, rate.currency)] = rec.line
        rates.append(rate)
    return rates, sheet.errors + errors  # ragged rows first, as the sheet refused them


def _rate(rec, seen: dict) -> FxRate:
    day = rec.date("date", serial=True)
    currency = check_currency(rec.text("currency"), rec.label("currency"))
    rate = rec.number("rate")
    if rate is None or rate <= 0:
        raise CellError("bad_number", "The rate must be a positive number.", rec.label("rate"))
    if (day, currency) in seen:
        raise CellError("duplicate_row", "Same date and currency as line %d." % seen[(day, currency)])
    return FxRate(rec.line, day, currency, rate)
