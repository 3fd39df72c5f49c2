"""Shared helpers: safe decoding, tables (CSV/XLSX), headers, numbers, dates, facts.

Nothing here knows about a specific report. Helpers raise ParseError for whole-file
problems and CellError for a bad cell; Collector.row() turns a CellError into a
RowError and drops that row's facts.
"""

from __future__ import annotations

import codecs
import csv
import gc
import io
import json
import re
import unicodedata
import zipfile
import zlib
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from decimal import Decimal, InvalidOperation
from itertools import chain, islice, repeat
from operator import itemgetter
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kpiapp.parsers.base import Fact, ParseError, ParseResult, ParseWarning, RowError
from kpiapp.parsers.measures import BASE_MEASURES, NON_NEGATIVE

# Upload-safety limits (SECURITY F3). Module-level so tests can lower them.
MAX_XLSX_ENTRIES = 500
MAX_XLSX_UNCOMPRESSED = 200 * 1024 * 1024
MAX_GUNZIPPED = 200 * 1024 * 1024
MAX_ABS_VALUE = Decimal(10) ** 15
HEADER_SCAN_ROWS = 10
# A header line is checked before any decoding or sniffing (a 1,000,000-column line cost 53 s).
MAX_HEADER_BYTES = 1024 * 1024
MAX_COLUMNS = 2000

ISO_CURRENCIES = frozenset(
    "AED ARS AUD BDT BGN BRL CAD CHF CLP CNY COP CZK DKK EGP EUR GBP HKD HUF IDR ILS INR "
    "JPY KRW MXN MYR NGN NOK NZD PEN PHP PKR PLN RON RUB SAR SEK SGD THB TRY TWD UAH USD "
    "VND ZAR".split()
)
# Symbols that more than one currency uses: the store currency decides, else the default.
_AMBIGUOUS_SYMBOLS = {
    "$": ("USD", {"USD", "CAD", "AUD", "MXN", "SGD", "HKD", "NZD", "TWD", "CLP", "COP", "ARS"}),
    "¥": ("JPY", {"JPY", "CNY"}),
    "KR": ("SEK", {"SEK", "NOK", "DKK"}),
}
_SYMBOLS = {
    "US$": "USD", "€": "EUR", "£": "GBP", "JP¥": "JPY", "円": "JPY", "CN¥": "CNY", "RMB": "CNY",
    "元": "CNY", "R$": "BRL", "CA$": "CAD", "C$": "CAD", "A$": "AUD", "AU$": "AUD",
    "MX$": "MXN", "S$": "SGD", "NT$": "TWD", "HK$": "HKD", "₱": "PHP", "RM": "MYR", "RP": "IDR",
    "₫": "VND", "Đ": "VND", "฿": "THB", "₹": "INR", "ZŁ": "PLN", "₺": "TRY", "TL": "TRY",
    "₩": "KRW", "CHF": "CHF",
}
_BLANK_MARKERS = {"-", "--", "—", "n/a", "na", "null", "none"}


