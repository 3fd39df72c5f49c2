"""Format detection, the registry contract and the natural-key invariants over every fixture."""

import gzip
from collections import Counter
from datetime import date

import pytest
from parser_fixtures import fixture, xlsx_bytes

from kpiapp.parsers.measures import BASE_MEASURES
from kpiapp.parsers import PARSERS, ParseError, detect, parse_file

FIXTURES = {
    "amazon_business_report_us.csv": "amazon_business_report",
    "amazon_business_report_legacy.csv": "amazon_business_report",
    "amazon_business_report_zh_bom.csv": "amazon_business_report",
    "amazon_business_report_ja_cp932.csv": "amazon_business_report",
    "amazon_business_report_de_cp1252.csv": "amazon_business_report",
    "amazon_sales_traffic.json": "amazon_sales_traffic_json",
    "amazon_settlement_us.txt": "amazon_settlement",
    "amazon_settlement_de.txt": "amazon_settlement",
    "amazon_orders_all.txt": "amazon_orders",
    "amazon_inventory_myi.txt": "amazon_inventory",
    "amazon_ads_sp_campaigns.json": "amazon_ads",
    "amazon_ads_sp_advertised_product.json": "amazon_ads",
    "amazon_ads_console_campaign.csv": "amazon_ads",
    "amazon_ads_console_search_term_zh.csv": "amazon_ads",
    "shopee_order_detail.json": "shopee_orders",
    "shopee_escrow_detail.json": "shopee_escrow",
    "tiktok_orders_us.csv": "tiktok_orders",
    "tiktok_orders_br.csv": "tiktok_orders",
    "tiktok_orders_api.json": "tiktok_orders",
    "generic.csv": "generic",
}
OPTS = dict(date_from=date(2025, 3, 2), currency="USD")


@pytest.mark.parametrize("name,key", sorted(FIXTURES.items()))
def test_each_fixture_is_detected(name, key):
    assert detect(fixture(name), name) == key


@pytest.mark.parametrize("name", ["random.csv", "fx.csv"])
def test_unknown_tables_list_known_formats(name):
    with pytest.raises(ParseError) as exc:
        detect(fixture(name), name)
    assert exc.value.code == "unknown_format"
    assert "Amazon Business Report" in exc.value.message and "TikTok Shop orders" in exc.value.message
    assert set(exc.value.params["formats"]) == set(PARSERS)


@pytest.mark.parametrize("payload", [b'{"hello": "world"}', b"[]", b'[{"a": 1}]'])
def test_unknown_json(payload):
    with pytest.raises(ParseError) as exc:
        parse_file(payload, "x.json")
    assert exc.value.code == "unknown_format"


def test_header_of_another_report_with_explicit_parser():
    with pytest.raises(ParseError) as exc:
        parse_file(fixture("amazon_orders_all.txt"), "x.txt", parser="amazon_settlement")
    assert exc.value.code == "missing_columns" and "settlement-id" in exc.value.message
    with pytest.raises(ParseError) as exc:
        parse_file(fixture("amazon_sales_traffic.json"), "x.json", parser="amazon_business_report",
                   date_from=date(2025, 3, 2))
    assert exc.value.code == "wrong_format"


def test_registry_shape():
    assert set(PARSERS) == {"amazon_business_report", "amazon_sales_traffic_json", "amazon_settlement",
                            "amazon_orders", "amazon_inventory", "amazon_ads", "shopee_orders",
                            "shopee_escrow", "tiktok_orders", "lazada_orders", "lazada_finance", "shopee_ads",
                            "generic", "amazon_account_health"}
    assert PARSERS["amazon_business_report"].family == PARSERS["amazon_sales_traffic_json"].family
    for key, info in PARSERS.items():
        assert info.key == key and info.label_en and info.label_zh and callable(info.parse)
    assert PARSERS["amazon_business_report"].needs_date_range
    assert PARSERS["amazon_inventory"].needs_date_range


def _all_results():
    for name in sorted(FIXTURES):
        yield name, parse_file(fixture(name), name, **OPTS)
    yield "ads.json.gz", parse_file(gzip.compress(fixture("amazon_ads_sp_campaigns.json")), "ads.json.gz")
    yield "generic.xlsx", parse_file(xlsx_bytes([["date", "measure", "value", "currency"],
                                                 ["2025-03-02", "cogs", 1, "USD"]]), "g.xlsx")


def test_every_emitted_measure_is_registered_and_money_has_currency():
    seen = set()
    for name, result in _all_results():
        for f in result.facts:
            assert f.measure in BASE_MEASURES, (name, f.measure)
            money = BASE_MEASURES[f.measure].unit == "money"
            assert (f.currency is not None) == money, (name, f)
            assert f.currency is None or len(f.currency) == 3
            seen.add(f.measure)
    for required in ("ordered_sales", "units_ordered", "sessions", "ad_spend", "ad_sales",
                     "settled_product_sales", "referral_fees", "escrow_amount", "sku_days_in_stock",
                     "sku_days_tracked"):
        assert required in seen


def test_natural_key_is_unique_in_every_result():
    for name, result in _all_results():
        counts = Counter(f.key for f in result.facts)
        assert max(counts.values(), default=1) == 1, name
        assert all(f.line >= 1 for f in result.facts)
        assert all(e.line >= 1 for e in result.errors)


def test_measure_registry_contract():
    for key, m in BASE_MEASURES.items():
        assert key == m.key and key == key.lower() and " " not in key
        assert m.unit in ("money", "count", "hours", "days", "fraction")
        assert m.name_en and m.name_zh and m.description_en
    for key in ("ordered_sales", "units_ordered", "order_items", "orders", "sessions", "page_views",
                "units_refunded", "refund_amount", "units_cancelled", "cancelled_sales", "ad_spend",
                "ad_sales",
                "ad_clicks", "ad_impressions", "ad_orders", "ad_units", "settled_product_sales",
                "settled_shipping", "settled_refunds", "referral_fees", "fulfillment_fees", "storage_fees",
                "promotion_costs", "advertising_cost_settled", "other_fees", "taxes_withheld",
                "platform_discounts", "seller_discounts", "escrow_amount", "commission_fees", "service_fees",
                "transaction_fees", "shipping_fees", "fulfillable_units", "inbound_units", "reserved_units",
                "unsellable_units", "sku_days_in_stock", "sku_days_tracked", "cogs", "inbound_freight",
                "cs_messages", "cs_messages_replied_24h", "feedback_orders", "negative_feedback_orders",
                "new_listings"):
        assert key in BASE_MEASURES, key


def test_parsers_import_no_flask_or_database():
    import ast
    from pathlib import Path

    import kpiapp.parsers as pkg

    for path in Path(pkg.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        for name in names:
            forbidden = ("flask", "sqlalchemy", "kpiapp.models", "kpiapp.extensions")
            assert not name.startswith(forbidden), (path, name)
