"""Shared helpers: numbers, dates, headers, decoding and upload safety."""

import io
import zipfile
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from parser_fixtures import fixture, xlsx_bytes

from kpiapp.parsers import ParseError, parse_file
from kpiapp.parsers import common
from kpiapp.parsers.common import CellError, norm_header, parse_amount, parse_date, parse_timestamp


@pytest.mark.parametrize("text,value,currency,percent", [
    ("$1,066.59", "1066.59", "USD", False),
    ("1.699,15 €", "1699.15", "EUR", False),
    ("97,5 %", "97.5", None, True),
    ("8.04%", "8.04", None, True),
    ("￥12,345", "12345", "JPY", False),
    ("US$3.50", "3.50", "USD", False),
    ("BRL 1.234,56", "1234.56", "BRL", False),
    ("R$ 1.234,56", "1234.56", "BRL", False),
    ("£19.99", "19.99", "GBP", False),
    ("1,250", "1250", None, False),
    ("1.250", "1250", None, False),
    ("0,125", "0.125", None, False),
    ("-4,50", "-4.50", None, False),
    ("(5.00)", "-5.00", None, False),
    ("$-5.00", "-5.00", "USD", False),
    ("1 234,56", "1234.56", None, False),
    ("1,23,456.78", "123456.78", None, False),
    ("1.234.567", "1234567", None, False),
    ("Rp 25.000", "25000", "IDR", False),
    ("₱1,249.00", "1249.00", "PHP", False),
    ("1.234,56 EUR", "1234.56", "EUR", False),
])
def test_parse_amount(text, value, currency, percent):
    assert parse_amount(text) == common.Amount(Decimal(value), currency, percent)


def test_dollar_sign_follows_store_currency():
    assert parse_amount("$5", hint="CAD").currency == "CAD"
    assert parse_amount("$5", hint="EUR").currency == "USD"
    assert parse_amount("¥500", hint="CNY").currency == "CNY"


@pytest.mark.parametrize("text", ["abc", "1.2.3", "1,2,3", "NaN", "inf", "1e999", "12 kg", "2025-03-02",
                                  "99999999999999999999", "1,234.5,6", "--5", "5%%"])
def test_parse_amount_rejects(text):
    with pytest.raises(CellError) as exc:
        parse_amount(text, "col")
    assert exc.value.code == "bad_number" and exc.value.column == "col"


@pytest.mark.parametrize("value", ["=1+2", "+5", "@SUM(A1)", "=HYPERLINK(\"http://x\",\"y\")"])
def test_formula_in_number_column(value):
    with pytest.raises(CellError) as exc:
        parse_amount(value)
    assert exc.value.code == "formula_cell"


def test_formula_in_text_column_only_when_it_is_a_formula():
    assert common.clean_text("+Brand Exact") == "+Brand Exact"
    assert common.clean_text("=Summer Sale") == "=Summer Sale"
    for formula in ("=HYPERLINK(\"http://evil\",\"x\")", "=A1", "@SUM(A1:A3)", "=1+2", "=cmd|' /C calc'!A0"):
        with pytest.raises(CellError):
            common.clean_text(formula)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), Decimal("NaN"), Decimal("1e20"), True])
def test_non_finite_and_huge_native_numbers(value):
    with pytest.raises(CellError):
        parse_amount(value)


@pytest.mark.parametrize("blank", [None, "", "  ", "-", "--", "N/A"])
def test_blank_amounts(blank):
    assert parse_amount(blank) is None


@pytest.mark.parametrize("text,expected", [
    ("2025-03-02 07:14:09 UTC", datetime(2025, 3, 2, 7, 14, 9, tzinfo=timezone.utc)),
    ("2025-03-02T14:23:00+00:00", datetime(2025, 3, 2, 14, 23, tzinfo=timezone.utc)),
    ("2025-03-02T14:23:00Z", datetime(2025, 3, 2, 14, 23, tzinfo=timezone.utc)),
    ("02.03.2025 07:14:09 UTC", datetime(2025, 3, 2, 7, 14, 9, tzinfo=timezone.utc)),
    ("03/02/2025 9:30:33 AM", datetime(2025, 3, 2, 9, 30, 33)),
    ("03/02/2025 9:30:33 PM", datetime(2025, 3, 2, 21, 30, 33)),
    ("2025-03-02 14:05", datetime(2025, 3, 2, 14, 5)),
])
def test_parse_timestamp(text, expected):
    assert parse_timestamp(text) == expected


