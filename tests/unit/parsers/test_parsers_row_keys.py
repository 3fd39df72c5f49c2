"""Business Report and Ads rows kept with one key a row (Collector(row_keys=True), issue 10).

Each test parses a file twice: as the parser runs (facts in a list, one key a row, until a
row's key comes twice), and with the collector made without row_keys (a dict entry a fact,
as before). Facts (digit for digit, same order), row errors, rows read, currency, warnings
and, with a sink, every row written and where the writes fall must be equal.
"""

from datetime import date

import pytest

from kpiapp.parsers import amazon_ads, amazon_business_report, parse_file
from kpiapp.parsers.common import Chunk, Collector, column_cells

BR_HEAD = ('"(Parent) ASIN","(Child) ASIN","Title","Sessions - Total","Page Views - Total",'
           '"Featured Offer (Buy Box) Percentage","Units Ordered","Ordered Product Sales",'
           '"Total Order Items"\n')
ADS_HEAD = ("Date,Campaign Name,Campaign ID,Currency,Impressions,Clicks,Spend,7 Day Total Sales ,"
            "Advertised SKU,Advertised ASIN\n")


class ListSink:
    def __init__(self, limit):
        self.limit, self.rows, self.writes, self.rolls_up = limit, [], [], False

    def open(self, family, rolls_up):
        pass

    def write(self, rows):
        self.rows.extend(rows)
        self.writes.append(len(rows))

    def roll_up(self):
        self.rolls_up = True


def _business_report(rows: int, repeat_at: int | None = None, odd_every: int = 0) -> bytes:
    lines = []
    for n in range(rows):
        sales = "$%d.99" % (n % 40) if not odd_every or n % odd_every else '"1.699,15 €"'
        share = "95%" if not odd_every or n % (odd_every + 1) else '"97,5 %"'
        lines.append('P,B0%08d,t,%d,%d,"%s",%d,"%s",%d\n' % (n, n % 50, n % 90, share, n % 7, sales, n % 3))
    if repeat_at is not None:
        lines.insert(repeat_at, lines[1].replace(",t,", ",again,"))
    return (BR_HEAD + "".join(lines)).encode()


def _ads(rows: int, repeat_at: int | None = None) -> bytes:
    lines = ["2025-01-%02d,Camp %d,%s,%s,%d,%d,%s%d.5,%d,%s,%s\n" % (
        1 + n // 1000, n % 1000, "" if n % 3 else str(n), "EUR" if n % 1500 == 7 else "USD",
        n % 500, -1 if n % 251 == 0 else n % 9, "€" if n % 7 == 0 else "$", n % 90, n % 70,
        "S%d" % (n % 4) if n % 2 else "", "" if n % 5 else "B000000001") for n in range(rows)]
    if repeat_at is not None:
        lines.insert(repeat_at, lines[2].replace(",USD,", ",EUR,"))  # its key again, another currency
    return (ADS_HEAD + "".join(lines)).encode()


def _without_row_keys(monkeypatch, module):
    monkeypatch.setattr(module, "Collector", lambda *args, row_keys=False: Collector(*args))


def _shot(parse):
    result = parse()
    return ([(f, str(f.value)) for f in result.facts], result.errors, result.rows_read, result.currency,
            result.warnings, result.staged)


def _both(monkeypatch, module, data, name, limit=None, **options):
    """The parse with row_keys and without, as _shot()s (and the sink's rows and writes)."""
    def run():
        sink = ListSink(limit) if limit else None
        shot = _shot(lambda: parse_file(data, name, sink=sink, **options))
        return shot + ((sink.rows, sink.writes, sink.rolls_up) if sink else ())

    kept = run()
    with monkeypatch.context() as patch:
        _without_row_keys(patch, module)
        keyed = run()
    assert kept == keyed
    return kept


BR_OPTIONS = {"date_from": date(2025, 3, 1), "date_to": date(2025, 3, 7), "currency": "USD"}


@pytest.mark.parametrize("repeat_at", [None, 3, 7000])
@pytest.mark.parametrize("odd_every", [0, 97])
def test_business_report_rows_kept_one_key_a_row_read_as_the_dict_does(monkeypatch, repeat_at, odd_every):
    data = _business_report(8000, repeat_at, odd_every)
    facts, errors, rows_read, *_ = _both(monkeypatch, amazon_business_report, data, "br.csv", **BR_OPTIONS)
    assert rows_read == 8000 + (repeat_at is not None) and len(facts) > 8000 * 5
    sessions = [f.value for f, _ in facts if f.sku == "B000000001" and f.measure == "sessions"]
    assert sessions == [2 if repeat_at is not None else 1]  # the repeated row summed on its key


