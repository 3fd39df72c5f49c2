"""Amazon Ads: Reporting API v3 JSON (plain/gzip) and console CSV/XLSX downloads."""

import gzip
import json
from datetime import date, datetime

import pytest
from parser_fixtures import D, by_key, facts_on, fixture, xlsx_bytes

from kpiapp.parsers import ParseError, detect, parse_file

MAR1, MAR2, MAR3, MAR7 = date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 3), date(2025, 3, 7)
CAMPAIGN_ID = "314159265358979"


def test_api_sp_campaigns_gzip():
    data = gzip.compress(fixture("amazon_ads_sp_campaigns.json"))
    assert detect(data, "report.json.gz") == "amazon_ads"
    r = parse_file(data, "report.json.gz")
    assert (r.parser, r.family, r.currency, r.errors, r.rows_read) == (
        "amazon_ads", "amazon_ads", "USD", [], 2)
    assert facts_on(r, MAR2) == {
        ("ad_impressions", "", CAMPAIGN_ID): (D("18234"), None),
        ("ad_clicks", "", CAMPAIGN_ID): (D("142"), None),
        ("ad_spend", "", CAMPAIGN_ID): (D("98.56"), "USD"),
        ("ad_sales", "", CAMPAIGN_ID): (D("289.89"), "USD"),  # 7-day window, not sales14d
        ("ad_orders", "", CAMPAIGN_ID): (D("11"), None),
        ("ad_units", "", CAMPAIGN_ID): (D("12"), None),
        ("ad_sales_same_sku", "", CAMPAIGN_ID): (D("259.9"), "USD"),
        ("ad_units_same_sku", "", CAMPAIGN_ID): (D("10"), None),
    }
    assert facts_on(r, MAR3)[("ad_spend", "", CAMPAIGN_ID)] == (D("0"), "USD")
    assert {f.line for f in r.facts if f.business_date == MAR3} == {2}


def test_api_sp_advertised_product_sums_ad_groups_per_sku():
    r = parse_file(fixture("amazon_ads_sp_advertised_product.json"), "report.json")
    got = by_key(r)
    assert got[("ad_spend", "BTL-750-BLU", CAMPAIGN_ID)] == (D("72.00"), "USD")  # 70.10 + 1.90
    assert got[("ad_impressions", "BTL-750-BLU", CAMPAIGN_ID)] == (D("12234"), None)
    assert got[("ad_sales", "BTL-750-RED", CAMPAIGN_ID)] == (D("81.97"), "USD")
    assert got[("ad_units", "BTL-750-RED", CAMPAIGN_ID)] == (D("4"), None)
    assert not any("acos" in f.measure for f in r.facts)


def test_api_summary_rows_use_start_and_end_date():
    rows = [{"startDate": "2025-03-01", "endDate": "2025-03-07", "campaignId": 42, "impressions": 10,
             "clicks": 1, "spend": 0.5, "sales14d": 3, "purchases14d": 1,
             "campaignBudgetCurrencyCode": "EUR"}]
    r = parse_file(json.dumps(rows).encode(), "r.json")
    assert {(f.business_date, f.period_end, f.ref) for f in r.facts} == {(MAR1, MAR7, "42")}
    assert by_key(r)[("ad_sales", "", "42")] == (D("3"), "EUR")  # SB/SD 14-day window


def test_api_rows_without_currency_take_store_currency():
    rows = json.loads(fixture("amazon_ads_sp_campaigns.json"))
    for row in rows:
        del row["campaignBudgetCurrencyCode"]
    data = json.dumps(rows).encode()
    assert {e.code for e in parse_file(data, "r.json").errors} == {"missing_currency"}
    r = parse_file(data, "r.json", currency="CAD")
    assert r.errors == [] and r.currency == "CAD"


def test_console_campaign_csv_trailing_spaces_and_text_dates():
    r = parse_file(fixture("amazon_ads_console_campaign.csv"), "Sponsored_Products_Campaign_report.csv")
    assert (r.parser, r.errors, r.currency, r.rows_read) == ("amazon_ads", [], "USD", 3)
    auto, manual = "BTL - Auto - Research", "BTL - Manual - Exact"
    assert facts_on(r, MAR2) == {
        ("ad_impressions", "", auto): (D("18234"), None),
        ("ad_clicks", "", auto): (D("142"), None),
        ("ad_spend", "", auto): (D("98.56"), "USD"),
        ("ad_sales", "", auto): (D("289.89"), "USD"),
        ("ad_orders", "", auto): (D("11"), None),
    }
    weekly = [f for f in r.facts if f.ref == manual]
    assert {(f.business_date, f.period_end) for f in weekly} == {(MAR1, MAR7)}
    assert {f.measure: f.value for f in weekly}["ad_spend"] == D("40.00")


