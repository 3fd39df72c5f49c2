"""Result types shared by every parser.

Fact keys: within one ParseResult the natural key
(business_date, period_end, sku, ref, measure, store_code) is unique.

sku="" means "not split by SKU". Where a result holds both a sku="" fact and
SKU facts for the same (business_date, period_end, ref, measure, store_code),
the sku="" fact is the total of that group and the SKU facts are a breakdown
of it (Sales & Traffic by-date vs by-ASIN; Ads campaign vs advertised product;
settlement lines with and without SKU). Store-level sums therefore take the
sku="" fact when one exists and the sum of the SKU facts otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import NamedTuple


class ParseError(Exception):
    """Whole-file rejection.

    code is stable (e.g. 'empty_file', 'bad_encoding', 'unknown_format', 'not_xlsx',
    'xlsx_too_large', 'missing_columns', 'date_range_required'); message is plain
    English; params feed translation.
    """

    def __init__(self, code: str, message: str, **params):
        super().__init__(message)
        self.code = code
        self.message = message
        self.params = params

    def __reduce__(self):
        # keeps the error intact across pickling (e.g. when a job runner stores it)
        return (self.__class__, (self.code, self.message), {"params": self.params})

    def __repr__(self) -> str:
        return f"ParseError({self.code!r}, {self.message!r})"


@dataclass(frozen=True)
class RowError:
    line: int  # 1-based line/row number as the user sees it in the file
    column: str | None
    code: str  # stable code, e.g. 'bad_number', 'bad_date', 'unknown_measure', 'formula_cell'
    message: str  # plain English


class Fact(NamedTuple):
    """One normalized value (immutable; a tuple, which is cheap to build by the million)."""

    line: int  # source line (provenance)
    business_date: date  # local business date (first day for range reports)
    measure: str  # key from kpiapp.parsers.measures.BASE_MEASURES
    value: Decimal
    currency: str | None = None  # ISO 4217 for money measures, None otherwise
    sku: str = ""  # SKU / child ASIN, "" = store level
    ref: str = ""  # campaign id, order id, settlement id...; "" if none
    period_end: date | None = None  # only for range aggregates, else None
    store_code: str = ""  # only the generic template carries a store column

    @property
    def key(self) -> tuple:
        return (self.business_date, self.period_end, self.sku, self.ref, self.measure,
                self.store_code)


@dataclass(frozen=True)
class ParseWarning:
    """Something the user must know although no row is wrong (a column not read, rows skipped).

    code is stable ('columns_not_read', 'missing_measure', 'total_rows_skipped',
    'description_rows_skipped'); params feed translation; message is plain English.
    """

    code: str
    message: str
    params: dict = field(default_factory=dict, hash=False, compare=False)


@dataclass
class ParseResult:
    parser: str  # parser key e.g. 'amazon_business_report'
    family: str  # facts of one family replace each other on the natural key
    facts: list[Fact]
    errors: list[RowError]
    rows_read: int
    currency: str | None = None  # currency found in the file, if any
    warnings: list[ParseWarning] = field(default_factory=list)
    staged: bool = False  # the facts went to the caller's sink (parse_file(sink=...)), not into facts
    # the latest business date or period end of the facts when the collector knew it without
    # reading them (rows kept one key a row): refuse_future then reads no fact
    latest: date | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class FxRate:
    line: int
    date: date
    currency: str
    rate: Decimal  # units of the company base currency for 1 unit of currency


@dataclass(frozen=True)
class Options:
    """What the caller knows that the file does not say."""

    filename: str = ""
    date_from: date | None = None
    date_to: date | None = None
    tz: str | None = None  # IANA zone for turning UTC timestamps into business dates
    currency: str | None = None  # store currency, used when the file names none


@dataclass(frozen=True)
class ParserInfo:
    key: str
    family: str
    label_en: str
    label_zh: str
    needs_date_range: bool
    parse: object = field(repr=False)  # callable(data: bytes, opts: Options) -> ParseResult
