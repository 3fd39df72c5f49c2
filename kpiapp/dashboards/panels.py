"""A dashboard panel: one chart, the table of its data, and that table as a download.

Pure: values in, cells out; the caller passes translated labels and the page's language.
"""
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from kpiapp import presentation, tabular

FORMATS = {
    "csv": ("text/csv; charset=utf-8", tabular.write_csv),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", tabular.write_xlsx),
}


@dataclass(frozen=True)
class Column:
    """A column of a panel's table. `unit` is a presentation unit ("money", "fraction",
    "count", "ratio", "hours", "days"), "points", "percent" (already ×100), or None for text.
    `unit_key`: a column whose rows differ in unit (one metric a row) reads each row's unit
    from that key of the row. `signed`: a difference, read with its sign (+$700, −0.5%)."""

    key: str
    label: str
    unit: str | None = None
    currency: str | None = None
    unit_key: str | None = None
    signed: bool = False

    def unit_of(self, row):
        return row.get(self.unit_key) if self.unit_key else self.unit


@dataclass
class Panel:
    key: str
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    spec: dict | None = None
    links: dict[str, Any] = field(default_factory=dict)  # {row index: url} for the first cell
    note: str = ""
    more: tuple[str, str] | None = None  # (url, label): a link under the table to the whole list

    def header(self):
        return [column.label for column in self.columns]

    def cells(self, lang):
        """The table as people read it: every value through presentation, None as "—"."""
        return [[cell(row.get(c.key), c.unit_of(row), c.currency, lang, c.signed) for c in self.columns]
                for row in self.rows]

    def raw(self):
        """The table for a download: plain values (a spreadsheet does its own formatting)."""
        return [[plain(row.get(column.key)) for column in self.columns] for row in self.rows]


def cell(value, unit, currency, lang, signed=False):
    if signed:
        return presentation.change(value, unit, lang, currency)
    if unit is None:
        return presentation.DASH if value in (None, "") else str(value)
    if unit == "points":
        return presentation.number(value, lang, 2)
    if unit == "percent":
        return presentation.percent(value, lang, 1)
    return presentation.in_unit(value, unit, lang, currency)


def plain(value):
    """A value as a spreadsheet cell: a Decimal without trailing zeros (1000.000000 -> 1000)."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return "" if value is None else str(value)


def download(panel, fmt, filename_stem):
    """(body, filename, mimetype) of the panel's table as CSV or XLSX; None for another format."""
    if fmt not in FORMATS:
        return None
    mimetype, write = FORMATS[fmt]
    return write(panel.header(), panel.raw()), f"{filename_stem}-{panel.key}.{fmt}", mimetype
