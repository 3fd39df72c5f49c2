"""Input validation (issue 9, SECURITY F1): ragged rows, bad keys, duplicate and unread columns,
missing measures, negative counts, future dates, oversized headers, localized aliases."""

from datetime import date, timedelta

import pytest
from parser_fixtures import D, fixture, xlsx_bytes

from kpiapp.parsers import ParseError, parse_file, parse_fx
from kpiapp.parsers import common

MAR2 = date(2025, 3, 2)
BR_HEAD = '"(Parent) ASIN","(Child) ASIN","Title","Sessions - Total","Page Views - Total",' \
          '"Units Ordered","Ordered Product Sales","Total Order Items"'
BR_ROW = '"B0C7PARENT","B0C7CHILD1","Bottle","510","756","41","$1,066.59","39"'
ORDERS = fixture("amazon_orders_all.txt").decode("utf-8")


def br(*rows: str, head: str = BR_HEAD):
    return parse_file("\n".join((head,) + rows).encode("utf-8"), "br.csv", date_from=MAR2)


def codes(result) -> list[tuple[int, str]]:
    return [(e.line, e.code) for e in result.errors]


def warning(result, code):
    return next((w for w in result.warnings if w.code == code), None)


# ---------------------------------------------------------------- ragged rows


def test_short_row_is_a_ragged_row_error_not_zeros():
    r = br(BR_ROW, '"B0C7PARENT","B0C7CHILD2","Bottle","1,250","1,500"')
    assert codes(r) == [(3, "ragged_row")]
    assert "5 cells" in r.errors[0].message and "8" in r.errors[0].message
    assert {f.sku for f in r.facts} == {"B0C7CHILD1"}
    assert r.rows_read == 2


def test_long_row_is_a_ragged_row_error():
    r = br(BR_ROW + ',"extra"')
    assert codes(r) == [(2, "ragged_row")] and r.facts == []


def test_truncated_orders_file_is_refused_line_by_line():
    lines = ORDERS.splitlines()
    cut = "\n".join(lines[:-1] + [lines[-1][:40]])
    r = parse_file(cut.encode(), "orders.txt")
    assert codes(r) == [(len(lines), "ragged_row")]


def test_xlsx_values_beyond_the_header_are_ragged_but_short_rows_are_not():
    data = xlsx_bytes([["date", "store", "sku", "measure", "value", "currency"],
                       ["2025-03-02", "S1", "", "cs_messages", 3],
                       ["2025-03-02", "S1", "A", "cs_messages", 3, "", "surprise"]])
    r = parse_file(data, "generic.xlsx")
    assert codes(r) == [(3, "ragged_row")]
    assert [f.value for f in r.facts] == [D("3")]


def test_fx_ragged_row():
    rates, errors = parse_fx(b"date,currency,rate\n2025-03-02,EUR\n2025-03-02,GBP,1.27\n", "fx.csv")
    assert [(e.line, e.code) for e in errors] == [(2, "ragged_row")]
    assert [r.currency for r in rates] == ["GBP"]


# ---------------------------------------------------------------- keys, totals


def test_invalid_asin_is_a_row_error_naming_the_value():
    r = br(BR_ROW, '"B0C7PARENT","B0C7","Bottle","1","1","1","$1.00","1"')
    assert codes(r) == [(3, "bad_key")]
    assert "B0C7" in r.errors[0].message


def test_row_with_data_but_no_asin_is_an_error():
    r = br(BR_ROW, '"","","Bottle","1","1","1","$1.00","1"')
    assert codes(r) == [(3, "bad_key")]


def test_total_rows_are_skipped_and_counted():
    r = br(BR_ROW, '"Total","","","510","756","41","$1,066.59","39"', '"合计","","","1","1","1","$1","1"')
    assert r.errors == []
    w = warning(r, "total_rows_skipped")
    assert w.params == {"count": 2} and w.message == "2 total rows skipped."


def test_total_word_in_a_title_does_not_hide_a_bad_asin():
    r = br('"B0C7PARENT","B0BAD","Total Wireless Charger","1","1","1","$1.00","1"')
    assert codes(r) == [(2, "bad_key")]


