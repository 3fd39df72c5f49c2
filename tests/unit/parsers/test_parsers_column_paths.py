"""Ads and settlement convert a chunk a column at a time (issue 10) and read the same as per row;
a large workbook is streamed and reads the same as a listed one.

Each test parses a file full of quirks twice: as the parser runs, and with every column
conversion stepping aside (convert_column gives ASIDE for every cell), which sends every row
through the careful per-row path the parsers had before. Facts (digit for digit, same order),
row errors (line, column, code, message), rows read, currency and warnings must be equal.
"""

from datetime import date

import pytest
from parser_fixtures import fixture, xlsx_bytes

from kpiapp.parsers import ParseError, amazon_ads, amazon_settlement, common, parse_file
from kpiapp.parsers.common import ASIDE, Collector


def _both(monkeypatch, module, parse):
    """(fast result, rows the fast run put whole); asserts the careful run reads the same."""
    put = []
    put_row = Collector.put_row
    monkeypatch.setattr(Collector, "put_row", lambda self, facts: put.append(1) or put_row(self, facts))
    fast = parse()
    monkeypatch.setattr(module, "convert_column", lambda rows, index, read: [ASIDE] * len(rows))
    careful = parse()
    assert [(f, str(f.value)) for f in fast.facts] == [(f, str(f.value)) for f in careful.facts]
    assert (fast.errors, fast.rows_read, fast.currency, fast.warnings) == (
        careful.errors, careful.rows_read, careful.currency, careful.warnings)
    assert put, "the column path read no row"
    return fast, len(put)


ADS = (
    "Date,Campaign Name,Campaign ID,Currency,Impressions,Clicks,Spend,7 Day Total Sales ,"
    "7 Day Total Orders (#),Advertised SKU,Advertised ASIN\n"
    "2025-03-01,A,,USD,100,5,$1.50,10.00,1,SKU1,\n"  # 2: plain
    "2025-03-01,A,,USD,100,5,$1.50,10.00,1,SKU1,\n"  # 3: the same key: summed
    "2025-03-01,B,,usd,\"1.250\",5,\"1,50\",\"97,5\",1,,B000000001\n"  # 4: thousands dot, commas
    "45718,C,,USD,100,-,-,n/a,,SKU2,\n"  # 5: Excel serial date, blank markers
    "2025-03-01,D,,USD,100,=1+2,$1.00,1,1,SKU1,\n"  # 6: formula in a number
    "2025-03-01,E,,USD,100,-3,$1.00,1,1,SKU1,\n"  # 7: negative clicks
    "2025-02-30,F,,USD,100,3,$1.00,1,1,SKU1,\n"  # 8: impossible date
    "2025-03-01,,,USD,100,3,$1.00,1,1,SKU1,\n"  # 9: no campaign, dated
    "2025-03-01,=HYPERLINK(\"x\"),,USD,1,1,$1.00,1,1,,\n"  # 10: formula name
    "2025-03-01,G,,GBP,1,1,£1.00,1,1,SKU1,\n"  # 11: a second currency on a new key
    "2025-03-01,A,,GBP,1,1,£1.00,1,1,SKU1,\n"  # 12: a second currency on an old key
    "2025-03-01,H,,US,1,1,1.00,1,1,SKU1,\n"  # 13: bad currency code
    "2025-03-01,I,123,,1,1,1.00,x,1,SKU1,\n"  # 14: bad sales; the campaign id wins
    "2025-03-01,J,,,1,1,€2.00,\"1.699,15 €\",1,,\n"  # 15: symbols name the currency
    "2025-03-01,K,,USD,1,1,9999999999999999,1,1,,\n"  # 16: implausibly large
    "2025-03-01,L,,USD,1,1,$-5,1,1,=A1,\n"  # 17: odd money shape, formula SKU
    "2025-03-01,M,,USD,１２,1,1,1,-1,,\n"  # 18: full-width digits, negative orders
    "Total,,,,1000,100,$100.00,200.00,20,,\n"  # 19: the footer
)