def test_console_acos_spelling_does_not_matter():
    data = fixture("amazon_ads_console_campaign.csv").replace(b"(ACOS) ", b"(ACoS)")
    original = parse_file(fixture("amazon_ads_console_campaign.csv"), "c.csv")
    assert parse_file(data, "c.csv").facts == original.facts


def test_console_search_term_zh_sums_per_campaign():
    r = parse_file(fixture("amazon_ads_console_search_term_zh.csv"), "搜索词报告.csv")
    assert r.errors == []
    assert by_key(r) == {
        ("ad_impressions", "", "BTL - Manual - Exact"): (D("1500"), None),
        ("ad_clicks", "", "BTL - Manual - Exact"): (D("25"), None),
        ("ad_spend", "", "BTL - Manual - Exact"): (D("12.00"), "USD"),
        ("ad_sales", "", "BTL - Manual - Exact"): (D("51.98"), "USD"),
        ("ad_orders", "", "BTL - Manual - Exact"): (D("2"), None),
        ("ad_units", "", "BTL - Manual - Exact"): (D("2"), None),
    }
    assert {f.business_date for f in r.facts} == {MAR2}


def _advertised_product_xlsx():
    header = ["Date", "Portfolio name", "Currency", "Campaign Name", "Ad Group Name", "Advertised SKU",
              "Advertised ASIN", "Impressions", "Clicks", "Click-Thru Rate (CTR)", "Cost Per Click (CPC)",
              "Spend", "7 Day Total Sales ", "Total Advertising Cost of Sales (ACoS) ",
              "Total Return on Advertising Spend (ROAS)", "7 Day Total Orders (#)", "7 Day Total Units (#)",
              "7 Day Conversion Rate", "7 Day Advertised SKU Units (#)", "7 Day Other SKU Units (#)",
              "7 Day Advertised SKU Sales ", "7 Day Other SKU Sales "]
    rows = [header,
            [45718, "", "USD", "BTL - Auto", "AG1", "BTL-750-BLU", "B0C7CHILD1", 12000, 100, 0.0083, 0.701,
             70.1, 207.92, 0.3371, 2.97, 8, 8, 0.08, 7, 1, 181.93, 25.99],
            [datetime(2025, 3, 3), "", "USD", "BTL - Auto", "AG1", "BTL-750-BLU", "B0C7CHILD1", 500, 3, 0.006,
             0.5, 1.5, 0, None, 0, 0, 0, 0, 0, 0, 0, 0],
            ["Mar 03, 2025", "", "USD", "BTL - Auto", "AG1", "=HYPERLINK(\"x\")", "B0C7CHILD1", 1, 1, 1, 1,
             1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]]
    return xlsx_bytes(rows, "Sponsored Product Advertised P", {"A3": "yyyy-mm-dd"})


def test_console_advertised_product_xlsx_excel_serial_dates():
    data = _advertised_product_xlsx()
    assert detect(data, "Sponsored_Products_Advertised_product_report.xlsx") == "amazon_ads"
    r = parse_file(data, "Sponsored_Products_Advertised_product_report.xlsx")
    assert facts_on(r, MAR2) == {
        ("ad_impressions", "BTL-750-BLU", "BTL - Auto"): (D("12000"), None),
        ("ad_clicks", "BTL-750-BLU", "BTL - Auto"): (D("100"), None),
        ("ad_spend", "BTL-750-BLU", "BTL - Auto"): (D("70.1"), "USD"),
        ("ad_sales", "BTL-750-BLU", "BTL - Auto"): (D("207.92"), "USD"),
        ("ad_orders", "BTL-750-BLU", "BTL - Auto"): (D("8"), None),
        ("ad_units", "BTL-750-BLU", "BTL - Auto"): (D("8"), None),
        ("ad_sales_same_sku", "BTL-750-BLU", "BTL - Auto"): (D("181.93"), "USD"),
        ("ad_units_same_sku", "BTL-750-BLU", "BTL - Auto"): (D("7"), None),
    }
    assert facts_on(r, MAR3)[("ad_spend", "BTL-750-BLU", "BTL - Auto")] == (D("1.5"), "USD")
    assert [(e.line, e.column, e.code) for e in r.errors] == [(4, "Advertised SKU", "formula_cell")]


def test_console_xlsx_named_csv_is_rejected():
    with pytest.raises(ParseError) as exc:
        parse_file(_advertised_product_xlsx(), "report.csv")
    assert exc.value.code == "extension_mismatch"