class CellError(Exception):
    """A single bad cell; becomes a RowError for its row."""

    def __init__(self, code: str, message: str, column: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.column = column


# ---------------------------------------------------------------- headers


_HEADER_TRANSLATE = str.maketrans({
    "\ufeff": "", "\u2013": "-", "\u2014": "-", "\u2012": "-", "\u2212": "-", "\uff0d": "-",
})
_CURRENCY_SUFFIX = re.compile(r"\s*\(([A-Z]{3})\)\s*$")


def header_currency(text: object) -> str | None:
    """The ISO currency in a header suffix like 'Seller Voucher(PHP)', else None."""
    m = _CURRENCY_SUFFIX.search(unicodedata.normalize("NFKC", str(text or "")).strip())
    return m.group(1) if m and m.group(1) in ISO_CURRENCIES else None


def norm_header(text: object) -> str:
    """Normalise a header per DATA-FORMATS §0 rule 1 (and drop a '(PHP)' currency suffix)."""
    if type(text) is str and len(text) <= _NORM_CACHED_LENGTH:
        return _norm_header_cached(text)
    return _norm_header(text)


# Detection normalises the first rows' cells once per format it tries: the same few hundred
# strings each time. Longer cells (no header is) are not kept.
_NORM_CACHED_LENGTH = 200


def _norm_header(text: object) -> str:
    s = unicodedata.normalize("NFKC", str(text or "")).translate(_HEADER_TRANSLATE).strip()
    if header_currency(s):
        s = _CURRENCY_SUFFIX.sub("", s)
    s = " ".join(s.split())
    s = re.sub(r"\s+-\s*|\s*-\s+", " - ", s)  # 'A – B' and 'A -B' read the same
    s = re.sub(r"\s*([()])\s*", r"\1", s)  # '(Child) ASIN' == '(Child)ASIN'
    return s.casefold()


_norm_header_cached = lru_cache(maxsize=4096)(_norm_header)


class Columns:
    """Alias table of one report: canonical name -> header spellings, plus what is required.

    required holds canonical names or tuples meaning 'any one of these'.
    ignored: columns of the format that are known and deliberately not read (ratios, titles...);
    any other header is reported as 'not read'. expected: (canonical name or tuple, measure)
    pairs the format normally carries; a file without such a column gets a warning.
    """

    def __init__(self, aliases: dict[str, tuple[str, ...]], required: tuple, ignored: tuple = (),
                 expected: tuple = ()):
        self.aliases = aliases
        self.required = required
        self.expected = expected
        self.lookup = {norm_header(a): canon for canon, names in aliases.items() for a in names}
        self.known = set(self.lookup) | {norm_header(name) for name in ignored}

    def found(self, cells: list) -> dict[str, int]:
        """Canonical name -> column index for the recognised cells of a row."""
        out: dict[str, int] = {}
        for idx, cell in enumerate(cells):
            canon = self.lookup.get(norm_header(cell)) if isinstance(cell, str) else None
            if canon and canon not in out:
                out[canon] = idx
        return out

    def match(self, cells: list) -> dict[str, int] | None:
        """The column map if cells are a header holding every required column, else None."""
        found = self.found(cells)
        return found if not self.missing(found) else None

    def missing(self, found: dict[str, int]) -> list[str]:
        out = []
        for req in self.required:
            options = req if isinstance(req, tuple) else (req,)
            if not any(o in found for o in options):
                out.append(" / ".join(self.aliases[o][0] for o in options))
        return out


# ---------------------------------------------------------------- containers


def gunzip_if_needed(data: bytes, filename: str) -> tuple[bytes, str]:
    """Decompress gzip content (bounded); strip a .gz suffix from the name."""
    if filename.lower().endswith(".gz"):
        filename = filename[:-3]
    if not data.startswith(b"\x1f\x8b"):
        return data, filename
    out, rest = [], data
    total = 0
    try:
        while rest.startswith(b"\x1f\x8b"):
            d = zlib.decompressobj(wbits=31)
            chunk = d.decompress(rest, MAX_GUNZIPPED + 1 - total)
            total += len(chunk)
            if total > MAX_GUNZIPPED or d.unconsumed_tail:
                raise ParseError("file_too_large", "The compressed file expands beyond the size limit.",
                                 limit=MAX_GUNZIPPED)
            if not d.eof:
                raise ParseError("bad_gzip", "The gzip file is truncated.")
            out.append(chunk)
            rest = d.unused_data
    except zlib.error as exc:
        raise ParseError("bad_gzip", "The gzip file is damaged.") from exc
    return b"".join(out), filename


def _ext(filename: str) -> str:
    name = filename.lower().rsplit("/", 1)[-1]
    return "." + name.rsplit(".", 1)[-1] if "." in name else ""


def container_kind(data: bytes, filename: str) -> str:
    """'xlsx', 'json' or 'text', checking that the extension matches the content (SECURITY F2)."""
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise ParseError("empty_file", "The file is empty.")
    ext = _ext(filename)
    if data.startswith(b"\xd0\xcf\x11\xe0") or ext == ".xls":
        raise ParseError("not_xlsx", "Old Excel .xls files are not supported; save the file as .xlsx.")
    is_zip = data.startswith(b"PK\x03\x04")
    if ext in (".xlsx", ".xlsm"):
        if not is_zip:
            raise ParseError("not_xlsx", "The file is named .xlsx but is not an Excel workbook.")
        return "xlsx"
    if is_zip:
        if ext:
            raise ParseError("extension_mismatch",
                             "The file is an Excel workbook but is named %s; rename it to .xlsx." % ext,
                             extension=ext)
        return "xlsx"
    looks_json = data.lstrip(b" \t\r\n\xef\xbb\xbf")[:1] in (b"{", b"[")
    if ext == ".json":
        if not looks_json:
            raise ParseError("bad_json", "The file is named .json but does not contain JSON.")
        return "json"
    if ext not in ("", ".csv", ".txt", ".tsv", ".tab"):
        raise ParseError("extension_mismatch", "Files named %s are not supported." % ext, extension=ext)
    return "json" if looks_json else "text"


def load_json(data: bytes):
    """Parse JSON with Decimal numbers; NaN/Infinity come through as strings and fail later."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError("bad_encoding", "JSON files must be UTF-8.") from exc
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=str)
    except (ValueError, RecursionError) as exc:
        raise ParseError("bad_json", "The file is not valid JSON.") from exc


def json_document(data: bytes, filename: str):
    """The parsed JSON of an upload, or ParseError when the upload is not JSON."""
    if container_kind(data, filename) != "json":
        raise ParseError("wrong_format", "Expected a JSON document.")
    return load_json(data)


def as_dict(value) -> dict:
    """value if it is a JSON object, else {} (hostile or odd shapes never crash a parser)."""
    return value if isinstance(value, dict) else {}


def as_list(value) -> list:
    """value if it is a JSON array, else []."""
    return value if isinstance(value, list) else []


# ---------------------------------------------------------------- text decoding


_CONTROLS = tuple(chr(c) for c in range(32) if chr(c) not in "\t\r\n\f\v\x1a")
_NOT_CONTROL_BYTES = bytes(c for c in range(256) if chr(c) not in _CONTROLS)


_DECODED: ContextVar[dict | None] = ContextVar("decoded", default=None)


@contextmanager
def decoding_once():
    """Inside this block an upload is decoded and sniffed once, however often it is read.

    parse_file() holds one around detect() and the parser; outside it nothing is kept.
    """
    token = _DECODED.set({})
    try:
        yield
    finally:
        _DECODED.reset(token)


@contextmanager
def cycle_collector_paused():
    """Inside this block Python's cyclic garbage collector does not run (reference counting does).

    A Fact is a tuple subclass, which the collector never untracks, so every full collection
    walks every fact held so far: 30-45 % of parse_file's CPU time on a Business Report
    (bench/import_bench.py --parse-only). Parsing makes no reference cycles worth collecting
    while it runs; the collector is switched back on afterwards if it was on before.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _once(kind: str, data: bytes, read):
    """read(data), computed once per upload inside decoding_once()."""
    memo = _DECODED.get()
    if memo is None:
        return read(data)
    if memo.get("data") is not data:
        memo.clear()  # drop the old upload's texts before reading the new one
        memo["data"] = data
    if kind not in memo:
        memo[kind] = read(data)
    return memo[kind]


def text_encodings(data: bytes) -> list[str]:
    """Plausible encodings of data, best first (checked once inside decoding_once())."""
    return list(_once("text", data, lambda d: tuple(_text_candidates(d))))


def _text_candidates(data: bytes) -> list[str]:
    """Plausible encodings in preference order (DATA-FORMATS §0 rule 3), checked as a stream.

    A file that is valid UTF-8 is UTF-8. Otherwise cp932, cp1252 and GB18030 can
    all decode the same bytes, so the caller takes the first encoding whose header
    it recognises; cp932 goes first only when it yields kana, because German
    cp1252 text often also decodes as (meaningless) cp932 kanji. No decoded text is kept.
    """
    check_header_lines(data)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        names = [n for n in ["utf-16"] if _scan(data, n) is not None]
    elif b"\x00" in data:
        names = []
    elif _scan(data, "utf-8-sig") is not None:
        names = ["utf-8-sig"]
    elif _decodes(data, "utf-8-sig"):
        names = []  # UTF-8, but binary
    else:
        cp932 = _scan(data, "cp932")
        others = [n for n in ("cp1252", "gb18030") if _scan(data, n) is not None]
        names = ["cp932"] + others if cp932 else others + (["cp932"] if cp932 is False else [])
    if not names:
        raise ParseError("bad_encoding",
                         "The file could not be read as text (tried UTF-8, Shift-JIS, Windows-1252, GB18030).")
    return names


_DECODE_CHUNK = 1 << 20
_KANA = re.compile("[\u3040-\u30ff]")


def _decodes(data: bytes, encoding: str) -> bool:
    """True when data decodes as encoding (binary-looking or not)."""
    return _scan(data, encoding, binary_ok=True) is not None


def _scan(data: bytes, encoding: str, binary_ok: bool = False) -> bool | None:
    """Decode data chunk by chunk: None when it fails or reads as binary, else whether it has kana."""
    decoder = codecs.getincrementaldecoder(encoding)()
    length = controls = 0
    kana = False
    view = memoryview(data)
    # Every other encoding tried keeps bytes below 0x20 for those characters alone (no
    # multi-byte sequence holds one), so the bytes are counted in one pass, not the text 26 times.
    by_bytes = encoding != "utf-16"
    if by_bytes:
        if b"\x00" in data and not binary_ok:
            return None
        controls = len(data.translate(None, _NOT_CONTROL_BYTES))
    try:
        for start in range(0, len(data) + 1, _DECODE_CHUNK):
            text = decoder.decode(view[start:start + _DECODE_CHUNK], start + _DECODE_CHUNK > len(data))
            if not by_bytes:
                if "\x00" in text and not binary_ok:
                    return None
                controls += sum(text.count(ch) for ch in _CONTROLS)
            length += len(text)
            kana = kana or (encoding == "cp932" and _KANA.search(text) is not None)
    except UnicodeDecodeError:
        return None
    if controls > max(2, length // 200) and not binary_ok:
        return None
    return kana


def check_header_lines(data: bytes) -> None:
    """Refuse a file whose first lines (where a header may be) are over 1 MB or 2,000 columns wide."""
    pos = 0
    for _ in range(HEADER_SCAN_ROWS * 3):
        end = data.find(b"\n", pos, pos + MAX_HEADER_BYTES + 1)
        line = data[pos:] if end == -1 else data[pos:end]
        if len(line) > MAX_HEADER_BYTES:
            raise ParseError("header_too_long", "A header line is longer than 1 MB.",
                             limit=MAX_HEADER_BYTES)
        width = max(line.count(b"\t"), line.count(b","), line.count(b";")) + 1
        if width > MAX_COLUMNS:
            raise ParseError("too_many_columns", "The file has more than %d columns." % MAX_COLUMNS,
                             limit=MAX_COLUMNS)
        if end == -1:
            return
        pos = end + 1


def decoded_rows(data: bytes, utf8_only: bool = False) -> list[tuple[int, list]]:
    """The rows of a text table in its most likely encoding (or UTF-8 only), header limits checked."""
    if utf8_only:
        check_header_lines(data)
        if _scan(data, "utf-8-sig") is None:  # not UTF-8, or binary
            raise ParseError("bad_encoding", "The file is not UTF-8 text.")
        return list(stream_rows(data, "utf-8-sig"))
    return list(stream_rows(data, text_encodings(data)[0]))


def _first_line(text: str) -> str:
    """The first non-blank line, splitting only as much of the text as it takes to find it."""
    size = 65536
    while True:
        lines = text[:size].splitlines()
        whole = lines if size >= len(text) else lines[:-1]  # the last piece may be cut short
        first = next((ln for ln in whole if ln.strip()), None)
        if first is not None or size >= len(text):
            return first or ""
        size *= 4


def _delimiter(text: str) -> str:
    return _delimiter_of(_first_line(text))


def _delimiter_of(first: str) -> str:
    counts = {d: first.count(d) for d in ("\t", ",", ";")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def csv_rows(text: str, limit: int | None = None) -> list[tuple[int, list]]:
    """Rows as (first physical line number, cells); blank lines are dropped."""
    return list(_rows(io.StringIO(text, newline=""), _delimiter(text), limit))


def _text_stream(data: bytes, encoding: str) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")


def stream_rows(data: bytes, encoding: str, limit: int | None = None):
    """csv_rows of data decoded as it is read: only the current row is held in memory."""
    delimiter = ","
    for line in _text_stream(data, encoding):
        first = next((piece for piece in line.splitlines() if piece.strip()), None)
        if first is not None:
            delimiter = _delimiter_of(first)
            break
    return _rows(_text_stream(data, encoding), delimiter, limit)


def _rows(stream, delimiter: str, limit: int | None):
    reader = csv.reader(stream, delimiter=delimiter)
    prev = 0
    try:
        for cells in reader:
            line, prev = prev + 1, reader.line_num
            # a first cell with text proves the row is not blank without joining its cells
            if (cells and cells[0].strip()) or "".join(cells).strip():
                yield line, cells
            if limit and line >= limit:
                break
    except csv.Error as exc:
        raise ParseError("bad_csv", "The CSV file is malformed near line %d." % (prev + 1),
                         line=prev + 1) from exc


# ---------------------------------------------------------------- XLSX


def _check_zip(data: bytes) -> int:
    """The workbook's declared uncompressed size, once its limits are checked."""
    if not data.startswith(b"PK\x03\x04"):
        raise ParseError("not_xlsx", "The file is not an Excel .xlsx workbook.")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except Exception as exc:  # zipfile raises several types on hostile input
        raise ParseError("bad_xlsx", "The Excel file is damaged or truncated.") from exc
    if len(infos) > MAX_XLSX_ENTRIES:
        raise ParseError("xlsx_too_large", "The Excel file has too many parts.", entries=len(infos))
    # zipfile stops at the declared size (CRC error past it), so the declared sizes bound the work.
    size = sum(i.file_size for i in infos)
    if size > MAX_XLSX_UNCOMPRESSED:
        raise ParseError("xlsx_too_large", "The Excel file expands beyond the size limit.",
                         limit=MAX_XLSX_UNCOMPRESSED)
    return size


def xlsx_sheets(data: bytes) -> list[list[tuple[int, list]]]:
    """Every worksheet's non-blank rows as (row number, values); formulas stay as '=...' text.

    Read once per upload inside decoding_once(); callers do not change the rows.
    """
    return _once("xlsx", data, _xlsx_sheets)


def _xlsx_sheets(data: bytes) -> list[list[tuple[int, list]]]:
    _check_zip(data)
    wb = _open_workbook(data)
    try:
        with _damage_is_bad_xlsx():
            return [list(_sheet_rows(ws)) for ws in wb.worksheets]
    finally:
        wb.close()


# A workbook expanding beyond this is streamed: each pass over a sheet reads its rows afresh
# from the file, one at a time, instead of listing every row of every sheet in memory.
XLSX_STREAM_BYTES = 32 * 1024 * 1024


def xlsx_tables(data: bytes) -> list[tuple[list, object]]:
    """Per worksheet: (its first non-blank rows, to find the header in; rows(), which gives
    all its non-blank rows afresh). A small workbook is listed once (xlsx_sheets); a large one
    is read again, row by row, on every call of rows(), so memory does not grow with it."""
    return _once("xlsx_tables", data, _xlsx_tables)


def _xlsx_tables(data: bytes) -> list[tuple[list, object]]:
    if _check_zip(data) <= XLSX_STREAM_BYTES:
        return [(rows[:HEADER_SCAN_ROWS], lambda rows=rows: iter(rows)) for rows in xlsx_sheets(data)]
    with _damage_is_bad_xlsx():
        heads = [list(islice(_sheet_rows(ws), HEADER_SCAN_ROWS)) for ws in _workbook(data).worksheets]
    return [(head, lambda index=index: _streamed_rows(data, index)) for index, head in enumerate(heads)]


def _workbook(data: bytes):
    """The upload's workbook, opened read-only once per upload inside decoding_once(): opening
    can cost a scan of every sheet (a sheet without a declared size), a pass over rows does not."""
    return _once("workbook", data, _open_workbook)


def _streamed_rows(data: bytes, index: int):
    with _damage_is_bad_xlsx():
        yield from _sheet_rows(_workbook(data).worksheets[index])


def _open_workbook(data: bytes):
    import openpyxl  # local: only XLSX uploads pay for it

    if not openpyxl.DEFUSEDXML:
        raise ParseError("bad_xlsx", "XLSX reading is disabled: defusedxml is not installed.")
    with _damage_is_bad_xlsx():
        return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)


@contextmanager
def _damage_is_bad_xlsx():
    """openpyxl raises many types on damaged input: each is a ParseError('bad_xlsx')."""
    try:
        yield
    except (ParseError, GeneratorExit):
        raise
    except Exception as exc:
        raise ParseError("bad_xlsx", "The Excel file is damaged or truncated.") from exc


def _sheet_rows(ws):
    """A worksheet's non-blank rows as (row number, values), one at a time."""
    if (ws.max_column or 0) > MAX_COLUMNS:
        raise ParseError("too_many_columns", "The file has more than %d columns." % MAX_COLUMNS,
                         limit=MAX_COLUMNS)
    for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
        cells = list(values)
        if any(v is not None and str(v).strip() for v in cells):
            yield number, cells


# ---------------------------------------------------------------- sheets and records


@dataclass
class Sheet:
    header_line: int
    headers: list[str]
    colmap: dict[str, int]
    source: object  # () -> iterable of (line, cells) below the header, read afresh on every call
    currency: str | None  # currency named in a header suffix, if any
    kind: str  # 'csv' or 'xlsx'
    columns: Columns | None = None
    errors: list[RowError] = field(default_factory=list)  # rows refused whole (ragged), after a full pass

    @property
    def rows(self):
        """The data rows, each as wide as the header; a CSV file is decoded again on every pass."""
        refused = []
        width, csv_kind = len(self.headers), self.kind == "csv"
        for number, cells in self.source():
            if csv_kind and len(cells) == width:  # the common case, without a call
                yield number, cells
                continue
            problem = _ragged(cells, width, self.kind)
            if problem:
                refused.append(RowError(number, None, "ragged_row", problem))
            else:
                yield number, cells
        self.errors = refused


def _find_header(rows, columns: Columns):
    for pos, (line, cells) in enumerate(rows[:HEADER_SCAN_ROWS]):
        colmap = columns.match(cells)
        if colmap is not None:
            return pos, colmap
    return None


def _sheet(head, pos, colmap, kind, columns: Columns, source) -> Sheet:
    line, cells = head[pos]
    headers = [str(c).strip() if c is not None else "" for c in cells]
    if kind == "xlsx":  # a sheet's rows run to its widest row: the header ends at its last name
        headers = headers[:max((i + 1 for i, h in enumerate(headers) if h), default=0)]
    _refuse_duplicates(headers)
    currency = next((c for c in map(header_currency, headers) if c), None)
    return Sheet(line, headers, colmap, source, currency, kind, columns)


def _refuse_duplicates(headers: list[str]) -> None:
    seen: dict[str, str] = {}
    twice = []
    for header in headers:
        key = norm_header(header)
        if key and key in seen and seen[key] not in twice:
            twice.append(seen[key])
        seen.setdefault(key, header)
    if twice:
        raise ParseError("duplicate_columns",
                         "The header names these columns more than once: %s." % ", ".join(twice)[:300],
                         columns=twice)


def _ragged(cells: list, width: int, kind: str) -> str | None:
    """Why a row does not fit the header, or None: a CSV row has exactly the header's cells."""
    if kind == "xlsx":  # Excel drops trailing empty cells; only values past the header are wrong
        extra = any(v is not None and str(v).strip() for v in cells[width:])
        return "The row has values beyond the last column of the header." if extra else None
    if len(cells) != width:
        return "The row has %d cells but the header has %d; the file may be truncated." % (
            len(cells), width)
    return None


def table_heads(data: bytes, filename: str) -> list[list[tuple[int, list]]]:
    """First rows of every sheet / plausible decoding, for format detection."""
    if container_kind(data, filename) == "xlsx":
        return [head for head, _ in xlsx_tables(data)]
    return [list(stream_rows(data, name, limit=HEADER_SCAN_ROWS * 3)) for name in text_encodings(data)]


def read_sheet(data: bytes, filename: str, columns: Columns) -> Sheet:
    """Find the report's header (by column names); the sheet reads the rows below it on demand."""
    kind = container_kind(data, filename)
    if kind == "json":
        raise ParseError("wrong_format", "Expected a CSV or Excel table, got JSON.")
    tried = []
    if kind == "xlsx":
        for head, rows in xlsx_tables(data):
            hit = _find_header(head, columns)
            if hit:
                return _sheet(head, *hit, "xlsx", columns,
                              lambda rows=rows, pos=hit[0]: islice(rows(), pos + 1, None))
            tried.append(head)
    else:
        for name in text_encodings(data):
            head = list(stream_rows(data, name, limit=HEADER_SCAN_ROWS * 3))
            hit = _find_header(head, columns)
            if hit:
                return _sheet(head, *hit, "csv", columns,
                              lambda name=name, pos=hit[0]: islice(stream_rows(data, name), pos + 1, None))
            tried.append(head)
    raise _missing_columns(tried, columns)


def _missing_columns(tried, columns: Columns) -> ParseError:
    best = columns.missing({})
    for rows in tried:
        for _, cells in rows[:HEADER_SCAN_ROWS]:
            missing = columns.missing(columns.found(cells))
            if len(missing) < len(best):
                best = missing
    return ParseError("missing_columns", "Required columns not found: %s." % ", ".join(best),
                      columns=best)


_FORMULA = re.compile(r"^[=+@]\s*(?:[A-Za-z_][\w.]*\s*\(|\$?[A-Z]{1,3}\$?\d+\b|[-+]?\d|.*[(!])")


def clean_text(value: object, column: str | None = None) -> str:
    """Cell as stripped text; a formula-looking cell is refused, a label like '+Brand' kept."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    text = str(value).strip()
    if _FORMULA.match(text):
        raise CellError("formula_cell", "Formula cells are not accepted: %s" % text[:40], column)
    return text


class Record:
    """One data row with access by canonical column name."""

    def __init__(self, line: int, cells: list, sheet: Sheet, currency_hint: str | None = None):
        self.line = line
        self.cells = cells
        self.sheet = sheet
        self.currency_hint = currency_hint

    def has(self, name: str) -> bool:
        return name in self.sheet.colmap

    def label(self, name: str) -> str:
        return self.sheet.headers[self.sheet.colmap[name]] if self.has(name) else name

    def raw(self, name: str):
        idx = self.sheet.colmap.get(name)
        if idx is None or idx >= len(self.cells):
            return None
        value = self.cells[idx]
        return value.strip() if isinstance(value, str) else value

    def text(self, name: str) -> str:
        return clean_text(self.raw(name), self.label(name))

    def amount(self, name: str) -> Amount | None:
        """The cell as an Amount (None when blank); a bad cell names its column."""
        idx = self.sheet.colmap.get(name)
        value = self.cells[idx] if idx is not None and idx < len(self.cells) else None
        fast = _plain_amount(value, self.currency_hint) if type(value) is str else None
        if fast is not None:
            return fast
        value = value.strip() if isinstance(value, str) else value
        return parse_amount(value, self.label(name), self.currency_hint)

    def number(self, name: str, default: Decimal | None = None) -> Decimal | None:
        amount = self.amount(name)
        return default if amount is None else amount.value

    def money(self, name: str) -> tuple[Decimal | None, str | None]:
        amount = self.amount(name)
        return (None, None) if amount is None else (amount.value, amount.currency)

    def percent(self, name: str) -> Decimal | None:
        amount = self.amount(name)
        if amount is None:
            return None
        return amount.value / 100 if amount.percent or self.sheet.kind == "csv" else amount.value

    def currency(self, name: str) -> str | None:
        """An ISO currency code column; None when blank."""
        text = self.text(name)
        return check_currency(text, self.label(name)) if text else None

    def date(self, name: str, formats=None, serial: bool = False) -> date:
        return parse_date(self.raw(name), self.label(name), formats=formats, serial=serial)

    def timestamp(self, name: str, formats=None) -> datetime:
        return parse_timestamp(self.raw(name), self.label(name), formats=formats)


def records(sheet: Sheet, currency_hint: str | None = None):
    """The data rows of a sheet as Records."""
    for line, cells in sheet.rows:
        yield Record(line, cells, sheet, currency_hint)


def chunks(rows, size: int = 5000):
    """rows in lists of at most size (a file is converted a chunk at a time, never held whole)."""
    rows = iter(rows)
    while chunk := Chunk(islice(rows, size)):
        yield chunk


class Chunk(list):
    """A list of (line, cells) rows whose columns are read by column_cells: when every row has
    as many cells, all of them are turned into columns at once, in C, on the first call."""

    __slots__ = ("columns",)

    def column(self, index: int):
        try:
            columns = self.columns
        except AttributeError:
            cells = list(map(_CELLS, self))
            columns = self.columns = list(zip(*cells)) if len(set(map(len, cells))) == 1 else None
        return columns[index] if columns is not None and index < len(columns) else None


def plain_column(rows: list, index: int, hint: str | None, vouch=None) -> list:
    """One column of a chunk of (line, cells) rows by the fast path: an Amount per row, or None
    where the cell needs the careful path (blank, odd shape, bad): that row is then read per row.

    vouch(amount), if given, turns each distinct Amount into what the caller keeps (None: the
    careful path decides), so a column's checks run once per distinct cell, not once per row.
    """
    cells = column_cells(rows, index)
    amounts = {cell: _plain_amount(cell, hint) if type(cell) is str else None for cell in dict.fromkeys(cells)}
    if vouch is not None:
        amounts = {cell: None if amount is None else vouch(amount) for cell, amount in amounts.items()}
    return list(map(amounts.__getitem__, cells))


_CELLS = itemgetter(1)


def column_cells(rows: list, index: int):
    """Cell index of each (line, cells) row of a chunk (None past a short row's end), read in C."""
    if type(rows) is Chunk and (cells := rows.column(index)) is not None:
        return cells
    try:
        return list(map(itemgetter(index), map(_CELLS, rows)))
    except IndexError:  # an XLSX row shorter than the header: its missing cells are empty
        return [row[index] if index < len(row) else None for _, row in rows]


ASIDE = object()  # a cell the column conversion cannot vouch for: its row is read the careful way


def convert_column(rows: list, index: int | None, read) -> list:
    """One column of a chunk of (line, cells) rows converted by read(cell), each distinct cell once.

    read is the careful per-cell logic (or a wrapper of it); a CellError, and any cell read()
    refuses by returning ASIDE, gives ASIDE, so that row is read per row and its error names
    its line and column as before. index None (no such column) gives a column of None cells.
    """
    if index is None:
        return [_read_or_aside(read, None)] * len(rows)
    cells = column_cells(rows, index)
    if set(map(type, cells)) <= {str, type(None)}:  # text cells: the text is the key
        values = {cell: _read_or_aside(read, cell) for cell in dict.fromkeys(cells)}
        return list(map(values.__getitem__, cells))
    typed = {(type(cell), cell): None for cell in cells}  # 1, 1.0 and True read differently
    values = {key: _read_or_aside(read, key[1]) for key in typed}
    return [values[type(cell), cell] for cell in cells]


def _read_or_aside(read, cell):
    try:
        return read(cell)
    except CellError:
        return ASIDE


def read_text(cell) -> str:
    """Record.text of a text (or empty) cell; ASIDE for other cell types (numbers, dates)."""
    if cell is None:
        return ""
    if type(cell) is not str:
        return ASIDE
    return clean_text(cell.strip())


def amount_reader(hint: str | None):
    """Record.amount of one cell, for convert_column (the store currency as the '$' hint)."""
    def read(cell):
        return parse_amount(cell.strip() if type(cell) is str else cell, None, hint)
    return read


def date_reader(serial: bool = False, formats=None):
    """Record.date of one cell, for convert_column."""
    def read(cell):
        return parse_date(cell.strip() if type(cell) is str else cell, None, formats=formats, serial=serial)
    return read


def sheet_warnings(sheet: Sheet) -> list[ParseWarning]:
    """Columns the parser does not know, and measures the format carries but this file lacks."""
    out = []
    unread = [h for h in sheet.headers if h and norm_header(h) not in sheet.columns.known]
    if unread:
        out.append(ParseWarning("columns_not_read", "Columns not read: %s." % ", ".join(unread)[:500],
                                {"columns": unread[:50]}))
    for names, measure in sheet.columns.expected:
        options = names if isinstance(names, tuple) else (names,)
        if not any(o in sheet.colmap for o in options):
            out.append(ParseWarning(
                "missing_measure", "No column for %s: KPIs that use it will show no data for this store."
                % BASE_MEASURES[measure].name_en.lower(), {"measure": measure}))
    return out


_TOTAL = re.compile(r"^(grand\s+)?totals?\b|^(合计|总计|合計|総計|gesamt|summe|totale|totaux)", re.I)


def is_total_row(rec: "Record", key: str) -> bool:
    """True for a footer/total row: its first cell or its key cell reads 'Total', '合计', 'Gesamt'...

    Only those two cells: a title such as 'Total Wireless Charger' elsewhere proves nothing.
    """
    cells = [rec.cells[0] if rec.cells else None, rec.raw(key)]
    return any(isinstance(c, str) and _TOTAL.match(c.strip()) for c in cells)


def column_currency(rows, name: str) -> str | None:
    """The first valid ISO code in a currency column (bad cells fail later, inside their row)."""
    for rec in rows:
        if not rec.has(name):
            return None
        code = str(rec.raw(name) or "").strip().upper()
        if code in ISO_CURRENCIES or re.fullmatch(r"[A-Z]{3}", code):
            return code
    return None


def sheet_currency(sheet: Sheet, names: tuple[str, ...], hint: str | None) -> str | None:
    """The currency the file's money cells name (first found), else the header's, else hint."""
    for line, cells in sheet.rows:
        rec = Record(line, cells, sheet, hint)
        for name in names:
            try:
                amount = parse_amount(rec.raw(name), None, hint)
            except CellError:
                continue
            if amount is not None and amount.currency:
                return amount.currency
    return sheet.currency or hint


# ---------------------------------------------------------------- numbers


class Amount(NamedTuple):
    value: Decimal
    currency: str | None
    percent: bool


_DIGITS = re.compile(r"\d[\d.,' ]*")


def _checked(value: Decimal, column: str | None) -> Decimal:
    if not value.is_finite():
        raise CellError("bad_number", "Not a finite number.", column)
    if abs(value) >= MAX_ABS_VALUE:
        raise CellError("bad_number", "Number is implausibly large.", column)
    return value


def to_decimal(value: object, column: str | None = None) -> Decimal:
    """A JSON/Excel number (or numeric string) as a checked Decimal."""
    amount = parse_amount(value, column)
    if amount is None:
        raise CellError("bad_number", "A number is required.", column)
    return amount.value


def parse_amount(value: object, column: str | None = None, hint: str | None = None) -> Amount | None:
    """Parse '$1,234.56', '1.699,15 €', '97,5 %', '￥12,345', 'BRL 1.234,56', 1234.5...

    Returns None for a blank cell. The decimal mark is decided per value: with both
    '.' and ',' the later one is the decimal mark; a single separator followed by
    exactly three digits is a thousands separator ('1,250', '1.250'), except after
    a lone 0 ('0,125').
    """
    if type(value) is str:
        fast = _plain_amount(value, hint)
        if fast is not None:
            return fast
    return careful_amount(value, column, hint)


def careful_amount(value: object, column: str | None = None, hint: str | None = None) -> Amount | None:
    """parse_amount without the fast path: every shape, quirk and error message."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise CellError("bad_number", "Not a number: %s" % value, column)
    if isinstance(value, (int, Decimal)):
        return Amount(_checked(Decimal(value), column), None, False)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise CellError("bad_number", "Not a finite number.", column)
        return Amount(_checked(Decimal(repr(value)), column), None, False)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text or text.casefold() in _BLANK_MARKERS:
        return None
    if text[0] in "=+@":
        raise CellError("formula_cell", "Formula cells are not accepted in number columns.", column)
    match = _DIGITS.search(text)
    if not match:
        raise CellError("bad_number", "Not a number: %s" % text[:40], column)
    number = _core_number(match.group().strip(), column, text)
    rest = text[: match.start()] + " " + text[match.end():]
    negative = rest.count("-") + rest.count("\u2212") == 1 or ("(" in rest and ")" in rest)
    percent = "%" in rest
    token = re.sub(r"[\s\-\u2212()%]", "", rest).upper()
    currency = _currency_token(token, hint)
    if token and currency is None:
        raise CellError("bad_number", "Not a number: %s" % text[:40], column)
    if rest.count("-") > 1 or rest.count("%") > 1:
        raise CellError("bad_number", "Not a number: %s" % text[:40], column)
    return Amount(_checked(-number if negative else number, column), currency, percent)


# The shapes most cells have: '1234', '-12.5', '$1,234.56', '-€0.99', '12.5%' (ASCII digits, at
# most 15 before the point). Anything else takes the careful path below.
_PLAIN_AMOUNT = re.compile(r"(-?)(\$|€|£|)([1-9]\d{0,2}(?:,\d{3}){1,4}|\d{1,15})(\.\d+)?(%?)", re.ASCII)


_SEEN: dict[tuple, Amount] = {}  # plain cells already read: (text, hint) -> Amount
_SEEN_MAX = 100_000


def _plain_amount(text: str, hint: str | None) -> Amount | None:
    """The Amount of a cell in one of the plain shapes, or None to take the careful path.

    Report columns repeat their values (counts, prices), so each distinct plain cell is
    read once; the memo is bounded and holds only immutable results.
    """
    seen = _SEEN.get((text, hint))
    if seen is not None:
        return seen
    if text.isascii() and text.isdigit() and len(text) <= 15:
        amount = Amount(Decimal(text), None, False)
    else:
        amount = _plain_shape(text, hint)
    if amount is not None and abs(amount.value) < MAX_ABS_VALUE:  # else the careful path refuses it
        if len(_SEEN) >= _SEEN_MAX:
            _SEEN.clear()
        _SEEN[text, hint] = amount
        return amount
    return None


def _plain_shape(text: str, hint: str | None) -> Amount | None:
    match = _PLAIN_AMOUNT.fullmatch(text)
    if match is None:
        return None
    minus, symbol, whole, point, percent = match.groups()
    if point and len(point) == 4 and whole != "0" and "," not in whole:
        return None  # '1.250': a thousands dot, as the careful path reads it
    number = Decimal(whole.replace(",", "") + point if point else whole.replace(",", ""))
    return Amount(-number if minus else number, _currency_token(symbol, hint), percent == "%")


def _currency_token(token: str, hint: str | None) -> str | None:
    if not token:
        return None
    if token in _AMBIGUOUS_SYMBOLS:
        default, family = _AMBIGUOUS_SYMBOLS[token]
        return hint if hint in family else default
    if token in _SYMBOLS:
        return _SYMBOLS[token]
    return token if token in ISO_CURRENCIES else None


def _core_number(core: str, column: str | None, text: str) -> Decimal:
    core = core.replace("'", "").replace(" ", "")
    dots, commas = core.count("."), core.count(",")
    if dots and commas:
        mark = "." if core.rfind(".") > core.rfind(",") else ","
    elif dots + commas == 1:
        head, tail = core.split("." if dots else ",")
        mark = None if len(tail) == 3 and head not in ("0", "") else ("." if dots else ",")
    else:
        mark = None
    whole, frac = core.rsplit(mark, 1) if mark else (core, "")
    group = {".": ",", ",": "."}.get(mark, "." if dots else ",")
    grouped = r"\d{1,3}(?:%s\d{3})+" % re.escape(group)
    if group == ",":
        grouped += r"|\d{1,2}(?:,\d{2})*,\d{3}"  # Indian lakh grouping: 1,23,456
    if group in whole and not re.fullmatch(grouped, whole):
        raise CellError("bad_number", "Not a number: %s" % text[:40], column)
    digits = whole.replace(group, "") + ("." + frac if frac else "")
    if not re.fullmatch(r"\d+(?:\.\d+)?", digits):
        raise CellError("bad_number", "Not a number: %s" % text[:40], column)
    return Decimal(digits)


# ---------------------------------------------------------------- dates


_ZONES = {"UTC": 0, "GMT": 0, "Z": 0, "PST": -8, "PDT": -7, "CET": 1, "CEST": 2, "JST": 9,
          "BST": 1, "AEST": 10, "AEDT": 11}
DEFAULT_FORMATS = (
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d",
    "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y",
    "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y",
    "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d",
    "%b %d, %Y", "%B %d, %Y", "%d %b %Y", "%d-%m-%Y", "%Y%m%d", "%Y年%m月%d日",
)
_EXCEL_EPOCH = date(1899, 12, 30)
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def _plausible(d: date, column: str | None) -> None:
    if not 2000 <= d.year <= 2100:
        raise CellError("bad_date", "Date out of range: %s" % d.isoformat(), column)


def excel_serial(value: object) -> date | None:
    """An Excel day serial (e.g. 45718 = 2025-03-02) as a date, or None if not one."""
    text = str(value).strip()
    if _ISO_DAY.match(text):
        return None  # a date, never a number: no need to try
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite() or not 20000 <= number <= 80000:
        return None
    return _EXCEL_EPOCH + timedelta(days=int(number))


def parse_timestamp(value: object, column: str | None = None, formats=None) -> datetime:
    """A datetime, aware when the text names a zone or offset ('... UTC', '+00:00')."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    text = unicodedata.normalize("NFKC", str(value if value is not None else "")).strip()
    if not text:
        raise CellError("bad_date", "A date is required.", column)
    zone = None
    parts = text.rsplit(" ", 1)
    if len(parts) == 2 and parts[1].upper() in _ZONES:
        text, zone = parts[0].strip(), timezone(timedelta(hours=_ZONES[parts[1].upper()]))
    dt = _try_formats(text, formats or DEFAULT_FORMATS)
    if dt is None:
        raise CellError("bad_date", "Not a date: %s" % text[:40], column)
    if zone is not None and dt.tzinfo is None:
        dt = dt.replace(tzinfo=zone)
    _plausible(dt.date(), column)
    return dt


def _try_formats(text: str, formats) -> datetime | None:
    return _first_format(text, tuple(formats))


# A file repeats its dates (one a day per row), and a text in a late format (e.g. "%Y年%m月%d日")
# costs one failed strptime per format before it; the answer depends on the text and formats only
# (datetimes are immutable), so it is kept for the texts seen last.
@lru_cache(maxsize=4096)
def _first_format(text: str, formats: tuple) -> datetime | None:
    if re.match(r"^\d{4}-\d{2}-\d{2}", text):
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
        except ValueError:
            pass
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def parse_date(value: object, column: str | None = None, formats=None, serial: bool = False) -> date:
    """A calendar date from a date/datetime cell, text, or (if serial) an Excel serial."""
    if type(value) is str and len(value) == 10 and _ISO_DAY.match(value):
        result = _iso_day(value) or parse_timestamp(value, column, formats).date()
    elif isinstance(value, datetime):
        result = value.date()
    elif isinstance(value, date):
        result = value
    elif serial and (day := excel_serial(value)) is not None:
        result = day
    elif isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        raise CellError("bad_date", "Not a date: %s" % value, column)
    else:
        result = parse_timestamp(value, column, formats).date()
    _plausible(result, column)
    return result


def _iso_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def local_date(dt: datetime, tz: str | None) -> date:
    """The business date of a timestamp: aware times move to tz (if given); naive are local."""
    if dt.tzinfo is not None and tz:
        dt = dt.astimezone(zone_info(tz))
    return dt.date()


def zone_info(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ParseError("bad_timezone", "Unknown time zone: %s" % tz, tz=tz) from exc


def latest_day(tz: str | None) -> date:
    """The last business date a file may hold: the store's local tomorrow (UTC without a store)."""
    now = datetime.now(zone_info(tz)) if tz else datetime.now(timezone.utc)
    return now.date() + timedelta(days=1)


_DAY, _END = itemgetter(1), itemgetter(7)  # a Fact's business_date and period_end, read in C


def refuse_future(result: ParseResult, latest: date) -> ParseResult:
    """Turn every row holding a fact dated after latest into a row error (none of its facts kept)."""
    if not result.facts or (result.latest is not None and result.latest <= latest):
        return result  # no fact, or none dated after latest (the collector knew the dates)
    ends = set(map(_END, result.facts))
    ends.discard(None)
    if max(map(_DAY, result.facts)) <= latest and all(end <= latest for end in ends):
        return result  # the common case: no fact to look at one by one
    bad: dict[int, date] = {}
    for fact in result.facts:
        day = max(fact.business_date, fact.period_end or fact.business_date)
        if day > latest:
            bad.setdefault(fact.line, day)
    if bad:
        result.facts = [f for f in result.facts if f.line not in bad]
        result.errors = result.errors + [
            RowError(line, None, "future_date", "The date %s is in the future." % day.isoformat())
            for line, day in sorted(bad.items())]
    return result


def unix_date(value: object, tz: str | None, column: str | None = None) -> date:
    """Business date of a Unix-seconds timestamp (API sources), in tz or UTC."""
    seconds = to_decimal(value, column)
    if not 946684800 <= seconds <= 4102444800:  # 2000-01-01 .. 2100-01-01
        raise CellError("bad_date", "Timestamp out of range: %s" % seconds, column)
    dt = datetime.fromtimestamp(int(seconds), tz=timezone.utc)
    return local_date(dt, tz) if tz else dt.date()


def date_range(opts, required: bool = True) -> tuple[date | None, date | None]:
    """(business_date, period_end) for reports without a date column."""
    if opts.date_from is None:
        if required:
            raise ParseError("date_range_required",
                             "This report has no date column; choose the date range it covers.")
        return None, None
    end = opts.date_to or opts.date_from
    if end < opts.date_from:
        raise ParseError("bad_date_range", "The end date is before the start date.")
    return opts.date_from, (end if end != opts.date_from else None)


def check_currency(code: object, column: str | None = None) -> str:
    text = str(code or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", text):
        raise CellError("bad_currency", "Not an ISO currency code: %s" % text[:10], column)
    return text


# ---------------------------------------------------------------- facts


_SINK: ContextVar = ContextVar("fact_sink", default=None)


@contextmanager
def spilling_to(sink):
    """Collectors made inside this block spill their facts to sink (None: keep them in memory).

    sink is the caller's (the import service's staging table, issue 10): parsers stay pure.
    It has `limit` (facts held before a spill), `open(family, rolls_up)` (called once, before
    the first write), `write(rows)` and `roll_up()`; each row is
    (seq, line, business_date, period_end, measure, value, currency, sku, ref, store_code,
    once): seq is the order the fact reached the collector; once: a second fact on its key
    is a duplicate_row, not summed. After the file the caller does what _put does in memory
    (sum, duplicate_row, mixed_currency, naming the key's first fact) and refuse_future.
    """
    token = _SINK.set(sink)
    try:
        yield
    finally:
        _SINK.reset(token)


class Collector:
    """Gathers facts with a unique natural key; rows are all-or-nothing.

    In memory the facts are a dict natural key -> Fact (summed as they come). With a sink
    (spilling_to) the dict is written out, unsummed from then on, each time it holds the
    sink's limit of facts; result() then holds no facts and is marked staged.

    row_keys: the parser promises that each row it puts whole (put_row) holds facts sharing
    their key but the measure, each of another measure (a report row per SKU or campaign and
    day). The facts are then kept in a list, with one key a row (date, period end, SKU, ref,
    store code) rather than one a fact, for as long as no row's key comes twice; the first
    that does (or a roll-up) turns the list into the dict, and the collector goes on as above.
    """

    def __init__(self, parser: str, family: str, currency_hint: str | None = None, row_keys: bool = False,
                 rolls_up: bool = False):
        """rolls_up: the parser will call roll_up() (the sink is told before its first write)."""
        self.parser = parser
        self.family = family
        self.rolls_up = rolls_up
        self.currency_hint = currency_hint
        self.facts: dict[tuple, Fact] = {}
        # row_keys: the facts in order and the rows' keys (the dict above stays empty meanwhile)
        self.kept: list[Fact] | None = [] if row_keys else None
        self.row_keys: set[tuple] = set()
        self.sink = _SINK.get()
        self.spilled = 0  # facts written to the sink so far: the seq of the next one
        self.raw: list[tuple[Fact, str]] | None = None  # after the first spill: facts not yet written
        self.errors: list[RowError] = []
        self.rows_read = 0
        self.currencies: list[str] = []  # of facts in the dict or written; kept facts' are noted later
        self.warnings: list[ParseWarning] = []
        self.skipped = {"total": 0, "description": 0}
        self.sheets: list[Sheet] = []

    def row(self, line: int) -> "RowScope":
        self.rows_read += 1
        return RowScope(self, line)

    def adopt(self, sheet: Sheet) -> None:
        """Take over a sheet's column warnings now and its refused rows in result()."""
        self.sheets.append(sheet)
        self.warnings.extend(sheet_warnings(sheet))

    def skip(self, kind: str) -> None:
        """Count a row left out on purpose: 'total' or 'description' (never a row with data).

        A total row is a row of the report and counts as read; a description row is header.
        """
        self.rows_read += kind == "total"
        self.skipped[kind] += 1

    def put_row(self, facts) -> None:
        """Keep one whole, already checked row's facts (summing on the natural key, as row.add does)."""
        self.rows_read += 1
        # row_keys: the row's key is new (kept in the list), or the dict takes over
        if self.kept is None or not facts or not self._kept_row(facts):
            self._put_facts(facts)
        if self.sink is not None:
            self.spill_if_full()

    def _put_facts(self, facts) -> None:
        if self.raw is not None:
            self.raw.extend(zip(facts, repeat("sum")))  # their currencies are noted when written
            return
        keep, currencies = self.facts.setdefault, self.currencies
        for fact in facts:
            # a new currency goes through _put (which notes it); otherwise one probe of the
            # dict keeps a new key's fact, and a key seen before is summed by _put
            if (fact[4] and fact[4] not in currencies) or keep(_fact_key(fact), fact) is not fact:
                self._put(fact, "sum")

    def _kept_row(self, facts) -> bool:
        """Keep a row_keys row in the list when its key is new (True); else turn to the dict (False)."""
        keys = self.row_keys
        held = len(keys)
        keys.add(_row_key(facts[0]))
        if len(keys) > held:
            self.kept.extend(facts)
            return True
        self._to_dict()
        return False

    def _to_dict(self) -> None:
        """Leave row_keys' list for the dict a fact (each kept fact its key's first: no sum)."""
        kept, self.kept, self.row_keys = self.kept, None, set()
        self._note_currencies(kept)
        self.facts = dict(zip(map(_fact_key, kept), kept))

    def _note_currencies(self, facts) -> None:
        for code in dict.fromkeys(map(_CURRENCY, facts)):
            if code and code not in self.currencies:
                self.currencies.append(code)

    def put_checked(self, pending: list[tuple[Fact, str]]) -> None:
        """A row's facts checked one by one (RowScope), each with its mode: kept in row_keys' list
        when they are a row as put_row takes it, under a new key; else as _put puts them."""
        if self.kept is not None and pending and _one_row(pending):
            if self._kept_row([fact for fact, _ in pending]):
                return
        put = self._put
        for fact, mode in pending:
            put(fact, mode)

    def error(self, line: int, column: str | None, code: str, message: str) -> None:
        self.errors.append(RowError(line, column, code, message))

    def _put(self, fact: Fact, mode: str) -> None:
        if self.kept is not None:
            self._to_dict()
        if self.raw is not None:  # spilling: the sink's owner sums and checks after the file
            self.raw.append((fact, mode))
            if fact.currency and fact.currency not in self.currencies:
                self.currencies.append(fact.currency)
            return
        key = fact.key
        old = self.facts.get(key)
        if old is None:
            self.facts[key] = fact
        elif mode == "unique":
            self.error(fact.line, None, "duplicate_row",
                       "Same date, store, SKU and measure as line %d." % old.line)
        elif old.currency != fact.currency:
            self.error(fact.line, None, "mixed_currency",
                       "Currency %s differs from %s on line %d." % (fact.currency, old.currency, old.line))
        else:
            self.facts[key] = Fact(old.line, old.business_date, old.measure, old.value + fact.value,
                                        old.currency, old.sku, old.ref, old.period_end, old.store_code)
        if fact.currency and fact.currency not in self.currencies:
            self.currencies.append(fact.currency)

    def spill_if_full(self) -> None:
        """Write the held facts to the sink once they reach its limit (called after each row)."""
        held = self.kept if self.kept is not None else self.facts if self.raw is None else self.raw
        if len(held) >= self.sink.limit:
            self._spill()

    def _spill(self) -> None:
        if self.raw is None:  # the first spill: each fact held is its key's first (and sum)
            self.sink.open(self.family, self.rolls_up)
            held = self.facts.values()
            if self.kept is not None:
                held, self.kept, self.row_keys = self.kept, None, set()
                self._note_currencies(held)
            held, self.facts, self.raw = [(fact, "sum") for fact in held], {}, []
        else:
            held, self.raw = self.raw, []
            self._note_currencies(map(FIRST, held))
        start = self.spilled
        self.sink.write([(start + n, f.line, f.business_date, f.period_end, f.measure, f.value, f.currency,
                          f.sku or "", f.ref or "", f.store_code or "", mode == "unique")
                         for n, (f, mode) in enumerate(held)])
        self.spilled += len(held)

    def roll_up(self) -> None:
        """Where a group has both SKU facts and SKU-less facts, the sku="" fact becomes the group
        total (settlements); when spilling, the sink's owner does it after the file."""
        if self.raw is not None:
            self.sink.roll_up()
            return
        if self.kept is not None:
            self._to_dict()
        sku_sums: dict[tuple, Decimal] = {}
        for fact in self.facts.values():
            if fact.sku:
                group = fact.key[:2] + fact.key[3:]
                sku_sums[group] = sku_sums.get(group, Decimal(0)) + fact.value
        for key, fact in list(self.facts.items()):
            group = key[:2] + key[3:]
            if not fact.sku and group in sku_sums:
                self.facts[key] = Fact(fact.line, fact.business_date, fact.measure,
                                       fact.value + sku_sums[group], fact.currency, "", fact.ref,
                                       fact.period_end, fact.store_code)

    def result(self) -> ParseResult:
        staged = self.raw is not None
        if staged:
            self._spill()
        latest = None
        if self.kept is not None:
            self._note_currencies(self.kept)
            facts, latest = self.kept, _latest(self.row_keys)
        else:
            facts = list(self.facts.values())
        currency = self.currencies[0] if len(self.currencies) == 1 else None
        refused = [error for sheet in self.sheets for error in sheet.errors]
        return ParseResult(self.parser, self.family, facts, refused + self.errors,
                           self.rows_read + len(refused), currency, self.warnings + self._skip_warnings(),
                           staged, latest)

    def _skip_warnings(self) -> list[ParseWarning]:
        return [ParseWarning("%s_rows_skipped" % kind, "%d %s rows skipped." % (count, kind),
                             {"count": count}) for kind, count in self.skipped.items() if count]


def _latest(row_keys: set) -> date | None:
    """The latest date or period end of the rows' keys (every kept fact's), None without rows."""
    ends = set(map(SECOND, row_keys))
    ends.discard(None)
    return max(chain(map(FIRST, row_keys), ends), default=None)


def _one_row(pending: list[tuple[Fact, str]]) -> bool:
    """True when a RowScope's facts are a row as row_keys means it: summed, one key but the
    measure, each of another measure."""
    facts = [fact for fact, mode in pending if mode == "sum"]
    return (len(facts) == len(pending) and len(set(map(_row_key, facts))) == 1
            and len(set(map(_MEASURE, facts))) == len(facts))


_UNITS = {key: measure.unit for key, measure in BASE_MEASURES.items()}
_ZERO = Decimal(0)
NO_CELL = (_ZERO, None)  # a row_facts cell of a row read the careful way (its facts are never kept)
# new_fact(Fact, (<all nine fields>)) is Fact(...) built by tuple.__new__ in C, without the Python
# frame of the namedtuple's own __new__: the same tuple, for the column paths that build hundreds
# of thousands. _fact_key(fact) is Fact.key, also in C.
new_fact = tuple.__new__
_fact_key = itemgetter(1, 7, 5, 6, 2, 8)
_row_key = itemgetter(1, 7, 5, 6, 8)  # the key but the measure: one a row under row_keys
_MEASURE, _CURRENCY = itemgetter(2), itemgetter(4)
FIRST, SECOND = itemgetter(0), itemgetter(1)


def row_facts(lines: list, measures, days, ends, skus, refs):
    """Per row, the tuple of its facts (one per measure, in measures' order), built in C a measure
    at a time: the facts the column paths made one by one with new_fact.

    measures: (measure, values, currencies), one value and currency a row each. lines (a list),
    days, ends, skus and refs: one a row each, as lists, or a constant as itertools.repeat(...).
    """
    made = [map(new_fact, repeat(Fact),
                zip(lines, days, repeat(measure), values, currencies, skus, refs, ends, repeat("")))
            for measure, values, currencies in measures]
    return zip(*made)


class RowScope:
    """Context manager buffering one row's facts; a CellError discards them."""

    def __init__(self, collector: Collector, line: int):
        self.collector = collector
        self.line = line
        self.pending: list[tuple[Fact, str]] = []

    def __enter__(self) -> "RowScope":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            collector = self.collector
            collector.put_checked(self.pending)
            if collector.sink is not None:
                collector.spill_if_full()
            return False
        if issubclass(exc_type, CellError):
            self.collector.error(self.line, exc.column, exc.code, exc.message)
            return True
        return False

    def add(self, day: date, measure: str, value: Decimal | None, currency: str | None = None, *,
            sku: str = "", ref: str = "", period_end: date | None = None, store_code: str = "",
            mode: str = "sum", line: int | None = None) -> None:
        """Queue one fact; money needs a currency (the store currency is the fallback)."""
        fact = make_fact(line or self.line, day, measure, value, currency, self.collector.currency_hint,
                         sku, ref, period_end, store_code)
        self.pending.append((fact, mode))


def make_fact(line: int, day: date, measure: str, value: Decimal | None, currency: str | None,
              hint: str | None, sku: str = "", ref: str = "", period_end: date | None = None,
              store_code: str = "") -> Fact:
    """One checked fact (RowScope.add's rules): blank is 0, money needs a currency (hint as fallback)."""
    unit = _UNITS[measure]  # KeyError here is a programming error
    if value is None:
        value = _ZERO
    elif value < 0 and measure in NON_NEGATIVE:
        raise CellError("negative_value", "%s cannot be negative: %s" % (measure, value), measure)
    if unit == "money":
        currency = currency or hint
        if not currency:
            raise CellError("missing_currency",
                            "No currency for %s; the file names none and no store currency was given."
                            % measure, measure)
    else:
        currency = None
    return Fact(line, day, measure, value, currency, sku, ref, period_end, store_code)
