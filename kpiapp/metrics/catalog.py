"""Built-in metric definitions (指标口径): formula over base measures plus what is in and out.

Ratios are formulas over summed base measures, so ACoS for a month is
sum(ad_spend) / sum(ad_sales), never an average of daily ACoS.
"""
from __future__ import annotations

from dataclasses import dataclass

from kpiapp.appraisal.scoring import Direction

UNITS = ("money", "fraction", "count", "hours", "days", "ratio")

HIGHER = Direction.HIGHER_BETTER
LOWER = Direction.LOWER_BETTER


@dataclass(frozen=True)
class MetricSpec:
    key: str
    name_en: str
    name_zh: str
    unit: str
    direction: Direction
    formula: str
    includes_en: str
    includes_zh: str
    version: int = 1


BUILTIN_METRICS: list[MetricSpec] = [
    MetricSpec(
        key="gmv",
        name_en="GMV (ordered sales)",
        name_zh="销售额 GMV",
        unit="money",
        direction=HIGHER,
        formula="ordered_sales",
        includes_en=(
            "Ordered product sales (Amazon 'Ordered Product Sales') by order date in the "
            "store's time zone: item price x units of every order placed in the period, B2B "
            "included. Included: orders later cancelled or refunded (GMV is not net sales); "
            "VAT/GST on marketplaces that show tax-inclusive prices (EU, UK, JP). Excluded: "
            "buyer-paid shipping and gift wrap, US sales tax. From order files (Shopee, TikTok "
            "Shop, ERP) it is the order-line total after item discounts."
        ),
        includes_zh=(
            "按店铺时区的下单日期统计的已订购商品销售额（亚马逊“已订购商品销售额”）：本期所有"
            "订单的商品单价 × 数量，含 B2B 订单。包含：之后取消或退款的订单（GMV 不是净销售额）；"
            "商品标价含税站点（欧洲、英国、日本）的 VAT/消费税。不包含：买家支付的运费和礼品包装费、"
            "美国销售税。来自订单文件（Shopee、TikTok Shop、ERP）时，取扣除商品折扣后的订单行金额。"
        ),
    ),
    MetricSpec(
        key="units",
        name_en="Units ordered",
        name_zh="销量（订购件数）",
        unit="count",
        direction=HIGHER,
        formula="units_ordered",
        includes_en=(
            "Units ordered (Amazon 'Units Ordered') by order date, B2B included. Units later "
            "cancelled or refunded are still counted (see refund rate)."
        ),
        includes_zh=(
            "按下单日期统计的已订购商品件数（亚马逊“已订购商品数量”），含 B2B。之后取消或退款的"
            "件数仍计入（见退款率）。"
        ),
    ),
    MetricSpec(
        key="sessions",
        name_en="Sessions",
        name_zh="会话数（访问量）",
        unit="count",
        direction=HIGHER,
        formula="sessions",
        includes_en=(
            "Amazon 'Sessions - Total': browser plus mobile-app sessions, B2B included. A "
            "session is one visit; several page views within 24 hours count once (page views "
            "are a separate measure). Where a platform reports no sessions the metric has no data."
        ),
        includes_zh=(
            "亚马逊“会话数 - 总计”：浏览器与移动应用会话之和，含 B2B。一次会话即一次访问，24 "
            "小时内的多次页面浏览只计一次（页面浏览量另行统计）。平台不提供会话数时显示为无数据。"
        ),
    ),
    MetricSpec(
        key="cvr",
        name_en="Conversion rate (unit session %)",
        name_zh="转化率",
        unit="fraction",
        direction=HIGHER,
        formula="units_ordered / sessions",
        includes_en=(
            "Units ordered / sessions (Amazon 'Unit Session Percentage'), each summed over the "
            "period before dividing, never an average of daily rates. Counts units, not order "
            "items (Amazon's 'Order Item Session Percentage' divides order items by sessions). "
            "B2B included on both sides."
        ),
        includes_zh=(
            "已订购件数 ÷ 会话数（亚马逊“商品会话百分比”），先分别汇总本期件数和会话数再相除，"
            "不对每日转化率取平均。按件数计算，而非订单商品数（亚马逊“订单商品会话百分比”按订单"
            "商品数计算）。分子分母均含 B2B。"
        ),
    ),
    MetricSpec(
        key="ad_spend",
        name_en="Ad spend",
        name_zh="广告花费",
        unit="money",
        direction=LOWER,
        formula="ad_spend",
        includes_en=(
            "Advertising cost by ad report date (Amazon Ads 'Spend'): Sponsored Products, "
            "Sponsored Brands and Sponsored Display, plus on-platform ads on Shopee and TikTok "
            "Shop. Excluded: Amazon DSP, off-platform ads (Google, Meta, influencers) and agency "
            "fees. Taken from the ads reports only, never also from the settlement."
        ),
        includes_zh=(
            "按广告报表日期统计的广告花费（亚马逊广告“花费”）：SP 商品推广、SB 品牌推广、SD 展示型"
            "推广，以及 Shopee、TikTok Shop 站内广告。不包含：亚马逊 DSP、站外广告（Google、"
            "Meta、红人推广）和代运营服务费。只取广告报表，不与结算报告中的广告费重复计算。"
        ),
    ),
    MetricSpec(
        key="ad_sales",
        name_en="Ad sales",
        name_zh="广告销售额",
        unit="money",
        direction=HIGHER,
        formula="ad_sales",
        includes_en=(
            "Sales attributed to an ad click in the ad product's standard window: Sponsored "
            "Products 7 days (Amazon '7 Day Total Sales'), Sponsored Brands and Display 14 days, "
            "Shopee 7 days; by ad report date. Includes other SKUs of the same seller bought "
            "after the click (total sales, not advertised-SKU sales only; Shopee 'broad GMV'). "
            "Attributed sales keep rising for up to 14 days, so recent days are re-imported and "
            "may still change."
        ),
        includes_zh=(
            "按各广告类型的默认归因窗口统计的广告销售额：SP 商品推广 7 天（亚马逊“7 天总销售额”），"
            "SB 品牌推广和 SD 展示型推广 14 天，Shopee 7 天；按广告报表日期统计。包含点击后"
            "购买的本店其他 SKU（取总销售额，而非仅推广 SKU 的销售额；Shopee 取 broad GMV）。归因"
            "销售额在 14 天内仍会增加，因此最近几天的数据会重新导入，可能还会变动。"
        ),
    ),
    MetricSpec(
        key="acos",
        name_en="ACoS (advertising cost of sales)",
        name_zh="广告销售成本比 ACoS",
        unit="fraction",
        direction=LOWER,
        formula="ad_spend / ad_sales",
        includes_en=(
            "Ad spend / ad-attributed sales, each summed over the period before dividing, never "
            "an average of daily ACoS. Same campaigns on both sides; attribution as in ad sales "
            "(SP 7 days, SB/SD 14 days); "
            "attributed sales include other SKUs. No ad sales gives no data, not an infinite ACoS."
        ),
        includes_zh=(
            "广告花费 ÷ 广告归因销售额，分别汇总本期数据后再相除，不对每日 ACoS 取平均。分子分母"
            "统计同一批广告活动；归因窗口同广告销售额（SP 7 天，SB/SD 14 天）；归因销售额含其他 SKU。没有广告销售额时显示为无数据，"
            "而不是无穷大。"
        ),
    ),
    MetricSpec(
        key="roas",
        name_en="ROAS (return on ad spend)",
        name_zh="广告投入产出比 ROAS",
        unit="ratio",
        direction=HIGHER,
        formula="ad_sales / ad_spend",
        includes_en=(
            "Ad-attributed sales / ad spend (= 1 / ACoS), same scope and attribution as ACoS, "
            "summed before dividing. No ad spend gives no data."
        ),
        includes_zh=(
            "广告归因销售额 ÷ 广告花费（即 1/ACoS），范围和归因窗口与 ACoS 相同，先汇总再相除。"
            "没有广告花费时显示为无数据。"
        ),
    ),
    MetricSpec(
        key="tacos",
        name_en="TACoS (total advertising cost of sales)",
        name_zh="TACoS（广告花费占总销售额比）",
        unit="fraction",
        direction=LOWER,
        formula="ad_spend / ordered_sales",
        includes_en=(
            "Total ad spend / total ordered sales of the store (GMV: organic plus ad-driven "
            "orders). Uses ordered sales, not shipped or settled sales. Ad types as in ad spend "
            "(SP, SB, SD, on-platform ads); DSP and off-platform ads excluded."
        ),
        includes_zh=(
            "广告总花费 ÷ 店铺总销售额（GMV，含自然订单与广告订单）。使用已订购销售额，而非已发货或"
            "已结算销售额。广告类型与“广告花费”一致（SP、SB、SD 及站内广告），不含 DSP 和站外广告。"
        ),
    ),
    MetricSpec(
        key="ctr",
        name_en="Click-through rate (CTR)",
        name_zh="点击率 CTR",
        unit="fraction",
        direction=HIGHER,
        formula="ad_clicks / ad_impressions",
        includes_en=(
            "Ad clicks / ad impressions, each summed over the period before dividing. Same ad "
            "types as ad spend."
        ),
        includes_zh="广告点击量 ÷ 广告曝光量，先分别汇总本期数据再相除。广告类型范围与“广告花费”相同。",
    ),
    MetricSpec(
        key="cpc",
        name_en="Cost per click (CPC)",
        name_zh="单次点击成本 CPC",
        unit="money",
        direction=LOWER,
        formula="ad_spend / ad_clicks",
        includes_en=(
            "Ad spend / ad clicks, each summed over the period before dividing, never an average "
            "of daily or keyword CPC. Same ad types as ad spend."
        ),
        includes_zh=(
            "广告花费 ÷ 广告点击量，先分别汇总再相除，不对每日或各关键词的 CPC 取平均。广告类型"
            "范围与“广告花费”相同。"
        ),
    ),
    MetricSpec(
        key="refund_rate",
        name_en="Refund rate",
        name_zh="退款率",
        unit="fraction",
        direction=LOWER,
        formula="units_refunded / units_ordered",
        includes_en=(
            "Units refunded / units ordered in the same period (same-period basis, not an order "
            "cohort): a refund counts on its refund date, so a refund this month for last month's "
            "order counts this month. Where a platform reports returns instead of refunds, "
            "returned units are counted. Replacements are not refunds. B2B included."
        ),
        includes_zh=(
            "本期退款件数 ÷ 本期已订购件数（同期口径，不按订单批次追踪）：退款按退款日期计入，上月"
            "订单在本月退款的计入本月。平台只提供退货数据时按退货件数计。换货不算退款。含 B2B。"
        ),
    ),
    MetricSpec(
        key="gross_margin",
        name_en="Gross margin",
        name_zh="毛利率",
        unit="fraction",
        direction=HIGHER,
        formula="(ordered_sales - refund_amount - cogs - inbound_freight) / ordered_sales",
        includes_en=(
            "(Ordered sales - refunds - COGS - first-leg freight) / ordered sales. COGS is the "
            "purchase cost of the units sold; first-leg freight (头程) is shipping and import duty "
            "to the marketplace warehouse, kept out of COGS so it is not subtracted twice. "
            "Referral and FBA fees, storage, advertising and promotions are NOT subtracted here; "
            "they are in net profit. The denominator is ordered sales before refunds. VAT inside "
            "EU/UK/JP sales is not removed."
        ),
        includes_zh=(
            "（已订购销售额 − 退款金额 − 商品采购成本 − 头程费用）÷ 已订购销售额。采购成本为所售件数"
            "的进货成本；头程费用为发往平台仓的头程运费及进口关税，不计入采购成本，以免重复扣减。此处不扣佣金、FBA 配送费、仓储费、"
            "广告费和促销费用，这些计入净利润。分母为扣除退款前的已订购销售额。欧洲、英国、日本站"
            "销售额中包含的 VAT/消费税未剔除。"
        ),
    ),
    MetricSpec(
        key="net_profit",
        name_en="Net profit",
        name_zh="净利润",
        unit="money",
        direction=HIGHER,
        # measures.py stores fees and refunds as positive amounts paid, so they are subtracted
        formula=(
            "settled_product_sales + settled_shipping - settled_refunds - referral_fees"
            " - fulfillment_fees - storage_fees - promotion_costs - advertising_cost_settled"
            " - other_fees - cogs - inbound_freight"
        ),
        includes_en=(
            "Settlement basis (cash, by settlement posted date): settled product sales + shipping "
            "charged to buyers, minus refunds, referral/commission fees, fulfilment (FBA) fees, "
            "storage fees, seller-funded promotions, advertising charged in the settlement, other "
            "fees (subscription, service and other item fees), COGS and first-leg freight/duty. "
            "Fees and refunds are stored as positive amounts paid (a fee reversal makes them "
            "smaller), so the formula subtracts them. Advertising comes from the settlement only, "
            "never also from the ads reports. Excluded: tax collected and marketplace-facilitator "
            "tax withheld (passed on to the tax office), VAT the seller files itself, income tax, "
            "FBA reimbursements (they offset lost stock whose cost is not in COGS), reserves and "
            "transfers, salaries, rent and other overhead, FX and payment-provider fees outside "
            "the settlement."
        ),
        includes_zh=(
            "按结算口径（现金制，按结算入账日期）统计：结算商品销售额 + 买家支付的运费，减去退款、"
            "销售佣金、FBA 配送费、仓储费、卖家出资的促销费用、结算中扣除的广告费、其他费用（月租、"
            "服务费及其他商品费用）、商品采购成本和头程费用。费用和退款均以实际支付的正数存储（费用"
            "退回会使其变小），因此公式中做减法。广告费只取结算报告，不再从广告报表重复扣减。"
            "不包含：代收税费和平台代扣代缴的税费（Marketplace Facilitator Tax）、卖家自行申报的 "
            "VAT、所得税、FBA 赔偿款（用于抵消丢失库存，其成本不在商品成本中）、预留金和转账、人员"
            "工资、房租等管理费用，以及结算报告以外的汇兑损益和收款手续费。"
        ),
    ),
    MetricSpec(
        key="cs_response_rate_24h",
        name_en="Customer-service replies within 24 h",
        name_zh="24小时客服回复率",
        unit="fraction",
        direction=HIGHER,
        formula="cs_messages_replied_24h / cs_messages",
        includes_en=(
            "Buyer messages answered within 24 hours / buyer messages received in the period that "
            "needed a reply. Clock hours, weekends and holidays included (as Amazon counts). "
            "Messages marked 'no response needed' and automatic notifications are left out of "
            "both sides."
        ),
        includes_zh=(
            "24 小时内回复的买家消息数 ÷ 本期收到的需要回复的买家消息数。按自然小时计算，含周末和"
            "节假日（与亚马逊规则一致）。标记为“无需回复”的消息和系统自动通知不计入分子和分母。"
        ),
    ),
    MetricSpec(
        key="negative_feedback_rate",
        name_en="Negative feedback rate",
        name_zh="Feedback 差评率",
        unit="fraction",
        direction=LOWER,
        formula="negative_feedback_orders / feedback_orders",
        includes_en=(
            "Orders with negative seller feedback (1-2 stars) / orders that received seller "
            "feedback in the period. Seller feedback only: product reviews are not counted. "
            "Feedback removed by the marketplace is excluded."
        ),
        includes_zh=(
            "收到差评（1–2 星店铺反馈）的订单数 ÷ 本期收到店铺反馈的订单数。只统计店铺反馈"
            "（Feedback），不含商品评论（Review）。已被平台移除的反馈不计入。"
        ),
    ),
    MetricSpec(
        key="fba_in_stock_rate",
        name_en="FBA in-stock rate",
        name_zh="FBA 有货率",
        unit="fraction",
        direction=HIGHER,
        formula="sku_days_in_stock / sku_days_tracked",
        includes_en=(
            "SKU-days with fulfillable FBA units > 0 / SKU-days tracked, from the daily FBA "
            "inventory snapshot: every SKU in a snapshot counts one tracked day, so SKUs that are "
            "no longer replenished count until they leave the FBA inventory report. Inbound, "
            "reserved or unsellable units alone do not count as in stock. Not weighted by sales "
            "(unlike the in-stock rate inside Amazon's IPI)."
        ),
        includes_zh=(
            "可售库存大于 0 的 SKU 天数 ÷ 跟踪的 SKU 天数，取自每日 FBA 库存快照：快照中的每个 SKU "
            "每天计一个跟踪日，已停止补货的 SKU 在移出 FBA 库存报告前仍计入。只有在途、预留或不可售库存的不算有货。"
            "不按销量加权（与亚马逊 IPI 中的有货率不同）。"
        ),
    ),
    MetricSpec(
        key="days_of_supply",
        name_en="Days of supply",
        name_zh="库存可售天数",
        unit="days",
        direction=LOWER,
        formula="fulfillable_units / units_ordered",
        includes_en=(
            "Fulfillable FBA units summed over the daily snapshots / units ordered summed over "
            "the same days = average units on hand / average units sold per day: how many days "
            "the stock lasts at the period's pace. Only fulfillable units count; inbound, reserved "
            "and unsellable units are excluded. Needs a snapshot for every day: missing days make "
            "it too low. No sales gives no data. Usually scored with bands, since too few days "
            "risks stock-outs and too many ties up cash."
        ),
        includes_zh=(
            "每日快照的可售 FBA 库存件数之和 ÷ 同期已订购件数之和 = 平均在库件数 ÷ 日均销量，即按本期"
            "销售速度现有库存可卖多少天。只计可售库存，不含在途、预留和不可售库存。需要每天都有库存"
            "快照，缺失的日期会使结果偏低。本期无销量时显示为无数据。通常按区间打分：天数过低有断货"
            "风险，过高则积压资金。"
        ),
    ),
    MetricSpec(
        key="new_listings",
        name_en="New listings",
        name_zh="新品上架数",
        unit="count",
        direction=HIGHER,
        formula="new_listings",
        includes_en=(
            "Listings (SKUs) first created in the period, each counted once on its creation date. "
            "New variations under an existing parent count; relisting, edits and merges do not."
        ),
        includes_zh=(
            "本期新创建的 Listing（SKU）数量，每个 SKU 按创建日期计一次。已有父体下新增的变体计入；"
            "重新上架、编辑或合并 Listing 不计入。"
        ),
    ),
    MetricSpec(
        key="order_defect_rate",
        name_en="Order defect rate (ODR)",
        name_zh="订单缺陷率（ODR）",
        unit="fraction",
        direction=LOWER,
        formula="health_odr_defects / health_odr_orders",
        includes_en=(
            "Amazon Account Health: orders with a defect (negative feedback, an A-to-z claim not "
            "denied, or a chargeback) / orders, over Amazon's rolling 60-day window, as Amazon "
            "reports it on each day (imported, not recomputed from our orders). Seller-fulfilled "
            "(MFN) and FBA (AFN) orders together. For a period: the daily snapshots' counts summed, "
            "i.e. the average of the daily ODR weighted by their order counts; days without a "
            "snapshot are left out. Amazon's target: below 1%."
        ),
        includes_zh=(
            "亚马逊账户状况：缺陷订单数（差评、未被驳回的亚马逊商城交易保障索赔、信用卡拒付）÷ 订单数，"
            "统计窗口为亚马逊滚动 60 天，取亚马逊每天报告的数值（直接导入，不用我们自己的订单重算）。"
            "卖家自配送（MFN）和亚马逊配送（FBA）订单合并计算。一个期间的值为每日快照计数之和之比，"
            "即按订单数加权的每日 ODR 平均值；没有快照的日期不计入。亚马逊要求低于 1%。"
        ),
    ),
    MetricSpec(
        key="late_shipment_rate",
        name_en="Late shipment rate",
        name_zh="迟发率",
        unit="fraction",
        direction=LOWER,
        formula="health_lsr_late / health_lsr_orders",
        includes_en=(
            "Amazon Account Health: seller-fulfilled orders confirmed as shipped after their "
            "expected ship date / seller-fulfilled orders, over Amazon's rolling window (30 days "
            "in the report), as Amazon reports it on each day. FBA orders are excluded (Amazon "
            "ships them). For a period: the average of the daily snapshots weighted by their order "
            "counts. Amazon's target: below 4%."
        ),
        includes_zh=(
            "亚马逊账户状况：确认发货晚于预计发货日期的卖家自配送订单数 ÷ 卖家自配送订单数，统计窗口为"
            "亚马逊报告中的滚动窗口（30 天），取亚马逊每天报告的数值。不含 FBA 订单（由亚马逊发货）。"
            "一个期间的值为按订单数加权的每日快照平均值。亚马逊要求低于 4%。"
        ),
    ),
    MetricSpec(
        key="valid_tracking_rate",
        name_en="Valid tracking rate",
        name_zh="有效追踪率",
        unit="fraction",
        direction=HIGHER,
        formula="health_vtr_valid / health_vtr_shipments",
        includes_en=(
            "Amazon Account Health: seller-fulfilled shipments with a valid tracking number / "
            "seller-fulfilled shipments, over Amazon's rolling 30-day window, as Amazon reports it "
            "on each day. FBA shipments are excluded. For a period: the average of the daily "
            "snapshots weighted by their shipment counts. Amazon's target: above 95%."
        ),
        includes_zh=(
            "亚马逊账户状况：有有效追踪编码的卖家自配送货件数 ÷ 卖家自配送货件数，统计窗口为亚马逊滚动 "
            "30 天，取亚马逊每天报告的数值。不含 FBA 货件。一个期间的值为按货件数加权的每日快照平均值。"
            "亚马逊要求高于 95%。"
        ),
    ),
]

BUILTIN_METRICS_BY_KEY: dict[str, MetricSpec] = {m.key: m for m in BUILTIN_METRICS}