@pytest.mark.parametrize("repeat_at", [None, 4, 5200])
@pytest.mark.parametrize("currency", ["USD", None])
def test_ads_rows_kept_one_key_a_row_read_as_the_dict_does(monkeypatch, repeat_at, currency):
    data = _ads(6000, repeat_at)
    facts, errors, rows_read, *_ = _both(monkeypatch, amazon_ads, data, "ads.csv", currency=currency)
    assert rows_read == 6000 + (repeat_at is not None)
    codes = {e.code for e in errors}
    assert "negative_value" in codes and ("mixed_currency" in codes) == (repeat_at is not None)


@pytest.mark.parametrize("limit", [1, 7, 4000])
def test_spills_fall_where_the_dict_made_them_fall(monkeypatch, limit):
    ads = _both(monkeypatch, amazon_ads, _ads(3000, 2500), "ads.csv", limit, currency="USD")
    sink_rows, writes = ads[6:8]
    assert sink_rows and sum(writes) == len(sink_rows)
    br = _both(monkeypatch, amazon_business_report, _business_report(3000, None, 97), "br.csv", limit,
               **BR_OPTIONS)
    assert br[5] and br[6]  # staged, rows written


def test_a_repeated_key_turns_the_list_into_the_dict():
    from kpiapp.parsers.base import Fact
    out = Collector("p", "f", "USD", row_keys=True)
    day = date(2025, 3, 1)
    out.put_row((Fact(2, day, "sessions", 1, None, "A"), Fact(2, day, "ordered_sales", 2, "USD", "A")))
    out.put_row((Fact(3, day, "sessions", 4, None, "B"),))
    assert out.kept is not None and out.facts == {}
    out.put_row((Fact(4, day, "sessions", 5, None, "A"),))  # A's key again: summed in the dict
    assert out.kept is None
    result = out.result()
    assert [(f.sku, f.measure, f.value, f.line) for f in result.facts] == [
        ("A", "sessions", 6, 2), ("A", "ordered_sales", 2, 2), ("B", "sessions", 4, 3)]
    assert result.currency == "USD" and result.rows_read == 3


def test_chunk_columns_read_as_the_rows_do():
    rows = [(n + 2, ["a%d" % n, "b%d" % n, "c%d" % n]) for n in range(5)]
    chunk = Chunk(rows)
    assert [list(column_cells(chunk, i)) for i in range(4)] == [
        [cells[i] if i < 3 else None for _, cells in rows] for i in range(4)]
    ragged = Chunk([(2, ["a", "b"]), (3, ["c"])])  # an XLSX row shorter than the header
    assert list(column_cells(ragged, 1)) == ["b", None]


def test_a_column_of_plain_asins_is_read_at_once_as_the_pattern_reads_it():
    cells = [" b000000001 ", "B00000000X", "b0000000x2"]
    chunk = Chunk((n, [cell]) for n, cell in enumerate(cells))
    assert amazon_business_report._asin_column(chunk, 0) == ["B000000001", "B00000000X", "B0000000X2"]
    chunk = Chunk((n, [cell]) for n, cell in enumerate(cells + ["B0000000Ü1", "B00000001"]))
    assert amazon_business_report._asin_column(chunk, 0)[3:] == [None, None]


def test_future_dates_are_refused_when_the_collector_knew_the_dates(monkeypatch):
    """The kept rows' keys give refuse_future the latest date without reading the facts."""
    from datetime import timedelta

    late = date.today() + timedelta(days=3)
    data = (ADS_HEAD + "2025-01-02,A,,USD,1,1,$1.00,2,,\n%s,B,,USD,1,1,$1.00,2,,\n"
            "2025-01-02,C,,USD,1,1,$1.00,2,,\n" % late).encode()
    facts, errors, *_ = _both(monkeypatch, amazon_ads, data, "ads.csv", currency="USD")
    assert [(e.line, e.code) for e in errors] == [(3, "future_date")]
    assert {f.ref for f, _ in facts} == {"A", "C"}
    result = parse_file(data.replace(str(late).encode(), b"2025-01-03"), "ads.csv", currency="USD")
    assert result.latest == date(2025, 1, 3) and result.errors == []
