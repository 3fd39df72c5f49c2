"""The base-measure registry: every number an importer may store.

A base measure is additive: summing its facts over days, SKUs or orders gives a
meaningful total. Ratios (ACoS, CVR, in-stock rate...) are never base measures;
metric formulas recompute them from these sums.

Sign convention: amounts are stored as positive magnitudes of what the name
says. Costs, fees, discounts and refunds are positive numbers ("referral_fees
12.50" means the seller paid 12.50); a negative value means the opposite
direction (e.g. a fee reversal larger than the fee).
"""

from __future__ import annotations

from dataclasses import dataclass

UNITS = ("money", "count", "hours", "days", "fraction")


@dataclass(frozen=True)
class Measure:
    key: str
    unit: str  # one of UNITS
    name_en: str
    name_zh: str
    description_en: str


def _m(key: str, unit: str, name_en: str, name_zh: str, description_en: str) -> Measure:
    assert unit in UNITS, unit
    return Measure(key, unit, name_en, name_zh, description_en)


_ALL = [
    # Sales and traffic (Business Report, Sales & Traffic JSON, order files)
    _m("ordered_sales", "money", "Ordered product sales", "已订购商品销售额",
       "Value of items ordered, as the source reports it (Amazon: includes later cancellations; "
       "order files: line total after item discounts)."),
    _m("units_ordered", "count", "Units ordered", "已订购商品数量", "Units ordered."),
    _m("order_items", "count", "Order items", "订单商品数",
       "Order lines: one per (order, SKU); Amazon 'Total Order Items'."),
    _m("orders", "count", "Orders", "订单数", "Orders placed (one per order id)."),
    _m("sessions", "count", "Sessions", "会话数", "Sessions (visits) on detail pages."),
    _m("page_views", "count", "Page views", "页面浏览量", "Detail page views."),
    _m("featured_offer_page_views", "count", "Featured Offer page views", "推荐报价页面浏览量",
       "Page views x Featured Offer (Buy Box) percentage; divide by page_views for the "
       "page-view-weighted Buy Box rate."),
    _m("sessions_b2b", "count", "Sessions (B2B)", "会话数（B2B）", "B2B sessions (part of sessions)."),
    _m("page_views_b2b", "count", "Page views (B2B)", "页面浏览量（B2B）",
       "B2B page views (part of page_views)."),
    _m("units_ordered_b2b", "count", "Units ordered (B2B)", "已订购商品数量（B2B）",
       "B2B units ordered (part of units_ordered)."),
    _m("ordered_sales_b2b", "money", "Ordered product sales (B2B)", "已订购商品销售额（B2B）",
       "B2B ordered product sales (part of ordered_sales)."),
    _m("order_items_b2b", "count", "Order items (B2B)", "订单商品数（B2B）",
       "B2B order items (part of order_items)."),
    _m("units_shipped", "count", "Units shipped", "已发货商品数量", "Units shipped."),
    _m("orders_shipped", "count", "Orders shipped", "已发货订单数", "Orders shipped."),
    _m("shipped_sales", "money", "Shipped product sales", "已发货商品销售额",
       "Value of items shipped."),
    _m("units_refunded", "count", "Units refunded", "退款商品数量", "Units refunded or returned."),
    _m("refund_amount", "money", "Refund amount", "退款金额", "Amount refunded to buyers."),
    _m("units_cancelled", "count", "Units cancelled", "取消商品数量",
       "Units of cancelled order lines (still counted in units_ordered)."),
    _m("cancelled_sales", "money", "Cancelled sales", "取消订单销售额",
       "ordered_sales of cancelled order lines (still counted in ordered_sales)."),
    _m("claims_granted", "count", "Claims granted", "已批准索赔数", "A-to-z claims granted."),
    _m("claims_amount", "money", "Claims amount", "索赔金额", "Amount of A-to-z claims granted."),
    _m("feedback_orders", "count", "Orders with feedback", "收到反馈的订单数",
       "Orders that received seller feedback."),
    _m("negative_feedback_orders", "count", "Orders with negative feedback", "负面反馈订单数",
       "Orders that received 1-2 star seller feedback."),
    # Advertising
    _m("ad_spend", "money", "Ad spend", "广告花费", "Advertising cost (clicks charged)."),
    _m("ad_sales", "money", "Ad-attributed sales", "广告销售额",
       "Sales attributed to ads in the ad product's standard window (SP 7 days, SB/SD 14 days)."),
    _m("ad_clicks", "count", "Ad clicks", "广告点击量", "Ad clicks."),
    _m("ad_impressions", "count", "Ad impressions", "广告展示量", "Ad impressions."),
    _m("ad_orders", "count", "Ad-attributed orders", "广告订单数", "Orders attributed to ads."),
    _m("ad_units", "count", "Ad-attributed units", "广告销售量", "Units attributed to ads."),
    _m("ad_sales_same_sku", "money", "Ad sales (advertised SKU)", "广告SKU销售额",
       "Attributed sales of the advertised SKU itself (part of ad_sales)."),
    _m("ad_units_same_sku", "count", "Ad units (advertised SKU)", "广告SKU销售量",
       "Attributed units of the advertised SKU itself (part of ad_units)."),
    # Amazon settlement (cash view; every amount component lands in exactly one measure)
    _m("settled_product_sales", "money", "Settled product sales", "结算商品销售额",
       "Settlement ItemPrice principal (and other non-tax item charges) on orders."),
    _m("settled_shipping", "money", "Settled shipping income", "结算运费收入",
       "Settlement ItemPrice shipping charged to buyers on orders."),
    _m("settled_tax", "money", "Tax collected", "代收税费",
       "Settlement ItemPrice tax components (item, shipping, gift-wrap tax)."),
    _m("settled_refunds", "money", "Refunds (settled)", "结算退款",
       "Item price refunded to buyers in refund/chargeback transactions (positive = paid back)."),
    _m("referral_fees", "money", "Referral fees", "销售佣金",
       "Amazon commission / referral and closing fees, net of fee refunds."),
    _m("fulfillment_fees", "money", "Fulfilment fees", "配送费",
       "FBA fulfilment fees."),
    _m("storage_fees", "money", "Storage fees", "仓储费",
       "FBA monthly and long-term storage fees."),
    _m("promotion_costs", "money", "Promotion costs", "促销费用",
       "Promotion rebates funded by the seller."),
    _m("advertising_cost_settled", "money", "Advertising cost (settled)", "结算广告费",
       "Advertising charged against settlement proceeds; do not add ad_spend as well."),
    _m("other_fees", "money", "Other fees", "其他费用",
       "Fees not classified elsewhere (subscription, service fees, other item fees)."),
    _m("taxes_withheld", "money", "Taxes withheld", "平台代扣税",
       "Marketplace-facilitator tax withheld by the platform."),
    _m("reimbursements", "money", "Reimbursements", "赔偿款",
       "FBA inventory and other reimbursements paid to the seller."),
    _m("other_settlement_amounts", "money", "Other settlement amounts", "其他结算金额",
       "Signed settlement amounts that are neither sales nor fees (reserves, transfers, "
       "unclassified)."),
    # Shopee / TikTok fees and discounts
    _m("platform_discounts", "money", "Platform-funded discounts", "平台补贴折扣",
       "Discounts and vouchers funded by the platform."),
    _m("seller_discounts", "money", "Seller-funded discounts", "卖家折扣",
       "Discounts and vouchers funded by the seller."),
    _m("escrow_amount", "money", "Escrow amount", "结算收入",
       "Amount the platform releases to the seller for the order."),
    _m("commission_fees", "money", "Commission fees", "佣金", "Platform commission fees."),
    _m("service_fees", "money", "Service fees", "服务费", "Platform service fees."),
    _m("transaction_fees", "money", "Transaction fees", "交易手续费",
       "Payment / transaction fees."),
    _m("shipping_fees", "money", "Shipping fees", "运费",
       "Shipping cost borne by the seller (actual and reverse shipping, shipping chargebacks)."),
    # Inventory snapshots
    _m("fulfillable_units", "count", "Fulfillable units", "可售库存",
       "FBA fulfillable units on the snapshot date."),
    _m("mfn_fulfillable_units", "count", "Merchant-fulfilled units", "自发货可售库存",
       "Merchant-fulfilled (MFN) fulfillable units on the snapshot date."),
    _m("inbound_units", "count", "Inbound units", "在途库存",
       "FBA inbound units (working + shipped + receiving) on the snapshot date."),
    _m("reserved_units", "count", "Reserved units", "预留库存", "FBA reserved units."),
    _m("unsellable_units", "count", "Unsellable units", "不可售库存", "FBA unsellable units."),
    _m("sku_days_in_stock", "days", "SKU-days in stock", "有货SKU天数",
       "1 per SKU snapshot with fulfillable units > 0, else 0."),
    _m("sku_days_tracked", "days", "SKU-days tracked", "跟踪SKU天数",
       "1 per SKU snapshot; in-stock rate = sku_days_in_stock / sku_days_tracked."),
    # Amazon Account Health: the counts of each rolling window, one snapshot per day (a period's
    # sum over the daily snapshots gives their average rate, weighted by the counts)
    _m("health_odr_orders", "count", "Orders in the ODR window", "订单缺陷率统计订单数",
       "Orders in Amazon's 60-day order defect rate window on the snapshot day (MFN and AFN)."),
    _m("health_odr_defects", "count", "Orders with a defect", "缺陷订单数",
       "Orders with negative feedback, an A-to-z claim or a chargeback in that 60-day window."),
    _m("health_lsr_orders", "count", "Orders in the late-shipment window", "迟发率统计订单数",
       "Seller-fulfilled orders in Amazon's late shipment rate window on the snapshot day."),
    _m("health_lsr_late", "count", "Orders shipped late", "迟发订单数",
       "Seller-fulfilled orders confirmed as shipped after their expected ship date, same window."),
    _m("health_vtr_shipments", "count", "Shipments in the tracking window", "有效追踪率统计货件数",
       "Seller-fulfilled shipments in Amazon's 30-day valid tracking rate window on the snapshot day."),
    _m("health_vtr_valid", "count", "Shipments with valid tracking", "有效追踪货件数",
       "Those shipments with a valid tracking number."),
    # ERP / manual data (generic template)
    _m("cogs", "money", "Cost of goods sold", "商品成本", "Landed cost of goods sold."),
    _m("inbound_freight", "money", "Inbound freight", "头程运费", "First-mile freight and duty."),
    _m("cs_messages", "count", "Customer messages", "客户消息数", "Buyer messages received."),
    _m("cs_messages_replied_24h", "count", "Messages answered within 24 h", "24小时内回复数",
       "Buyer messages answered within 24 hours."),
    _m("cs_response_hours", "hours", "Response hours", "回复时长（小时）",
       "Total hours taken to answer buyer messages; divide by cs_messages for the average."),
    _m("new_listings", "count", "New listings", "新上架商品数", "Listings created."),
]

BASE_MEASURES: dict[str, Measure] = {m.key: m for m in _ALL}


# Counts that cannot be below zero: a negative value in a file is a row error, not data.
NON_NEGATIVE = frozenset({
    "sessions", "sessions_b2b", "page_views", "page_views_b2b", "featured_offer_page_views",
    "units_ordered", "units_ordered_b2b", "units_shipped", "units_refunded", "units_cancelled",
    "order_items", "order_items_b2b", "orders", "orders_shipped", "ad_clicks", "ad_impressions",
    "ad_orders", "ad_units", "ad_units_same_sku", "cs_messages", "cs_messages_replied_24h",
    "fulfillable_units", "mfn_fulfillable_units", "inbound_units", "reserved_units", "unsellable_units",
    "health_odr_orders", "health_odr_defects", "health_lsr_orders", "health_lsr_late",
    "health_vtr_shipments", "health_vtr_valid",
})


def is_money(key: str) -> bool:
    """True when the measure is a money amount and so needs a currency."""
    return BASE_MEASURES[key].unit == "money"