def test_invalid_amazon_order_id_is_a_row_error():
    lines = ORDERS.splitlines()
    lines[1] = "not-an-order" + lines[1][len("112-3456789-0000001"):]
    r = parse_file("\n".join(lines).encode(), "orders.txt")
    assert codes(r) == [(2, "bad_key")] and "not-an-order" in r.errors[0].message
    assert all(f.line != 2 for f in r.facts)


def test_invalid_tiktok_order_id_is_a_row_error():
    text = fixture("tiktok_orders_us.csv").decode("utf-8").replace('"576543210987654321\t"', '"N/A-1"', 1)
    r = parse_file(text.encode(), "tiktok.csv", currency="USD")
    assert ("bad_key" in {e.code for e in r.errors}) and "N/A-1" in r.errors[0].message
    assert warning(r, "description_rows_skipped").params == {"count": 1}


def test_invalid_settlement_id_is_a_row_error():
    lines = fixture("amazon_settlement_us.txt").decode("utf-8").splitlines()
    lines[2] = "x" + lines[2]
    r = parse_file("\n".join(lines).encode(), "settlement.txt")
    assert (3, "bad_key") in codes(r)


# ---------------------------------------------------------------- headers


def test_duplicate_header_names_are_refused():
    head = BR_HEAD + ',"Sessions - Total"'
    with pytest.raises(ParseError) as exc:
        br(BR_ROW + ',"1"', head=head)
    assert exc.value.code == "duplicate_columns"
    assert exc.value.params["columns"] == ["Sessions - Total"]


def test_duplicates_after_normalisation_are_refused():
    head = BR_HEAD + ',"sessions – total "'
    with pytest.raises(ParseError) as exc:
        br(BR_ROW + ',"1"', head=head)
    assert exc.value.code == "duplicate_columns"


def test_unknown_columns_are_listed_as_not_read():
    r = br(BR_ROW + ',"7"', head=BR_HEAD + ',"Sitzungen - Neu"')
    w = warning(r, "columns_not_read")
    assert w.params == {"columns": ["Sitzungen - Neu"]} and "Sitzungen - Neu" in w.message


def test_missing_measure_column_is_named():
    head = BR_HEAD.replace(',"Total Order Items"', "")
    r = br(BR_ROW.rsplit(",", 1)[0], head=head)
    w = warning(r, "missing_measure")
    assert w.params == {"measure": "order_items"}
    assert w.message.startswith("No column for order items")


@pytest.mark.parametrize("name,kw", [
    ("amazon_business_report_us.csv", {"date_from": MAR2}),
    ("amazon_business_report_legacy.csv", {"date_from": MAR2}),
    ("amazon_business_report_zh_bom.csv", {"date_from": MAR2}),
    ("amazon_business_report_ja_cp932.csv", {"date_from": MAR2}),
    ("amazon_settlement_us.txt", {}), ("amazon_orders_all.txt", {}),
    ("amazon_inventory_myi.txt", {"date_from": MAR2}), ("amazon_ads_console_campaign.csv", {}),
    ("amazon_ads_console_search_term_zh.csv", {}), ("tiktok_orders_us.csv", {"currency": "USD"}),
    ("generic.csv", {}),
])
def test_real_headers_have_no_unread_columns(name, kw):
    r = parse_file(fixture(name), name, **kw)
    assert warning(r, "columns_not_read") is None


def test_header_line_over_one_megabyte_is_refused_before_sniffing():
    data = b"(Child) ASIN," + b"x" * (common.MAX_HEADER_BYTES + 10) + b"\n"
    with pytest.raises(ParseError) as exc:
        parse_file(data, "br.csv", date_from=MAR2)
    assert exc.value.code == "header_too_long"


def test_million_column_header_is_refused_quickly():
    # refused before sniffing; the CPU figures (53 s before) are printed by bench/parser_limits_bench.py
    data = (",".join("c%d" % i for i in range(1_000_000)) + "\n1\n").encode()
    with pytest.raises(ParseError) as exc:
        parse_file(data, "wide.csv", date_from=MAR2)
    assert exc.value.code in ("too_many_columns", "header_too_long")


@pytest.mark.parametrize("delimiter", [",", "\t", ";"])
def test_header_wider_than_2000_columns_is_refused(delimiter):
    data = (delimiter.join("c%d" % i for i in range(2001)) + "\n1\n").encode()
    with pytest.raises(ParseError) as exc:
        parse_file(data, "wide.txt")
    assert exc.value.code == "too_many_columns"


