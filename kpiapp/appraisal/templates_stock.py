"""Stock KPI templates (KPI包) that HR can copy and adapt.

Targets are starting points for a mid-sized seller; HR edits them per position and
each person's targets are adjusted during drafting.
"""
from kpiapp.appraisal import services


def linear(threshold, target, stretch, cap="120"):
    rule = {"kind": "linear", "cap": cap}
    return {"threshold": threshold, "target": target, "stretch": stretch, "rule": rule}


def manual(scale="5"):
    return {"kind": "manual", "rule": {"kind": "manual", "scale_max": scale}}


def metric(key, name, weight, tag="result", **rule):
    return {"kind": "metric", "metric_key": key, "name": name, "weight": weight, "tag": tag, **rule}


def behaviour(name, weight, description, tag="process", scale="5"):
    return {"name": name, "weight": weight, "description": description, "tag": tag, **manual(scale)}


STOCK_TEMPLATES = [
    {
        "code": "amazon-ops", "name": "Amazon operations specialist / 亚马逊运营",
        "position": "Amazon operations specialist",
        "description": "Store P&L owner: sales, ad efficiency, margin, conversion and stock health.",
        "items": [
            metric("gmv", "GMV / 销售额", "30", **linear("80000", "100000", "125000")),
            metric("acos", "ACoS", "15", **linear("0.35", "0.25", "0.18")),
            metric("gross_margin", "Gross margin / 毛利率", "15", **linear("0.15", "0.25", "0.32")),
            metric("cvr", "Conversion rate / 转化率", "10", **linear("0.08", "0.12", "0.15")),
            metric("fba_in_stock_rate", "FBA in-stock rate / 在库率", "10",
                   **linear("0.85", "0.95", "0.99", "110")),
            metric("refund_rate", "Refund rate / 退款率", "5",
                   target="0.05", rule={"kind": "pass_fail", "direction": "lower_better"}),
            behaviour("Listing optimisation / Listing 优化", "15",
                      "Titles, bullets, A+ and images of the top ASINs reviewed monthly; "
                      "manager rates 1-5 on the audit checklist."),
        ],
    },
    {
        "code": "ads-specialist", "name": "Advertising specialist / 广告专员",
        "position": "Advertising specialist",
        "description": "Sponsored Products/Brands/Display efficiency and scale.",
        "items": [
            metric("acos", "ACoS", "30", **linear("0.35", "0.25", "0.18")),
            metric("tacos", "TACoS", "20", **linear("0.15", "0.10", "0.07")),
            metric("ad_sales", "Ad sales / 广告销售额", "20", **linear("30000", "45000", "60000")),
            metric("ctr", "CTR / 点击率", "10", **linear("0.003", "0.005", "0.008")),
            behaviour("Campaign hygiene / 广告结构与否词", "20",
                      "Campaign structure, negative keywords and bid rules kept up to date; "
                      "weekly search-term review documented."),
        ],
    },
    {
        "code": "customer-service", "name": "Customer service agent / 客服专员",
        "position": "Customer service agent",
        "description": "Fast, correct answers that protect account health.",
        "items": [
            metric("cs_response_rate_24h", "Response within 24 h / 24小时回复率", "35",
                   **linear("0.85", "0.95", "0.99", "110")),
            metric("negative_feedback_rate", "Negative feedback rate / 差评率", "25",
                   **linear("0.02", "0.01", "0.005")),
            metric("refund_rate", "Refund rate / 退款率", "10",
                   target="0.05", rule={"kind": "pass_fail", "direction": "lower_better"}),
            behaviour("Ticket quality audit / 工单质检", "20",
                      "Ten random tickets a month scored on tone, accuracy and policy compliance.",
                      tag="result"),
            behaviour("Knowledge base / 知识库贡献", "10",
                      "New or updated macros and FAQ entries shared with the team."),
        ],
    },
    {
        "code": "purchasing", "name": "Purchasing & supply chain / 采购与供应链",
        "position": "Purchasing specialist",
        "description": "Stock available without tying up cash; reliable suppliers.",
        "items": [
            metric("fba_in_stock_rate", "FBA in-stock rate / 在库率", "35",
                   **linear("0.85", "0.95", "0.99", "110")),
            metric("days_of_supply", "Days of supply / 库存周转天数", "25", rule={"kind": "bands", "bands": [
                {"lower": None, "upper": "20", "points": "40"},
                {"lower": "20", "upper": "30", "points": "80"},
                {"lower": "30", "upper": "60", "points": "100"},
                {"lower": "60", "upper": "90", "points": "70"},
                {"lower": "90", "upper": None, "points": "30"},
            ]}),
            metric("gross_margin", "Gross margin / 毛利率", "15", **linear("0.15", "0.25", "0.32")),
            behaviour("Supplier delivery & quality / 供应商交期与质量", "25",
                      "On-time delivery, defect rate and landed-cost negotiation across key suppliers.",
                      tag="result"),
        ],
    },
    {
        "code": "new-hire-growth", "name": "New-hire growth plan / 新人成长计划",
        "position": None,
        "description": "First 60 days: 7/30/60-day milestones, scored by the manager.",
        "items": [
            behaviour("Day 7: onboarding / 第7天：入职融入", "20",
                      "Systems access, product and policy training done; shadowed a senior "
                      "colleague for a week."),
            behaviour("Day 30: daily operations / 第30天：日常运营", "30",
                      "Runs one store's daily checklist (orders, stock, reviews, ads) without help."),
            behaviour("Day 60: ownership / 第60天：独立负责", "30",
                      "Owns listing optimisation for 10 ASINs and launched a first ad campaign."),
            behaviour("Collaboration / 协作与文化", "20",
                      "Asks early, documents what was learnt, helps the next new hire."),
        ],
    },
]


def seed_stock_templates(actor, positions_by_title):
    """Create the stock templates and assign them to positions that exist; returns {code: template}."""
    created = {}
    for spec in STOCK_TEMPLATES:
        position = positions_by_title.get(spec["position"]) if spec["position"] else None
        created[spec["code"]] = services.create_template(
            actor, code=spec["code"], name=spec["name"], description=spec["description"],
            items=spec["items"], position_id=position.id if position else None)
    return created