@pytest.mark.parametrize("currency", ["USD", None])
def test_ads_column_at_a_time_reads_what_row_at_a_time_reads(monkeypatch, currency):
    fast, _ = _both(monkeypatch, amazon_ads, lambda: parse_file(ADS.encode(), "ads.csv", currency=currency))
    got = {(e.line, e.column, e.code) for e in fast.errors}
    assert {(6, "Clicks", "formula_cell"), (7, "ad_clicks", "negative_value"), (8, "Date", "bad_date"),
            (9, "Campaign Name", "bad_key"), (10, "Campaign Name", "formula_cell"),
            (13, "Currency", "bad_currency"), (14, "7 Day Total Sales", "bad_number")} <= got
    spend = {(f.ref, f.sku): f.value for f in fast.facts if f.measure == "ad_spend"}
    assert spend[("A", "SKU1")] == 3 and spend[("B", "B000000001")] == 1.5
    assert {f.business_date for f in fast.facts if f.ref == "C"} == {date(2025, 3, 2)}


def test_ads_one_odd_cell_in_a_column_reads_as_before(monkeypatch):
    rows = ["2025-03-%02d,Camp %d,USD,%d,%d,$%d.25,%d.50" % (1 + n % 9, n % 7, n, n % 5, n, n)
            for n in range(200)]
    rows[117] = rows[117].replace("$117.25", '"117,25"')  # a decimal comma: the careful path
    rows[150] = rows[150].replace(",150,", ",1x0,")  # a bad impressions cell
    data = ("Date,Campaign Name,Currency,Impressions,Clicks,Spend,7 Day Total Sales\n"
            + "\n".join(rows) + "\n").encode()
    fast, put = _both(monkeypatch, amazon_ads, lambda: parse_file(data, "ads.csv", currency="USD"))
    assert put == 199  # the decimal comma is read per cell (careful), the bad cell per row
    assert [(e.line, e.column, e.code) for e in fast.errors] == [(152, "Impressions", "bad_number")]
    assert sum(f.value for f in fast.facts if f.measure == "ad_spend") == sum(
        n + 0.25 for n in range(200) if n != 150)


def test_ads_start_and_end_dates_and_a_workbook(monkeypatch):
    head = ["Start Date", "End Date", "Campaign Name", "Impressions", "Clicks", "Spend",
            "14 Day Total Sales"]
    body = [["2025-03-01", "2025-03-07", "A", "10", "1", "$1.00", "3"],
            ["2025-03-01", "", "B", "10", "1", "$1.00", "3"],
            ["2025-03-01", "2025-03-01", "C", "10", "1", "$1.00", "3"],
            ["2025-03-01", "bad", "D", "10", "1", "$1.00", "3"],
            [45718, None, "E", 10, 1, 1.5, 3]]
    csv = "\n".join(",".join(str(c or "") for c in row) for row in [head] + body[:4]) + "\n"
    fast, _ = _both(monkeypatch, amazon_ads, lambda: parse_file(csv.encode(), "ads.csv", currency="USD"))
    assert {f.ref: f.period_end for f in fast.facts} == {"A": date(2025, 3, 7), "B": None, "C": None}
    assert [(e.line, e.code) for e in fast.errors] == [(5, "bad_date")]
    monkeypatch.undo()
    book = xlsx_bytes([head] + body)
    fast, _ = _both(monkeypatch, amazon_ads, lambda: parse_file(book, "ads.xlsx", currency="USD"))
    assert {f.ref for f in fast.facts} == {"A", "B", "C", "E"}


def _settlement():
    text = fixture("amazon_settlement_us.txt").decode()
    lines = text.splitlines()
    head = lines[0].split("\t")
    col = {name: i for i, name in enumerate(head)}
    sample = next(line for line in lines if "\tPrincipal\t" in line).split("\t")

    def line(**cells):
        row = list(sample)
        for name, value in cells.items():
            row[col[name.replace("_", "-")]] = value
        return "\t".join(row)

    extra = [
        line(amount="1,50"),  # a decimal comma
        line(amount=""),  # missing amount
        line(amount="x"),  # bad amount
        line(sku="=A1"),  # formula SKU
        line(**{"posted_date_time": "", "posted_date": "2025-03-03"}),  # posted date only
        line(**{"posted_date_time": "", "posted_date": ""}),  # the settlement end date
        line(**{"posted_date_time": "not a time"}),  # bad posted time
        line(settlement_id="12"),  # bad settlement id
        line(settlement_id="99999999"),  # no summary: no currency unless the store gives one
        line(amount_type="=SUM(A1)"),  # formula type
        "Total" + "\t" * (len(head) - 1),  # a footer
    ]
    return ("\n".join(lines + extra) + "\n").encode()