def test_2000_columns_are_still_read():
    head = BR_HEAD + "," + ",".join('"x%d"' % i for i in range(1992))
    row = BR_ROW.replace("$1,066.59", "$1066.59")
    r = br(row + "," + ",".join("0" for _ in range(1992)), head=head)
    assert r.errors == [] and len(warning(r, "columns_not_read").params["columns"]) == 50


def test_xlsx_wider_than_2000_columns_is_refused():
    data = xlsx_bytes([["date", "store", "sku", "measure", "value", "currency"] + [""] * 1995 + ["x"],
                       ["2025-03-02", "S1", "", "cs_messages", 3]])
    with pytest.raises(ParseError) as exc:
        parse_file(data, "generic.xlsx")
    assert exc.value.code == "too_many_columns"


# ---------------------------------------------------------------- values


@pytest.mark.parametrize("column,measure", [(3, "sessions"), (4, "page_views"), (5, "units_ordered"),
                                            (8, "order_items")])
def test_negative_counts_are_row_errors(column, measure):
    cells = BR_ROW.split(",")
    cells[column] = '"-5"'
    r = br(",".join(cells))
    assert codes(r) == [(2, "negative_value")] and measure in r.errors[0].message
    assert r.facts == []


def test_negative_money_stays_allowed():
    r = br(BR_ROW.replace("$1,066.59", "-$3.00"))
    assert r.errors == []


@pytest.mark.parametrize("measure", ["cs_messages", "orders"])
def test_negative_generic_counts_are_row_errors(measure):
    data = "date,store,sku,measure,value,currency\n2025-03-02,S1,,%s,-1,\n" % measure
    assert codes(parse_file(data.encode(), "g.csv")) == [(2, "negative_value")]


def test_dates_after_local_tomorrow_are_row_errors():
    today = date.today()
    soon, late = today + timedelta(days=1), today + timedelta(days=3)
    data = ("date,store,sku,measure,value,currency\n%s,S1,,cs_messages,1,\n%s,S1,,cs_messages,2,\n"
            % (soon, late)).encode()
    r = parse_file(data, "g.csv", tz="Pacific/Kiritimati")
    assert codes(r) == [(3, "future_date")] and str(late) in r.errors[0].message
    assert [f.value for f in r.facts] == [D("1")]


def test_business_report_range_ending_in_the_future_is_refused():
    today = date.today()
    r = parse_file(("\n".join((BR_HEAD, BR_ROW))).encode(), "br.csv", date_from=today,
                   date_to=today + timedelta(days=5))
    assert codes(r) == [(2, "future_date")] and r.facts == []


def test_future_orders_in_store_zone():
    lines = ORDERS.splitlines()
    year = date.today().year + 1
    lines[1] = lines[1].replace("2025-03-02T14:23:00+00:00", "%d-03-02T14:23:00+00:00" % year, 1)
    r = parse_file("\n".join(lines).encode(), "orders.txt", tz="Asia/Tokyo")
    assert (2, "future_date") in codes(r)


# ---------------------------------------------------------------- localized headers


def test_business_report_german_header_reads_every_measure():
    head = ('"(Untergeordnete) ASIN","Titel","Sitzungen – Gesamt","Seitenaufrufe – Gesamt",'
            '"Einkaufswagen-Prozentsatz","Bestellte Einheiten","Gesamtzahl an Bestellposten",'
            '"Bestellte Produkte – Umsätze"')
    r = br('"B0AAAA1111","Trinkflasche","1.250","2.900","97,5 %","85","80","1.699,15 €"', head=head)
    assert r.errors == [] and r.warnings == []
    got = {f.measure: f.value for f in r.facts}
    assert got["order_items"] == D("80") and got["sessions"] == D("1250")
    assert got["featured_offer_page_views"] == D("2827.5")


def test_business_report_german_header_variant_of_the_newer_console():
    head = ('"(Untergeordnete) ASIN","Titel","Sitzungen – Summe","Seitenaufrufe – Summe",'
            '"Einkaufswagen-Prozentsatz","Bestellte Einheiten","Gesamtzahl an Bestellposten",'
            '"Durch bestellte Produkte erzielter Umsatz"')
    r = br('"B0AAAA1111","Trinkflasche","1.250","2.900","97,5 %","85","80","1.699,15 €"', head=head)
    assert r.errors == [] and r.warnings == []
    got = {f.measure: f.value for f in r.facts}
    assert got["page_views"] == D("2900") and got["ordered_sales"] == D("1699.15")


