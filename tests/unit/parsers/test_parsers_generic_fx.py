"""The generic template and the FX rate file."""

from datetime import date

from parser_fixtures import D, fixture, xlsx_bytes

from kpiapp.parsers import detect, generic_template_csv, parse_file, parse_fx

MAR1, MAR2 = date(2025, 3, 1), date(2025, 3, 2)


def test_generic_template_round_trips():
    text = generic_template_csv()
    assert text.splitlines()[0] == "date,store,sku,measure,value,currency"
    assert len(text.splitlines()) == 3
    r = parse_file(text.encode(), "template.csv")
    assert (r.parser, r.family, r.errors) == ("generic", "generic", [])
    assert [(f.business_date, f.store_code, f.sku, f.measure, f.value, f.currency) for f in r.facts] == [
        (MAR1, "US-MAIN", "BTL-750-BLU", "cogs", D("8.40"), "USD"),
        (MAR1, "US-MAIN", "", "cs_messages", D("12"), None)]


def test_generic_row_errors():
    r = parse_file(fixture("generic.csv"), "erp.csv")
    assert [(e.line, e.column, e.code) for e in r.errors] == [
        (5, "measure", "unknown_measure"),
        (6, "currency", "missing_currency"),
        (7, None, "duplicate_row"),
        (8, "value", "formula_cell")]
    assert [(f.line, f.store_code, f.measure, f.value, f.currency) for f in r.facts] == [
        (2, "US-MAIN", "cogs", D("8.40"), "USD"),
        (3, "US-MAIN", "cs_messages", D("12"), None),
        (4, "US-MAIN", "cs_messages_replied_24h", D("11"), None),
        (9, "EU-DE", "cogs", D("7.90"), "EUR")]
    assert r.currency is None  # USD and EUR both present


def test_generic_xlsx_with_date_cells_and_chinese_headers():
    rows = [["日期", "店铺", "SKU", "指标", "数值", "币种"],
            [MAR2, "JP-1", "BTL-750-BLU", "cogs", 1200, "JPY"],
            [45718, "JP-1", "", "new_listings", 3, None]]
    data = xlsx_bytes(rows)
    assert detect(data, "erp.xlsx") == "generic"
    r = parse_file(data, "erp.xlsx")
    assert r.errors == []
    assert [(f.business_date, f.measure, f.value, f.currency, f.line) for f in r.facts] == [
        (MAR2, "cogs", D("1200"), "JPY", 2), (MAR2, "new_listings", D("3"), None, 3)]


def test_fx_rates():
    rates, errors = parse_fx(fixture("fx.csv"), "fx.csv")
    assert [(r.line, r.date, r.currency, r.rate) for r in rates] == [
        (2, MAR1, "USD", D("7.2345")), (3, MAR1, "EUR", D("7.8012"))]
    assert [(e.line, e.code) for e in errors] == [
        (4, "duplicate_row"), (5, "bad_number"), (6, "bad_currency")]