@pytest.mark.parametrize("value,expected", [
    ("Mar 02, 2025", date(2025, 3, 2)), ("2025/03/02", date(2025, 3, 2)), ("02.03.2025", date(2025, 3, 2)),
    ("20250302", date(2025, 3, 2)), (datetime(2025, 3, 2, 5), date(2025, 3, 2)),
    (date(2025, 3, 2), date(2025, 3, 2)),
    ("2025年3月2日", date(2025, 3, 2)),
])
def test_parse_date(value, expected):
    assert parse_date(value) == expected


def test_excel_serial_only_where_allowed():
    assert parse_date(45718, serial=True) == date(2025, 3, 2)
    assert parse_date("45718", serial=True) == date(2025, 3, 2)
    with pytest.raises(CellError):
        parse_date(45718)


@pytest.mark.parametrize("value", ["0001-01-01", "31.02.2025", "yesterday", 12, "9999-12-31T23:59:59-12:00"])
def test_bad_dates(value):
    with pytest.raises(CellError) as exc:
        parse_date(value)
    assert exc.value.code == "bad_date"


@pytest.mark.parametrize("raw,expected", [
    ("\ufeff(Child) ASIN", "(child)asin"),
    ("Sessions – Total", "sessions - total"),
    ("Sessions — Total", "sessions - total"),
    (" 7 Day Total Sales  ", "7 day total sales"),
    ("Total Advertising Cost of Sales (ACOS) ", norm_header("Total Advertising Cost of Sales (ACoS)")),
    ("（子）ASIN", "(子)asin"),
    ("Mobile APP", "mobile app"),
    ("Seller Voucher(PHP)", "seller voucher"),
    ("Click-Thru Rate (CTR)", "click-thru rate(ctr)"),
])
def test_norm_header(raw, expected):
    assert norm_header(raw) == expected


def test_header_currency():
    assert common.header_currency("Total Discount(PHP)") == "PHP"
    assert common.header_currency("Cost Per Click (CPC)") is None


@pytest.mark.parametrize("data,code", [
    (b"", "empty_file"), (b"  \r\n ", "empty_file"), (b"\xef\xbb\xbf", "empty_file"),
    (b"\x00\x01\x02binary\x00", "bad_encoding"), (bytes(range(1, 32)) * 20, "bad_encoding"),
])
def test_whole_file_rejections(data, code):
    with pytest.raises(ParseError) as exc:
        parse_file(data, "upload.csv")
    assert exc.value.code == code


def test_utf16_text_is_read():
    text = fixture("amazon_inventory_myi.txt").decode()
    r = parse_file(text.encode("utf-16"), "myi.txt", date_from=date(2025, 3, 2))
    assert r.errors == [] and len(r.facts) == 21


def test_semicolon_csv_from_german_excel():
    text = "date;store;sku;measure;value;currency\r\n2025-03-02;DE;X;cogs;7,90;EUR\r\n"
    r = parse_file(text.encode("cp1252"), "erp.csv")
    assert [(f.value, f.currency) for f in r.facts] == [(Decimal("7.90"), "EUR")]


@pytest.mark.parametrize("data,name,code", [
    (b"date,measure,value\n", "report.xlsx", "not_xlsx"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "report.xls", "not_xlsx"),
    (b"PK\x03\x04" + b"\x00" * 50, "report.xlsx", "bad_xlsx"),
    (b"date,measure,value\n", "report.pdf", "extension_mismatch"),
    (b"date,measure,value\n", "report.json", "bad_json"),
    (b"{\"a\": [1, 2", "report.json", "bad_json"),
    (b"[" * 100000, "report.json", "bad_json"),
    (b"\x1f\x8b\x08\x00garbage", "report.json.gz", "bad_gzip"),
])
def test_container_rejections(data, name, code):
    with pytest.raises(ParseError) as exc:
        parse_file(data, name)
    assert exc.value.code == code