def test_business_report_chinese_header_reads_every_measure():
    head = ("（父）ASIN,（子）ASIN,标题,SKU,会话数 - 总计,会话 - 总计 - B2B,转化率 - 总计,页面浏览量 - 总计,"
            "推荐报价（推荐报价展示位）百分比,已订购商品数量,商品会话百分比,已订购商品销售额,订单商品总数")
    row = "B0PARENT01,B0CHILD001,水杯,BTL-1,100,2,5%,150,90%,8,8%,US$80.00,7"
    r = br(row, head=head)
    assert r.errors == [] and r.warnings == []
    assert {f.measure for f in r.facts} >= {"sessions", "page_views", "units_ordered", "ordered_sales",
                                             "order_items", "featured_offer_page_views"}


def test_business_report_japanese_header_reads_every_measure():
    head = ("（親）ASIN,（子）ASIN,タイトル,セッション数 - 合計,ページビュー - 合計,カートボックス獲得率,"
            "注文された商品点数,セッションのパーセンテージ - 注文商品点数,注文商品の売上額,注文品目総数")
    row = "B0PARENT01,B0CHILD001,ボトル,100,150,90%,8,8%,￥8000,7"
    r = br(row, head=head)
    assert r.errors == [] and r.warnings == []
    assert {f.measure: f.value for f in r.facts}["ordered_sales"] == D("8000")


def test_ads_chinese_console_header_reads_every_measure():
    head = ("日期,广告活动名称,展示量,点击量,点击率 (CTR),单次点击成本 (CPC),花费,7天总销售额,"
            "广告投入产出比 (ACOS) 总计,总广告投资回报率 (ROAS),7天总订单数(#),7天总销售量(#),7天的转化率")
    row = "2025-03-02,自动广告,1000,10,1%,US$0.50,US$5.00,US$50.00,10%,10,2,3,20%"
    r = parse_file("\n".join((head, row)).encode("utf-8"), "ads.csv")
    assert r.errors == [] and r.warnings == []
    assert {f.measure for f in r.facts} == {"ad_impressions", "ad_clicks", "ad_spend", "ad_sales",
                                            "ad_orders", "ad_units"}


def test_ads_japanese_console_header_reads_every_measure():
    head = ("開始日,終了日,キャンペーン名,ターゲティング,マッチタイプ,カスタマーの検索キーワード,インプレッション,"
            "クリック,クリックスルー率 (CTR),平均クリック単価 (CPC),費用,広告がクリックされてから7日間の総売上高,"
            "広告費売上高比率（ACOS）合計,広告費用対効果（ROAS）合計,広告がクリックされてから7日間の合計注文数,"
            "広告がクリックされてから7日間の合計販売数")
    row = "2025/03/02,2025/03/02,オート,*,-,水筒,1000,10,1%,￥50,￥500,￥5000,10%,10,2,3"
    r = parse_file("\n".join((head, row)).encode("utf-8"), "ads.csv")
    assert r.errors == [] and r.warnings == []
    got = {f.measure: (f.value, f.currency) for f in r.facts}
    assert got["ad_spend"] == (D("500"), "JPY") and got["ad_units"] == (D("3"), None)


# ---------------------------------------------------------------- found by the Hypothesis property


def test_formula_in_ads_currency_column_is_a_row_error_not_a_crash():
    head = "Date,Campaign Name,Currency,Impressions,Clicks,Spend"
    r = parse_file("\n".join((head, "2025-03-02,A,=1+1,10,1,$1.00")).encode(), "ads.csv")
    assert codes(r) == [(2, "formula_cell")]


def test_formula_in_orders_currency_column_is_a_row_error_not_a_crash():
    lines = ORDERS.splitlines()
    lines[1] = lines[1].replace("\tUSD\t", "\t=1+1\t", 1)
    r = parse_file("\n".join(lines).encode(), "orders.txt")
    assert (2, "formula_cell") in codes(r)