@pytest.mark.parametrize("currency", ["USD", None])
def test_settlement_column_at_a_time_reads_what_row_at_a_time_reads(monkeypatch, currency):
    data = _settlement()
    fast, _ = _both(monkeypatch, amazon_settlement,
                    lambda: parse_file(data, "s.txt", tz="America/Los_Angeles", currency=currency))
    codes = {e.code for e in fast.errors}
    assert {"missing_value", "bad_number", "formula_cell", "bad_date", "bad_key",
            "settlement_unbalanced"} <= codes
    assert ("missing_currency" in codes) == (currency is None)


def test_settlement_fixtures_read_the_same_both_ways(monkeypatch):
    for name, tz in (("amazon_settlement_us.txt", None), ("amazon_settlement_de.txt", "Europe/Berlin")):
        fast, _ = _both(monkeypatch, amazon_settlement, lambda: parse_file(fixture(name), "s.txt", tz=tz))
        assert fast.errors == [] and fast.facts
        monkeypatch.undo()


def _workbook(rows_by_sheet: dict) -> bytes:
    import io

    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in rows_by_sheet.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


ADS_SHEET = [["Ads report"], [],
             ["Date", "Campaign Name", "Impressions", "Clicks", "Spend", "7 Day Total Sales"],
             ["2025-03-01", "A", 10, 1, 1.5, 3], [45718, "B", 10, 1, "$2.00", "97,5"],
             ["2025-03-01", "C", 10, "=B2*2", 1, 1], ["2025-03-01", "D", 10, 1, 1, 1, "past the header"],
             [], ["Total", None, 30, 3, 4.5, 7]]


@pytest.mark.parametrize("parser, book, options", [
    ("amazon_ads", {"Notes": [["nothing here"]], "Report": ADS_SHEET}, {"currency": "USD"}),
    ("amazon_settlement", {"Sheet1": [line.split("\t") for line in
                                      fixture("amazon_settlement_us.txt").decode().splitlines()]}, {}),
])
def test_a_streamed_workbook_reads_what_a_listed_one_reads(monkeypatch, parser, book, options):
    """Above XLSX_STREAM_BYTES a workbook is read row by row on every pass, never listed whole."""
    data = _workbook(book)
    listed = parse_file(data, "r.xlsx", **options)
    listings = []
    monkeypatch.setattr(common, "XLSX_STREAM_BYTES", 0)
    monkeypatch.setattr(common, "_xlsx_sheets", lambda data: listings.append(1))
    streamed = parse_file(data, "r.xlsx", **options)
    assert listings == [] and streamed.parser == listed.parser == parser
    assert [(f, str(f.value)) for f in streamed.facts] == [(f, str(f.value)) for f in listed.facts]
    assert (streamed.errors, streamed.rows_read, streamed.currency, streamed.warnings) == (
        listed.errors, listed.rows_read, listed.currency, listed.warnings)
    assert streamed.facts


def test_a_streamed_workbook_still_refuses_damage_and_width(monkeypatch):
    monkeypatch.setattr(common, "XLSX_STREAM_BYTES", 0)
    data = _workbook({"Report": ADS_SHEET})
    with pytest.raises(ParseError) as caught:
        parse_file(data[: len(data) // 2], "r.xlsx")
    assert caught.value.code == "bad_xlsx"
    monkeypatch.setattr(common, "MAX_COLUMNS", 5)
    with pytest.raises(ParseError) as caught:
        parse_file(data, "r.xlsx", currency="USD")
    assert caught.value.code == "too_many_columns"