def test_truncated_xlsx_is_bad_xlsx():
    data = xlsx_bytes([["date", "measure", "value"], ["2025-03-02", "cogs", 1]])
    for cut in (len(data) // 3, len(data) // 2, len(data) - 30):
        with pytest.raises(ParseError) as exc:
            parse_file(data[:cut], "g.xlsx")
        assert exc.value.code == "bad_xlsx"


def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, payload in entries.items():
            zf.writestr(name, payload)
    return out.getvalue()


def test_zip_bomb_is_refused_before_parsing(monkeypatch):
    bomb = _zip({"xl/worksheets/sheet1.xml": b"\0" * (3 * 1024 * 1024)})
    assert len(bomb) < 10_000
    monkeypatch.setattr(common, "MAX_XLSX_UNCOMPRESSED", 1024 * 1024)
    with pytest.raises(ParseError) as exc:
        parse_file(bomb, "bomb.xlsx")
    assert exc.value.code == "xlsx_too_large"


def test_zip_with_too_many_entries_is_refused():
    many = _zip({"f%d.xml" % i: b"x" for i in range(common.MAX_XLSX_ENTRIES + 1)})
    with pytest.raises(ParseError) as exc:
        parse_file(many, "many.xlsx")
    assert exc.value.code == "xlsx_too_large"


def test_gzip_bomb_is_refused(monkeypatch):
    import gzip
    monkeypatch.setattr(common, "MAX_GUNZIPPED", 1024 * 1024)
    with pytest.raises(ParseError) as exc:
        parse_file(gzip.compress(b"[" + b" " * (2 * 1024 * 1024) + b"]"), "ads.json.gz")
    assert exc.value.code == "file_too_large"


def test_xlsx_entity_expansion_is_blocked():
    data = xlsx_bytes([["date", "measure", "value"], ["2025-03-02", "cogs", 1]])
    src = zipfile.ZipFile(io.BytesIO(data))
    entries = {i.filename: src.read(i.filename) for i in src.infolist()}
    sheet = entries["xl/worksheets/sheet1.xml"].decode()
    doctype = '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    sheet = sheet.replace("<v>1</v>", "<v>&b;</v>") if "<v>1</v>" in sheet else sheet.replace("cogs", "&b;")
    entries["xl/worksheets/sheet1.xml"] = (doctype + sheet).encode()
    with pytest.raises(ParseError) as exc:
        parse_file(_zip(entries), "g.xlsx")
    assert exc.value.code == "bad_xlsx"
    chain, cause = [], exc.value
    while cause is not None:
        chain.append(type(cause).__name__)
        cause = cause.__cause__ or cause.__context__
    assert "EntitiesForbidden" in chain  # defusedxml refused it, not a later accident


def test_bad_options():
    data = fixture("generic.csv")
    with pytest.raises(ParseError) as exc:
        parse_file(data, "g.csv", tz="Mars/Olympus")
    assert exc.value.code == "bad_timezone"
    with pytest.raises(ParseError) as exc:
        parse_file(data, "g.csv", parser="nope")
    assert exc.value.code == "unknown_parser"
    with pytest.raises(ParseError) as exc:
        parse_file(data, "g.csv", date_from=date(2025, 3, 2), date_to=date(2025, 3, 1))
    assert exc.value.code == "bad_date_range"


def test_parse_error_survives_pickling():
    import pickle
    err = pickle.loads(pickle.dumps(ParseError("missing_columns", "Required columns not found.", columns=["a"])))
    assert (err.code, err.message, err.params, str(err)) == (
        "missing_columns", "Required columns not found.", {"columns": ["a"]}, "Required columns not found.")
