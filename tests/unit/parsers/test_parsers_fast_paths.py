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


@pytest.mark.parametrize("text, value", [
    ("12.5%", "12.5"), ("100%", "100"), ("-3%", "-3"), ("0.25%", "0.25"),
])
def test_fast_percent_shapes(text, value):
    amount = _plain_amount(text, None)
    careful = careful_amount(text)
    assert (str(amount.value), amount.currency, amount.percent) == (value, None, True)
    assert (str(careful.value), careful.currency, careful.percent) == (value, None, True)


@pytest.mark.parametrize("text", [
    "1.250", "0,125", "1,23,456", "97,5 %", "1.699,15 €", "(5)", "1e5", "1_000", "１２３",
    "9999999999999999", " 5", "=1+1", "$-5", "5-", "", "12.5 %", "5%%", "%5", "1.250%",
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


BUSINESS_REPORT = (
    '"(Parent) ASIN","(Child) ASIN","Title","Sessions - Total","Page Views - Total","Units Ordered",'
    '"Ordered Product Sales","Total Order Items"\n'
    'P,B000000001,a,10,20,1,$19.99,1\n'
    'P,B000000002,b,,20,1,$19.99,1\n'  # blank sessions
    'P,B000000003,c,1.250,20,1,"$1,250.00",1\n'  # thousands dot: careful path
    'P,B000000001,a again,5,5,1,$0.01,1\n'  # the same ASIN twice: summed
    'P,B000000004,d,-3,20,1,$19.99,1\n'  # negative sessions
    'P,bad,e,10,20,1,$19.99,1\n'  # bad child ASIN
    'P,B000000005,f,10,20,1,19.99,1\n'  # money without a symbol: the store currency
    'P,B000000006,g,10,20,x,€19.99,1\n'  # bad units
    'P,B000000007,h,10,20,1,€19.99,1\n'  # a second currency
    'Total,,,45,125,8,$100.00,8\n'
)


def _business_report_both_ways(monkeypatch, text, currency):
    """(fast result, careful result) of one Business Report: as the parser runs, and with the
    column fast path stepping aside for every cell (every row read the careful way)."""
    def parse():
        return parse_file(text.encode(), "br.csv", date_from=date(2025, 3, 1),
                          date_to=date(2025, 3, 1), currency=currency)

    fast = parse()
    with monkeypatch.context() as patch:
        patch.setattr("kpiapp.parsers.amazon_business_report.plain_column",
                      lambda rows, index, hint, vouch=None: [None] * len(rows))
        careful = parse()
    assert [(f, str(f.value)) for f in fast.facts] == [(f, str(f.value)) for f in careful.facts]
    assert (fast.errors, fast.rows_read, fast.currency, fast.warnings) == (
        careful.errors, careful.rows_read, careful.currency, careful.warnings)
    return fast, careful


@pytest.mark.parametrize("currency", ["USD", None])
def test_business_report_column_at_a_time_reads_what_row_at_a_time_reads(monkeypatch, currency):
    fast, _ = _business_report_both_ways(monkeypatch, BUSINESS_REPORT, currency)
    assert {(e.line, e.column, e.code) for e in fast.errors} >= {
        (6, "sessions", "negative_value"), (7, "(Child) ASIN", "bad_key"), (9, "Units Ordered", "bad_number")}
    assert any(f.sku == "B000000001" and f.measure == "sessions" and f.value == 15 for f in fast.facts)


BUY_BOX = (
    '"(Child) ASIN","Sessions - Total","Page Views - Total","Featured Offer (Buy Box) Percentage",'
    '"Units Ordered","Ordered Product Sales"\n'
    'B000000001,10,20,95%,1,$19.99\n'  # plain: 20 x 0.95 featured-offer views
    'B000000002,10,20,12.5%,1,$19.99\n'
    'B000000003,10,0.0,50%,1,$19.99\n'  # '0.0' views: the careful path's 'or 0' keeps its exponent
    'B000000004,10,20,"97,5 %",1,$19.99\n'  # decimal comma and a space: careful path
    'B000000005,10,20,,1,$19.99\n'  # blank share: no featured-offer fact
    'B000000006,10,20,-5%,1,$19.99\n'  # negative share: refused by the careful path
    'B000000007,10,20,95,1,$19.99\n'  # a CSV share without % is a percentage too
    'B000000008,10,-,95%,1,$19.99\n'  # blank views
)


@pytest.mark.parametrize("currency", ["USD", None])
def test_buy_box_share_column_at_a_time_reads_what_row_at_a_time_reads(monkeypatch, currency):
    fast, _ = _business_report_both_ways(monkeypatch, BUY_BOX, currency)
    featured = {f.sku: str(f.value) for f in fast.facts if f.measure == "featured_offer_page_views"}
    assert featured["B000000001"] == "19.00" and featured["B000000002"] == "2.500"
    assert featured["B000000003"] == "0.0" and featured["B000000007"] == "19.00"
    assert "B000000005" not in featured
    assert [(e.line, e.column, e.code) for e in fast.errors] == [
        (7, "featured_offer_page_views", "negative_value")]


# Cells a report column may hold: the fast shapes and the awkward ones the careful path reads
# (or refuses) - decimal commas, thousands dots, blank markers, formulas, other currencies.
# Four in five cells are fast shapes, so that whole rows take the column path too.
PLAIN = ["0", "7", "12", "1,234", "1,234.56", "$19.99", "-$0.99", "€3.10", "£1,000.5", "12.5%", "95%",
         "0.0", "-3"]
AWKWARD = st.sampled_from(PLAIN * 12 + [
    "1.250", "0,125", "97,5 %", "1.699,15 €", "(5)", "-", "n/a", "", " 3 ", "=1+2", "+5", "x",
    "１２", "9999999999999999", "USD 4.50", "¥300", "$1,23,456.00", "1e5", "5%%", "$-5",
])
ASINS = st.sampled_from(["B000000001"] * 4 + ["B000000002"] * 4 + [
    "b000000003", "bad", "", "Total", "B00000000X"])


@settings(max_examples=60, deadline=None, database=None, derandomize=True)
@given(st.lists(st.tuples(ASINS, st.lists(AWKWARD, min_size=6, max_size=6)), min_size=1, max_size=12),
       st.sampled_from(["USD", "CAD", None]))
def test_business_report_paths_agree_on_awkward_cells(rows, currency):
    head = ('"(Child) ASIN","Sessions - Total","Page Views - Total","Featured Offer (Buy Box) Percentage",'
            '"Units Ordered","Ordered Product Sales","Total Order Items"\n')
    text = head + "".join(",".join('"%s"' % c for c in [asin, *cells]) + "\n" for asin, cells in rows)
    with pytest.MonkeyPatch.context() as monkeypatch:
        _business_report_both_ways(monkeypatch, text, currency)


@settings(max_examples=60, deadline=None, database=None, derandomize=True)
@given(st.lists(st.tuples(st.sampled_from(["2025-03-01"] * 6 + ["45718", "2025-02-30", "", "x"]),
                          st.sampled_from(["A", "B"] * 4 + ["", "=HYPERLINK(1)"]),
                          st.sampled_from(["USD"] * 6 + ["usd", "", "GBP", "US"]),
                          st.lists(AWKWARD, min_size=4, max_size=4)), min_size=1, max_size=12),
       st.sampled_from(["USD", None]))
def test_ads_paths_agree_on_awkward_cells(rows, currency):
    from kpiapp.parsers import amazon_ads
    from kpiapp.parsers.common import ASIDE

    head = "Date,Campaign Name,Currency,Impressions,Clicks,Spend,7 Day Total Sales \n"
    text = head + "".join(",".join('"%s"' % c for c in [day, name, code, *cells]) + "\n"
                          for day, name, code, cells in rows)

    def parse():
        return parse_file(text.encode(), "ads.csv", currency=currency)

    fast = parse()
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(amazon_ads, "convert_column", lambda rows, index, read: [ASIDE] * len(rows))
        careful = parse()
    assert [(f, str(f.value)) for f in fast.facts] == [(f, str(f.value)) for f in careful.facts]
    assert (fast.errors, fast.rows_read, fast.currency, fast.warnings) == (
        careful.errors, careful.rows_read, careful.currency, careful.warnings)


def test_new_fact_builds_the_same_fact():
    from kpiapp.parsers.base import Fact
    from kpiapp.parsers.common import _fact_key, new_fact

    args = (3, date(2025, 3, 1), "sessions", Decimal("1.50"), "USD", "B000000001", "C1", None, "S1")
    fact = new_fact(Fact, args)
    assert type(fact) is Fact and fact == Fact(*args) and fact.key == Fact(*args).key == _fact_key(fact)
    assert (fact.currency, fact.ref, fact.store_code) == ("USD", "C1", "S1")


def test_parse_file_restores_the_cycle_collector():
    import gc

    from kpiapp.parsers import ParseError

    data = b"Date,Campaign Name,Impressions,Clicks,Spend\n2025-01-02,A,10,1,$1.00\n"
    assert gc.isenabled()
    parse_file(data, "ads.csv", currency="USD")
    assert gc.isenabled()
    with pytest.raises(ParseError):
        parse_file(b"", "ads.csv")
    assert gc.isenabled()
    gc.disable()
    try:
        parse_file(data, "ads.csv", currency="USD")
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()


CYCLE_PROBE = """
import gc
from kpiapp.parsers import parse_file

rows = "".join("2025-01-02,C%d,USD,%d,1,$1.50,2.00\\n" % (i, i) for i in range(3000))
data = ("Date,Campaign Name,Currency,Impressions,Clicks,Spend,7 Day Total Sales \\n" + rows).encode()
parse_file(data, "ads.csv", currency="USD")  # warm: first use builds caches and imports
gc.collect()
gc.disable()
facts = len(parse_file(data, "ads.csv", currency="USD").facts)
print(facts, gc.collect())
"""


def test_parsing_a_text_report_leaves_no_cycles_behind():
    """The collector is paused while parsing: parsing itself must not make cyclic garbage.

    Measured in a fresh interpreter: the collector is process-wide, and in the suite other
    threads (a live server, a delivery thread) may leave garbage while it is off."""
    import subprocess
    import sys

    probe = subprocess.run([sys.executable, "-c", CYCLE_PROBE], capture_output=True, text=True,
                           check=True, timeout=120)
    assert probe.stdout.split() == ["12000", "0"]
