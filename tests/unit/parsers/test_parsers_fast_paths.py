"""The fast paths (issue 10) read exactly what the careful paths read, or step aside.

A plain numeral or common money shape is read by one regex; any cell the fast path takes
must give the same Decimal (same digits and exponent), currency and percent flag as the
careful per-cell logic. Detection and parsing decode a file once.
"""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpiapp.parsers import common, parse_file
from kpiapp.parsers.common import CellError, _plain_amount, careful_amount, parse_amount, parse_date

# cells the fast pattern matches, and near misses built from the same characters
SHAPES = st.one_of(st.from_regex(common._PLAIN_AMOUNT, fullmatch=True),
                   st.text(st.sampled_from("0123456789,.-$€£ %"), min_size=1, max_size=14))


def _careful(text, hint):
    try:
        return careful_amount(text, "col", hint)
    except CellError:
        return "error"


@settings(max_examples=1500, deadline=None, database=None, derandomize=True)
@given(SHAPES, st.sampled_from([None, "USD", "CAD", "EUR"]))
def test_fast_amount_agrees_with_the_careful_path(text, hint):
    fast = _plain_amount(text, hint)
    if fast is not None or common._PLAIN_AMOUNT.fullmatch(text):
        careful = _careful(text, hint)
        if fast is None:  # stepped aside ('1.250'): the careful path decides
            return
        assert careful != "error", text
        assert (str(fast.value), fast.currency, fast.percent) == (
            str(careful.value), careful.currency, careful.percent), text


@pytest.mark.parametrize("text, value, currency", [
    ("1234", "1234", None), ("-12.50", "-12.50", None), ("$1,234.56", "1234.56", "USD"),
    ("-$0.99", "-0.99", "USD"), ("€3", "3", "EUR"), ("£1,000,000.5", "1000000.5", "GBP"),
    ("0.125", "0.125", None), ("007", "7", None), ("999999999999999", "999999999999999", None),
])
def test_fast_amount_shapes(text, value, currency):
    amount = _plain_amount(text, None)
    assert (str(amount.value), amount.currency, amount.percent) == (value, currency, False)


@pytest.mark.parametrize("text", [
    "1.250", "0,125", "1,23,456", "97,5 %", "1.699,15 €", "(5)", "1e5", "1_000", "１２３",
    "9999999999999999", " 5", "=1+1", "$-5", "5-", "",
])
def test_other_shapes_take_the_careful_path(text):
    assert _plain_amount(text, None) is None


def test_thousands_dot_still_reads_as_thousands():
    assert parse_amount("1.250").value == Decimal(1250)
    assert parse_amount("0,125").value == Decimal("0.125")


def test_dollar_follows_the_store_currency_on_the_fast_path():
    assert parse_amount("$5", hint="CAD").currency == "CAD"
    assert parse_amount("$5", hint="EUR").currency == "USD"


@pytest.mark.parametrize("text, serial, expected", [
    ("2025-03-02", True, date(2025, 3, 2)), ("2025-03-02", False, date(2025, 3, 2)),
    ("45718", True, date(2025, 3, 2)),
])
def test_iso_and_serial_dates(text, serial, expected):
    assert parse_date(text, "Date", serial=serial) == expected


@pytest.mark.parametrize("text", ["2025-02-30", "1999-12-31", "2025-13-01"])
def test_impossible_iso_dates_are_still_refused(text):
    with pytest.raises(CellError) as caught:
        parse_date(text, "Date", serial=True)
    assert (caught.value.code, caught.value.column) == ("bad_date", "Date")


def test_a_bad_fast_path_cell_names_its_line_and_column():
    data = b"Date,Campaign Name,Impressions,Clicks,Spend\n2025-01-02,A,10,1,$1.00\n2025-01-02,B,10,x,$1.00\n"
    result = parse_file(data, "ads.csv", currency="USD")
    assert [(e.line, e.column, e.code) for e in result.errors] == [(3, "Clicks", "bad_number")]
    assert {f.ref for f in result.facts} == {"A"}


def test_detection_and_parsing_decode_the_file_once(monkeypatch):
    calls = []
    decode = common._text_candidates
    monkeypatch.setattr(common, "_text_candidates", lambda data: calls.append(1) or decode(data))
    data = b"Date,Campaign Name,Impressions,Clicks,Spend\n2025-01-02,A,10,1,$1.00\n"
    assert len(parse_file(data, "ads.csv", currency="USD").facts) == 3
    assert len(calls) == 1


def test_first_line_is_found_past_a_long_blank_head():
    text = "\n" * 70000 + "a;b;c\n1;2;3\n"
    assert common._delimiter(text) == ";"


def test_a_workbook_is_unpacked_once(monkeypatch):
    from parser_fixtures import xlsx_bytes

    calls = []
    unpack = common._xlsx_sheets
    monkeypatch.setattr(common, "_xlsx_sheets", lambda data: calls.append(1) or unpack(data))
    data = xlsx_bytes([["Date", "Campaign Name", "Impressions", "Clicks", "Spend"],
                       ["2025-01-02", "A", 10, 1, 1.5]])
    assert len(parse_file(data, "ads.xlsx", currency="USD").facts) == 3
    assert len(calls) == 1


def test_the_fast_path_keeps_the_size_limit(monkeypatch):
    monkeypatch.setattr(common, "MAX_ABS_VALUE", Decimal(1000))
    monkeypatch.setattr(common, "_SEEN", {})  # the limit is a constant: forget cells read under the old one
    with pytest.raises(CellError) as caught:
        parse_amount("1234", "Spend")
    assert (caught.value.code, caught.value.column) == ("bad_number", "Spend")
