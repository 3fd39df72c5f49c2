"""Reading and writing small CSV/XLSX tables safely (SECURITY.md F2, F3, F5).

Reading goes through the parsers' one safe reader (kpiapp/parsers/common.py): the same
zip-bomb limits, header limits and CSV rules as report imports. Our own exports are UTF-8,
so people files are read as UTF-8 only.
"""
import csv
import io
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from kpiapp.i18n import N_
from kpiapp.parsers.base import ParseError
from kpiapp.parsers.common import decoded_rows, xlsx_sheets

XLSX_MAGIC = b"PK\x03\x04"
DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\x00")
# The shared reader's error codes, in the words of this screen.
MESSAGES = {
    "empty_file": N_("The file is empty."),
    "bad_encoding": N_("The CSV file is not UTF-8 encoded."),
    "bad_csv": N_("The CSV file is malformed."),
    "not_xlsx": N_("The file is not a real XLSX workbook."),
    "bad_xlsx": N_("The XLSX file is damaged or truncated."),
    "xlsx_too_large": N_("The XLSX file unpacks to more than we accept."),
    "header_too_long": N_("The first lines of the file are longer or wider than we accept."),
    "too_many_columns": N_("The first lines of the file are longer or wider than we accept."),
}


class TableError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def read_table(data, filename):
    """Rows of a CSV or XLSX upload as lists of strings (first row = header)."""
    name = (filename or "").lower()
    if not data or not data.strip():
        raise TableError("empty_file", MESSAGES["empty_file"])
    if name.endswith(".xlsx"):
        return read_xlsx(data)
    if name.endswith(".csv"):
        return read_csv(data)
    raise TableError("bad_extension", N_("Upload a .csv or .xlsx file."))


def read_csv(data):
    if data.startswith(XLSX_MAGIC) or b"\x00" in data:
        raise TableError("not_csv", N_("The file is not a text CSV file."))
    return _strings(_shared(decoded_rows, data, utf8_only=True))


def read_xlsx(data):
    sheets = _shared(xlsx_sheets, data)
    return _strings(sheets[0] if sheets else [])


def _shared(reader, data, **kwargs):
    try:
        return reader(data, **kwargs)
    except ParseError as error:
        code = error.code if error.code in MESSAGES else "bad_xlsx"
        raise TableError(code, MESSAGES[code]) from None


def _strings(rows):
    return [["" if v is None else str(v) for v in cells] for _, cells in rows]


def neutralise(value):
    """Stop a spreadsheet from running a cell as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(DANGEROUS_PREFIXES) else text


def xlsx_cell(value):
    if isinstance(value, (int, Decimal, float)) and not isinstance(value, bool):
        return value
    return ILLEGAL_CHARACTERS_RE.sub("", neutralise(value))  # XLSX cannot hold control characters


def write_csv(header, rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180
    writer.writerow(header)
    writer.writerows([neutralise(v) for v in row] for row in rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # BOM so Excel reads UTF-8


def write_xlsx(header, rows):
    """Numbers (int, Decimal, float) stay numbers a spreadsheet can add up; everything else is text,
    neutralised (a number cannot run as a formula)."""
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append([xlsx_cell(v) for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
