"""Property tests: whatever the bytes, parse_file returns a ParseResult or raises ParseError."""

import gzip
import json
from collections import Counter
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from parser_fixtures import fixture, xlsx_bytes

from kpiapp.parsers.measures import BASE_MEASURES
from kpiapp.parsers import PARSERS, ParseError, ParseResult, parse_file, parse_fx

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KEYS = sorted(PARSERS)
EXTENSIONS = ["x.csv", "x.txt", "x.xlsx", "x.json", "x.json.gz", "x", "x.tsv"]
TEXT_FIXTURES = ["amazon_business_report_us.csv", "amazon_business_report_legacy.csv",
                 "amazon_settlement_us.txt",
                 "amazon_orders_all.txt", "amazon_inventory_myi.txt", "amazon_ads_console_campaign.csv",
                 "tiktok_orders_us.csv", "generic.csv"]
JSON_FIXTURES = ["amazon_sales_traffic.json", "amazon_ads_sp_campaigns.json", "shopee_order_detail.json",
                 "shopee_escrow_detail.json", "tiktok_orders_api.json"]
NASTY_CELLS = st.sampled_from(["", "NaN", "inf", "-Infinity", "1e999", "9" * 400, "=1+1", "@SUM(A1)", "+x",
                               "=HYPERLINK(\"x\")", "\u00a0", "１２３", "1.2.3", "$", "%", "()", "\t", "Total",
                               "31.02.2025", "0001-01-01", "🙂", "\u202e", "\x1a"])
CELLS = st.one_of(NASTY_CELLS, st.text(max_size=12))


def check(data: bytes, name: str, **kw) -> None:
    try:
        result = parse_file(data, name, **kw)
    except ParseError as exc:
        assert exc.code and exc.message
        return
    assert isinstance(result, ParseResult)
    assert max(Counter(f.key for f in result.facts).values(), default=1) == 1
    for f in result.facts:
        assert f.measure in BASE_MEASURES and f.value.is_finite()
        assert (f.currency is not None) == (BASE_MEASURES[f.measure].unit == "money")
    for e in result.errors:
        assert e.line >= 1 and e.code and e.message


OPTIONS = st.fixed_dictionaries({}, optional={
    "parser": st.sampled_from(KEYS),
    "date_from": st.just(date(2025, 3, 2)),
    "currency": st.sampled_from(["USD", "PHP"]),
    "tz": st.sampled_from(["UTC", "Asia/Tokyo"]),
})


@FAST
@given(st.binary(max_size=400), st.sampled_from(EXTENSIONS), OPTIONS)
def test_random_bytes(data, name, opts):
    check(data, name, **opts)


@FAST
@given(st.binary(max_size=200))
def test_random_bytes_with_known_magic(tail):
    for head in (b"PK\x03\x04", b"\x1f\x8b", b"\xef\xbb\xbf", b"{", b"[", b"\xff\xfe"):
        check(head + tail, "x")


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(TEXT_FIXTURES), st.data())
def test_mutated_csv(name, data):
    lines = fixture(name).decode("utf-8").splitlines()
    delim = "\t" if name.endswith(".txt") else ","
    rows = [line.split(delim) for line in lines]
    for _ in range(data.draw(st.integers(1, 6))):
        r = data.draw(st.integers(0, len(rows) - 1))
        if not rows[r]:
            continue
        c = data.draw(st.integers(0, len(rows[r]) - 1))
        action = data.draw(st.sampled_from(["cell", "drop", "dup", "upper"]))
        if action == "cell":
            rows[r][c] = data.draw(CELLS)
        elif action == "drop":
            del rows[r][c]
        elif action == "dup":
            rows.insert(r, list(rows[r]))
        else:
            rows[r][c] = rows[r][c].upper() + " "
    text = "\n".join(delim.join(row) for row in rows)
    check(text.encode("utf-8", "surrogatepass"), name, date_from=date(2025, 3, 2))


def _mutate_json(value, data, depth=0):
    if depth < 6 and isinstance(value, dict) and value:
        key = data.draw(st.sampled_from(sorted(value)))
        value[key] = _mutate_json(value[key], data, depth + 1)
    elif depth < 6 and isinstance(value, list) and value:
        i = data.draw(st.integers(0, len(value) - 1))
        value[i] = _mutate_json(value[i], data, depth + 1)
    else:
        return data.draw(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                                   NASTY_CELLS, st.lists(st.integers(), max_size=2),
                                   st.dictionaries(st.text(max_size=4), st.integers(), max_size=2)))
    return value


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(JSON_FIXTURES), st.data(), st.booleans())
def test_mutated_json(name, data, compress):
    doc = json.loads(fixture(name))
    for _ in range(data.draw(st.integers(1, 4))):
        doc = _mutate_json(doc, data)
    payload = json.dumps(doc).encode()
    check(gzip.compress(payload) if compress else payload, name + (".gz" if compress else ""),
          date_from=date(2025, 3, 2), currency="USD")


XLSX = xlsx_bytes([
    ["Date", "Campaign Name", "Currency", "Impressions", "Clicks", "Spend", "7 Day Total Sales "],
    [45718, "A", "USD", 10, 1, 0.5, 3.0],
    ["Mar 02, 2025", "B", "USD", "1,000", 2, "$1.00", None]])


@settings(max_examples=40, deadline=None)
@given(st.integers(0, len(XLSX)), st.integers(0, len(XLSX) - 1), st.integers(0, 255))
def test_truncated_and_flipped_xlsx(cut, pos, byte):
    check(XLSX[:cut], "ads.xlsx")
    flipped = bytearray(XLSX)
    flipped[pos] = byte
    check(bytes(flipped), "ads.xlsx")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=12), st.text(max_size=12), st.text(max_size=12)), max_size=8))
def test_fx_never_crashes(rows):
    text = "date,currency,rate\n" + "\n".join(",".join(r).replace("\n", " ") for r in rows)
    try:
        parse_fx(text.encode("utf-8", "surrogatepass"), "fx.csv")
    except ParseError:
        pass
