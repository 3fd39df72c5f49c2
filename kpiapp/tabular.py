"""Reading and writing small CSV/XLSX tables safely (SECURITY.md F2, F3, F5)."""
import csv
import io
import zipfile

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from kpiapp.i18n import N_

XLSX_MAGIC = b"PK\x03\x04"
MAX_XLSX_ENTRIES = 200
MAX_XLSX_UNCOMPRESSED = 50 * 1024 * 1024
DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\x00")


class TableError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def read_table(data, filename):
    """Rows of a CSV or XLSX upload as lists of strings (first row = header)."""
    name = (filename or "").lower()
    if not data:
        raise TableError("empty_file", N_("The file is empty."))
    if name.endswith(".xlsx"):
        return read_xlsx(data)
    if name.endswith(".csv"):
        return read_csv(data)
    raise TableError("bad_extension", N_("Upload a .csv or .xlsx file."))


def read_csv(data):
    if data.startswith(XLSX_MAGIC) or b"\x00" in data:
        raise TableError("not_csv", N_("The file is not a text CSV file."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise TableError("bad_encoding", N_("The CSV file is not UTF-8 encoded.")) from None
    return [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]


def check_zip(data):
    if not data.startswith(XLSX_MAGIC):
        raise TableError("not_xlsx", N_("The file is not a real XLSX workbook."))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile:
        raise TableError("bad_xlsx", N_("The XLSX file is damaged or truncated.")) from None
    if len(infos) > MAX_XLSX_ENTRIES or sum(i.file_size for i in infos) > MAX_XLSX_UNCOMPRESSED:
        raise TableError("xlsx_too_large", N_("The XLSX file unpacks to more than we accept."))


def read_xlsx(data):
    check_zip(data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        rows = [["" if v is None else str(v) for v in row] for row in book.active.iter_rows(values_only=True)]
    except Exception:  # openpyxl raises many types on damaged files
        raise TableError("bad_xlsx", N_("The XLSX file could not be read.")) from None
    return [row for row in rows if any(cell.strip() for cell in row)]


def neutralise(value):
    """Stop a spreadsheet from running a cell as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(DANGEROUS_PREFIXES) else text


def write_csv(header, rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180
    writer.writerow(header)
    writer.writerows([neutralise(v) for v in row] for row in rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # BOM so Excel reads UTF-8


def write_xlsx(header, rows):
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        # XLSX cannot hold control characters: neutralise first, then drop them
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", neutralise(v)) for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
