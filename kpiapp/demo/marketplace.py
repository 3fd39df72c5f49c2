"""Demo marketplace data: real report files for the six demo stores, imported like uploads.

2026-10-01 .. 2026-11-26 (the demo's "today"), generated with a fixed random seed in the
formats our parsers read (docs/tracking.md, "Demo data"), imported with `start_import`
as the demo HR user (in-process, so the import list shows committed records with
provenance) and then the running Q4 cycle is recomputed once. Never run in production.
"""
import csv
import io
import json
import random
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app
from sqlalchemy import select, text

from kpiapp.extensions import db
from kpiapp.models import Cycle, ImportStatus, Scorecard, Store, User
from kpiapp.models.appraisal import CycleStatus, ItemKind

FIRST_DAY = date(2026, 10, 1)
DEMO_TODAY = date(2026, 11, 26)  # last day with data
SEED = 2026_10
CENT = Decimal("0.01")

# code -> (USD sales per day, local units per USD, average unit price in local currency)
STORE_MODEL = {
    "AMZ-US": (3800, Decimal("1"), 25),
    "AMZ-DE": (1700, Decimal("0.92"), 24),
    "AMZ-JP": (1300, Decimal("150"), 3600),
    "AMZ-UK": (1400, Decimal("0.79"), 21),
    "SHP-SG": (1400, Decimal("1.34"), 45),
    "TTS-UK": (1100, Decimal("0.79"), 29),
}
# the agency clients' stores we operate (kpiapp/demo/clients.py): 2026-08-01 .. 2026-10-31
CLIENT_STORE_MODEL = {
    "NHG-US": (2600, Decimal("1"), 32),
    "NHG-DE": (1500, Decimal("0.92"), 30),
    "QH-US": (2100, Decimal("1"), 19),
}
AMAZON = ("AMZ-US", "AMZ-DE", "AMZ-JP", "AMZ-UK")
MARKETPLACE_IDS = {"AMZ-US": "ATVPDKIKX0DER", "AMZ-DE": "A1PA6795UKMFR9", "AMZ-JP": "A1VC38T7YXB528",
                   "AMZ-UK": "A1F83G8C2ARO7P", "NHG-US": "ATVPDKIKX0DER", "NHG-DE": "A1PA6795UKMFR9",
                   "QH-US": "ATVPDKIKX0DER"}
CAMPAIGNS = ("Bottle - Auto", "Bottle - Exact", "Lunchbox - Brand defense")
SKUS = ["BTL-750-BLU", "BTL-750-RED", "BTL-750-BLK", "BTL-500-GRN", "LBX-2T-GRY", "LBX-3T-BLU",
        "MUG-350-WHT", "MUG-350-BLK", "LID-STD", "STRAW-SET"]
SKU_WEIGHTS = [0.2, 0.14, 0.12, 0.1, 0.1, 0.08, 0.08, 0.07, 0.06, 0.05]

# People without store ownership (ads, customer service, purchasing, team leads) get the
# stores they cover as the scope of their Q4 metric items, so their KPIs have data too.
COVERAGE = {
    "ads1": ["AMZ-US"], "ads2": ["AMZ-DE", "AMZ-UK"], "ads3": ["AMZ-JP"],
    "cs1": ["AMZ-US"], "cs2": ["AMZ-DE", "AMZ-UK"], "cs3": ["AMZ-JP"], "cs4": ["SHP-SG", "TTS-UK"],
    "buyer1": ["AMZ-US"], "buyer2": ["AMZ-DE", "AMZ-UK"], "buyer3": ["AMZ-JP"],
    "na.lead": ["AMZ-US"], "sea.lead": ["SHP-SG", "TTS-UK"],
}


def days(first=FIRST_DAY, last=DEMO_TODAY):
    d = first
    while d <= last:
        yield d
        d += timedelta(days=1)


def money(value, currency):
    return Decimal(value).quantize(Decimal(1) if currency == "JPY" else CENT, rounding=ROUND_HALF_UP)


# ---- the simulated business ------------------------------------------------------------------

@dataclass
class Day:
    sales: Decimal
    units: int
    order_items: int
    sessions: int
    page_views: int
    refunded: int
    feedback: int
    negative: int
    sku_units: dict = field(default_factory=dict)


def simulate(rng, model=None, first=FIRST_DAY, last=DEMO_TODAY):
    """{store code: {date: Day}} with weekly seasonality, a Black Friday bump and noise."""
    out = {}
    for code, (usd, fx, price) in (model or STORE_MODEL).items():
        currency_days = {}
        cvr = rng.uniform(0.095, 0.14)
        for d in days(first, last):
            black_friday = 0.9 if date(2026, 11, 20) <= d <= date(2026, 11, 26) else 0
            season = 1 + 0.15 * (d.weekday() >= 5) + black_friday
            trend = 1 + (d - first).days / 400
            local = Decimal(str(usd * season * trend * rng.uniform(0.8, 1.2))) * fx
            units = max(1, round(float(local) / price))
            sessions = max(units, round(units / (cvr * rng.uniform(0.85, 1.15))))
            sku_units = dict(zip(SKUS, split(units, rng)))
            currency_days[d] = Day(sales=money(local, currency(code)), units=units,
                                   order_items=max(1, round(units * 0.93)), sessions=sessions,
                                   page_views=round(sessions * rng.uniform(1.4, 1.8)),
                                   refunded=sum(rng.random() < 0.045 for _ in range(units)),
                                   feedback=(feedback := max(0, round(units * rng.uniform(0.03, 0.06)))),
                                   negative=sum(rng.random() < 0.012 for _ in range(feedback)),
                                   sku_units=sku_units)
        out[code] = currency_days
    return out


def split(units, rng):
    parts = [int(units * w * rng.uniform(0.8, 1.2)) for w in SKU_WEIGHTS]
    parts[0] += max(0, units - sum(parts))
    return parts


def currency(code):
    return {"AMZ-US": "USD", "AMZ-DE": "EUR", "AMZ-JP": "JPY", "AMZ-UK": "GBP", "SHP-SG": "SGD",
            "TTS-UK": "GBP", "NHG-US": "USD", "NHG-DE": "EUR", "QH-US": "USD", "LZD-MY": "MYR"}[code]


# ---- files -------------------------------------------------------------------------------

def month_ranges():
    first = FIRST_DAY
    while first <= DEMO_TODAY:
        nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
        yield first, min(nxt - timedelta(days=1), DEMO_TODAY)
        first = nxt


def sales_traffic_json(code, data, first, last):
    cur = currency(code)
    by_date = []
    for d in days(first, last):
        day = data[d]
        pct = round(day.units / day.sessions * 100, 2)
        by_date.append({"date": d.isoformat(), "salesByDate": {
            "orderedProductSales": {"amount": float(day.sales), "currencyCode": cur},
            "unitsOrdered": day.units, "totalOrderItems": day.order_items, "unitsRefunded": day.refunded,
            "refundRate": round(day.refunded / day.units * 100, 2)},
            "trafficByDate": {"sessions": day.sessions, "pageViews": day.page_views, "buyBoxPercentage": 97.5,
                              "unitSessionPercentage": pct, "feedbackReceived": day.feedback,
                              "negativeFeedbackReceived": day.negative}})
    doc = {"reportSpecification": {"reportType": "GET_SALES_AND_TRAFFIC_REPORT",
                                   "reportOptions": {"dateGranularity": "DAY", "asinGranularity": "CHILD"},
                                   "dataStartTime": first.isoformat(), "dataEndTime": last.isoformat(),
                                   "marketplaceIds": [MARKETPLACE_IDS[code]]},
           "salesAndTrafficByDate": by_date, "salesAndTrafficByAsin": []}
    return json.dumps(doc).encode()


ADS_EN = ["Date", "Campaign Name", "Currency", "Impressions", "Clicks", "Spend", "7 Day Total Orders (#)",
          "7 Day Total Sales "]
ADS_ZH = ["日期", "广告活动名称", "货币", "展示量", "点击量", "花费", "7天总订单数(#)", "7天总销售额"]


def ads_csv(code, data, first, last, rng, zh=False):
    cur = currency(code)
    _usd, fx, price = {**STORE_MODEL, **CLIENT_STORE_MODEL}[code]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(ADS_ZH if zh else ADS_EN)
    acos_level = rng.uniform(0.2, 0.3)
    for d in days(first, last):
        ad_sales_total = data[d].sales * Decimal(str(rng.uniform(0.3, 0.4)))
        for n, name in enumerate(CAMPAIGNS):
            share = Decimal(("0.5", "0.35", "0.15")[n])
            sales = money(ad_sales_total * share, cur)
            level = acos_level * rng.uniform(0.75, 1.3) * (0.5 if n == 2 else 1)
            spend = money(sales * Decimal(str(level)), cur)
            clicks = max(1, int(spend / (fx * Decimal(str(rng.uniform(0.6, 1.1))))))
            impressions = int(clicks / rng.uniform(0.0035, 0.0065))
            writer.writerow([d.isoformat(), name, cur, impressions, clicks, spend,
                             max(0, int(sales / price)), sales])
    return out.getvalue().encode("utf-8-sig" if zh else "utf-8")


INVENTORY_HEADER = ["sku", "fnsku", "asin", "product-name", "condition", "your-price", "mfn-listing-exists",
                    "mfn-fulfillable-quantity", "afn-listing-exists", "afn-warehouse-quantity",
                    "afn-fulfillable-quantity", "afn-unsellable-quantity", "afn-reserved-quantity",
                    "afn-total-quantity", "per-unit-volume", "afn-inbound-working-quantity",
                    "afn-inbound-shipped-quantity", "afn-inbound-receiving-quantity"]


def inventory_snapshots(data, rng):
    """{date: tsv bytes}: stock per SKU drawn down by sales, replenished by shipments (some late)."""
    stock, arrivals, out = {}, {}, {}
    for d in days():
        day = data[d]
        lines = ["\t".join(INVENTORY_HEADER)]
        for n, sku in enumerate(SKUS):
            demand = max(1, day.sku_units.get(sku, 0))
            if sku not in stock:
                stock[sku] = int(demand * rng.uniform(25, 60))
            if arrivals.get(sku, (None,))[0] == d:
                stock[sku] += arrivals.pop(sku)[1]
            stock[sku] = max(0, stock[sku] - day.sku_units.get(sku, 0))
            if stock[sku] < demand * 20 and sku not in arrivals:
                arrivals[sku] = (d + timedelta(days=rng.randint(8, 24)), int(demand * rng.uniform(35, 55)))
            inbound = arrivals[sku][1] if sku in arrivals else 0
            fulfillable = stock[sku]
            lines.append("\t".join(str(v) for v in [
                sku, f"X00DEMO{n:03d}", f"B0DEMO{n:04d}", sku.replace("-", " ").title(), "New", "25.99",
                "No", "", "Yes", fulfillable + 3, fulfillable, rng.randint(0, 3), rng.randint(0, 8),
                fulfillable + 3, "0.08",
                0, inbound, 0]))
        out[d] = ("\n".join(lines) + "\n").encode()
    return out


def orders_flat_file(data, first, last, rng):
    """AMZ-US all-orders report (tab-delimited, UTC purchase dates)."""
    lines = ["amazon-order-id\tpurchase-date\torder-status\titem-status\tsku\tquantity\tcurrency\titem-price"]
    n = 0
    for d in days(first, last):
        for sku, units in data[d].sku_units.items():
            while units > 0:
                qty = min(units, rng.choice((1, 1, 1, 2)))
                units -= qty
                n += 1
                status = "Cancelled" if rng.random() < 0.02 else "Shipped"
                local = datetime(d.year, d.month, d.day, rng.randint(8, 23), rng.randint(0, 59))
                stamp = local + timedelta(hours=8)  # Pacific time -> UTC
                lines.append(f"113-{d:%m%d}{n % 1000:03d}-{n:07d}\t{stamp.isoformat()}+00:00\t{status}\t{status}"
                             f"\t{sku}"
                             f"\t{qty}\tUSD\t{money(Decimal('24.99') * qty, 'USD')}")
    return ("\n".join(lines) + "\n").encode()


SETTLEMENT_HEADER = ("settlement-id settlement-start-date settlement-end-date deposit-date total-amount "
                     "currency "
                     "transaction-type order-id merchant-order-id adjustment-id shipment-id marketplace-name "
                     "amount-type amount-description amount fulfillment-id posted-date posted-date-time "
                     "order-item-code merchant-order-item-id merchant-adjustment-item-id sku "
                     "quantity-purchased "
                     "promotion-id").split()


def settlement_flat_file(data, first, last, rng):
    """AMZ-US settlement V2 flat file: a summary row and one row per amount component."""
    sid = "24561234567"
    rows, total = [], Decimal(0)

    def line(tx, order, atype, desc, amount, d, sku="", qty=""):
        nonlocal total
        total += amount
        cells = dict.fromkeys(SETTLEMENT_HEADER, "")
        cells.update({"settlement-id": sid, "transaction-type": tx, "order-id": order,
                      "marketplace-name": "Amazon.com", "amount-type": atype, "amount-description": desc,
                      "amount": f"{amount:.2f}", "fulfillment-id": "AFN", "posted-date": d.isoformat(),
                      "posted-date-time": f"{d.isoformat()} 20:00:00 UTC", "sku": sku,
                      "quantity-purchased": str(qty)})
        rows.append("\t".join(cells[h] for h in SETTLEMENT_HEADER))

    for d in days(first, last):
        for n, (sku, units) in enumerate(data[d].sku_units.items()):
            if not units:
                continue
            order = f"114-{d:%m%d}{n:03d}-0000{n:03d}"
            price = money(Decimal("24.99") * units, "USD")
            line("Order", order, "ItemPrice", "Principal", price, d, sku, units)
            line("Order", order, "ItemPrice", "Tax", money(price * Decimal("0.07"), "USD"), d, sku, units)
            commission = -money(price * Decimal("0.15"), "USD")
            line("Order", order, "ItemFees", "Commission", commission, d, sku, units)
            fba_fee = -money(Decimal("5.40") * units, "USD")
            line("Order", order, "ItemFees", "FBAPerUnitFulfillmentFee", fba_fee, d, sku, units)
        if data[d].refunded:
            line("Refund", f"114-{d:%m%d}999-0000999", "ItemPrice", "Principal",
                 -money(Decimal("24.99") * data[d].refunded, "USD"), d, SKUS[0], data[d].refunded)
    line("other-transaction", "", "other-transaction", "Storage Fee", Decimal("-212.40"), last)
    summary = dict.fromkeys(SETTLEMENT_HEADER, "")
    summary.update({"settlement-id": sid, "settlement-start-date": f"{first.isoformat()} 08:00:00 UTC",
                    "settlement-end-date": f"{(last + timedelta(days=1)).isoformat()} 08:00:00 UTC",
                    "deposit-date": f"{(last + timedelta(days=3)).isoformat()} 08:00:00 UTC",
                    "total-amount": f"{total:.2f}", "currency": "USD"})
    return ("\n".join(["\t".join(SETTLEMENT_HEADER), "\t".join(summary[h] for h in SETTLEMENT_HEADER)] + rows)
            + "\n").encode()


SHOPEE_HEADER = [
    "Order ID", "Order Status", "Cancel reason", "Return / Refund Status", "Tracking Number*",
    "Shipping Option",
    "Order Creation Date", "Order Paid Time", "Parent SKU Reference No.", "Product Name", "SKU Reference No.",
    "Variation Name", "Original Price", "Deal Price", "Quantity", "Returned quantity", "Product Subtotal",
    "Seller Voucher", "Shopee Voucher", "Shopee Coins Offset", "Service Fee", "Grand Total",
    "Username (Buyer)"]


def shopee_rows(data, rng):
    """The SHP-SG demo orders, one list per item row in SHOPEE_HEADER order."""
    rows, n = [], 0
    for d in days():
        for sku, units in data[d].sku_units.items():
            while units > 0:
                qty = min(units, rng.choice((1, 2, 2, 3)))
                units -= qty
                n += 1
                price = Decimal(STORE_MODEL["SHP-SG"][2]) - Decimal("0.10")
                subtotal = price * qty
                status = "Cancelled" if rng.random() < 0.03 else "Completed"
                returned = 1 if status == "Completed" and rng.random() < 0.04 else 0
                created = f"{d.isoformat()} {rng.randint(9, 23):02d}:{rng.randint(0, 59):02d}"
                voucher = "2.00" if rng.random() < 0.3 else "0"
                rows.append([f"26{d:%m%d}SG{n:06d}", status, "", "", f"SPXSG{n:08d}", "Standard Delivery",
                             created, created, sku.split("-")[0], sku.replace("-", " ").title(), sku, "",
                             f"{price + 6}", f"{price}", qty, returned, f"{subtotal}", voucher, "0", "0",
                             f"{(subtotal * Decimal('0.06')).quantize(CENT)}", f"{subtotal}", f"buyer{n}"])
    return rows


def shopee_xlsx(rows):
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("orders")
    ws.append(SHOPEE_HEADER)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


TIKTOK_HEADER = ["Order ID", "Order Status", "Order Substatus", "Cancelation/Return Type",
                 "Normal or Pre-order",
                 "SKU ID", "Seller SKU", "Product Name", "Variation", "Quantity", "Sku Quantity of return",
                 "SKU Unit Original Price", "SKU Subtotal Before Discount", "SKU Platform Discount",
                 "SKU Seller Discount", "SKU Subtotal After Discount", "Order Amount", "Order Refund Amount",
                 "Created Time"]


TIKTOK_DESCRIPTION = ["Platform unique order ID.", "Order status", "", "", "", "Platform SKU ID", "Seller SKU",
                      "Product name", "Variation", "SKU sold quantity in the order.", "", "", "", "", "",
                      "", "", "", "Order created time"]


def tiktok_rows(data, rng):
    """The TTS-UK demo orders, one list per SKU row in TIKTOK_HEADER order."""
    rows, n = [], 0
    for d in days():
        for i, (sku, units) in enumerate(data[d].sku_units.items()):
            while units > 0:
                qty = min(units, rng.choice((1, 1, 2)))
                units -= qty
                n += 1
                price = Decimal(STORE_MODEL["TTS-UK"][2]) - Decimal("0.01")
                before = price * qty
                seller = Decimal("1.00") if rng.random() < 0.3 else Decimal(0)
                after = before - seller
                returned = 1 if rng.random() < 0.05 else 0
                status = "Cancelled" if rng.random() < 0.03 else "Completed"
                stamp = datetime(d.year, d.month, d.day, rng.randint(8, 22), rng.randint(0, 59),
                                 rng.randint(0, 59))
                rows.append([f"5771{n:014d}", status, "", "Cancel" if status == "Cancelled" else "",
                             "Normal", f"17293{i:05d}", sku, sku.replace("-", " ").title(), "", qty,
                             returned,
                             f"{price}", f"{before}", "0", f"{seller}", f"{after}", f"{after}",
                             f"{price * returned}", stamp.strftime("%m/%d/%Y %I:%M:%S %p")])
    return rows


def tiktok_csv(rows):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(TIKTOK_HEADER)
    writer.writerow(TIKTOK_DESCRIPTION)
    writer.writerows(rows)
    return out.getvalue().encode()


# LZD-MY has no upload: it is filled only by pulls from the stand-in (kpiapp/connectors/fake/lazada.py).
# Its own random stream, so adding it changes none of the other stores' demo numbers.
LAZADA_MODEL = {"LZD-MY": (900, Decimal("4.7"), 95)}
LAZADA_SEED = SEED + 15


def lazada_rows():
    """The LZD-MY demo order items (one per unit): order number, item id, sku, local created time,
    unit price, seller discount, status."""
    rng = random.Random(LAZADA_SEED)
    data = simulate(rng, LAZADA_MODEL)["LZD-MY"]
    rows, n = [], 0
    for d in days():
        for sku, units in data[d].sku_units.items():
            while units > 0:
                qty = min(units, rng.choice((1, 1, 2)))
                units -= qty
                n += 1
                created = datetime(d.year, d.month, d.day, rng.randint(8, 23), rng.randint(0, 59),
                                   rng.randint(0, 59))
                status = "canceled" if rng.random() < 0.03 else ("returned" if rng.random() < 0.03 else "delivered")
                discount = Decimal("5.00") if rng.random() < 0.25 else Decimal("0.00")
                price = Decimal(LAZADA_MODEL["LZD-MY"][2]) - Decimal("0.10")
                for unit in range(qty):
                    rows.append((f"5{d:%y%m%d}{n:08d}", int(f"7{d:%y%m%d}{n:08d}{unit}"), sku, created, price,
                                 discount, status))
    return rows


def generic_csv(data, rng):
    """ERP / helpdesk export in the generic template: customer service, feedback, costs, traffic."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["date", "store", "sku", "measure", "value", "currency"])
    for code in STORE_MODEL:
        cur = currency(code)
        reply = rng.uniform(0.9, 0.99)
        for d in days():
            day = data[code][d]
            messages = max(1, round(day.units * rng.uniform(0.04, 0.08)))
            rows = [("cs_messages", messages, ""),
                    ("cs_messages_replied_24h",
                     min(messages, round(messages * reply * rng.uniform(0.97, 1.03))), ""),
                    ("cogs", money(day.sales * Decimal(str(rng.uniform(0.5, 0.57))), cur), cur),
                    ("inbound_freight", money(day.sales * Decimal(str(rng.uniform(0.05, 0.08))), cur), cur)]
            if code in AMAZON:
                refunds = money(day.sales * Decimal(day.refunded) / Decimal(day.units), cur)
                rows.append(("refund_amount", refunds, cur))
            else:  # Shopee / TikTok traffic and shop ratings from the ERP
                rows += [("sessions", day.sessions, ""), ("feedback_orders", day.feedback, ""),
                         ("negative_feedback_orders", day.negative, "")]
            for measure, value, money_cur in rows:
                writer.writerow([d.isoformat(), code, "", measure, value, money_cur])
    return out.getvalue().encode()


def fx_csv(rng):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["date", "currency", "rate"])
    levels = {"EUR": 1.087, "JPY": 0.00667, "GBP": 1.266, "SGD": 0.746}
    for d in days():
        for cur, level in levels.items():
            levels[cur] = level * rng.uniform(0.997, 1.003)
            writer.writerow([d.isoformat(), cur, f"{levels[cur]:.8f}"])
    return out.getvalue().encode()


def fx_myr_csv():
    """MYR rates for LZD-MY, from their own random stream (the other rates stay as they were)."""
    rng, level = random.Random(LAZADA_SEED), 0.224
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["date", "currency", "rate"])
    for d in days():
        level *= rng.uniform(0.997, 1.003)
        writer.writerow([d.isoformat(), "MYR", f"{level:.8f}"])
    return out.getvalue().encode()


# ---- seeding -------------------------------------------------------------------------------

@dataclass
class Upload:
    store: str | None
    filename: str
    data: bytes
    options: dict = field(default_factory=dict)


def demo_uploads(orders=None):
    """Every demo file in import order (FX first so money converts from the first recompute).

    orders: a dict that receives the Shopee and TikTok order rows (the stand-in serves them).
    """
    orders = {} if orders is None else orders
    rng = random.Random(SEED)
    data = simulate(rng)
    uploads = [Upload(None, "fx_rates_2026-10-01_2026-11-26.csv", fx_csv(rng), {"kind": "fx"}),
               Upload(None, "fx_rates_MYR_2026-10-01_2026-11-26.csv", fx_myr_csv(), {"kind": "fx"})]
    for code in AMAZON:
        for first, last in month_ranges():
            tag = f"{first:%Y-%m}"
            uploads.append(Upload(code, f"sales_traffic_{code}_{tag}.json",
                                  sales_traffic_json(code, data[code], first, last)))
            uploads.append(Upload(code, f"sp_campaigns_{code}_{tag}.csv",
                                  ads_csv(code, data[code], first, last, rng, zh=code == "AMZ-DE")))
    uploads.append(Upload("AMZ-US", "all_orders_AMZ-US_2026-11-20_2026-11-26.txt",
                          orders_flat_file(data["AMZ-US"], date(2026, 11, 20), DEMO_TODAY, rng)))
    uploads.append(Upload("AMZ-US", "settlement_24561234567.txt",
                          settlement_flat_file(data["AMZ-US"], date(2026, 11, 1), date(2026, 11, 14), rng)))
    orders["SHP-SG"] = shopee_rows(data["SHP-SG"], rng)
    uploads.append(Upload("SHP-SG", "Order.all.20261001_20261126.xlsx", shopee_xlsx(orders["SHP-SG"]),
                          {"parser": "shopee_orders"}))
    orders["TTS-UK"] = tiktok_rows(data["TTS-UK"], rng)
    uploads.append(Upload("TTS-UK", "All order-2026-11-26.csv", tiktok_csv(orders["TTS-UK"]),
                          {"parser": "tiktok_orders"}))
    uploads.append(Upload(None, "erp_export_2026-10-01_2026-11-26.csv", generic_csv(data, rng)))
    for code in AMAZON:
        for d, snapshot in inventory_snapshots(data[code], rng).items():
            uploads.append(Upload(code, f"fba_myi_{code}_{d:%Y%m%d}.txt", snapshot,
                                  {"parser": "amazon_inventory", "date_from": d, "date_to": d}))
    return uploads


@contextmanager
def in_process_jobs():
    """Seeding imports synchronously even when REDIS_URL is set (the demo needs the results now)."""
    config = current_app.config
    saved = config.get("REDIS_URL")
    config["REDIS_URL"] = None
    try:
        yield
    finally:
        config["REDIS_URL"] = saved


def seed_marketplace_demo(today=DEMO_TODAY):
    """Import the demo files as the HR user and recompute the running cycles.

    Call after seed_appraisal_demo(). Commits (every import commits on its own).
    Returns {"imports", "committed", "items"}.
    """
    from kpiapp.imports.services import start_import
    from kpiapp.tracking import alerts
    from kpiapp.tracking import services as tracking

    db.session.commit()  # the org and appraisal demo must be visible to the import jobs
    hr = db.session.execute(select(User).where(User.email.like("hr@%"))).scalar_one()
    codes = {s.code: s.id for s in db.session.execute(select(Store)).scalars()}
    records, timings, started = [], [], time.perf_counter()
    with in_process_jobs(), tracking.suspended():
        for upload in demo_uploads():
            record = start_import(upload.data, upload.filename, codes.get(upload.store), hr, **upload.options)
            records.append((record.id, record.status, upload.filename, record.error))
            timings.append((time.perf_counter() - started, upload.filename))
            started = time.perf_counter()
    current_app.logger.debug("demo imports, slowest: %s", sorted(timings)[-5:])
    failed = [r for r in records if r[1] != ImportStatus.committed]
    if failed:
        raise RuntimeError(f"demo imports failed: {failed[:3]}")
    assign_coverage()
    db.session.commit()
    if db.engine.dialect.name == "postgresql":  # fresh bulk load: give the planner statistics now
        db.session.execute(text("ANALYZE metric_fact"))
        db.session.commit()
    items = 0
    cycles = db.session.execute(select(Cycle.id).where(Cycle.status == CycleStatus.running)).scalars().all()
    for cycle_id in cycles:
        items += tracking.recompute_cycle(cycle_id, today=today)
    at_risk = alerts.notify_running(today)  # what the recompute job does after the imports
    db.session.commit()
    return {"imports": len(records), "committed": len(records) - len(failed), "items": items,
            "at_risk": at_risk}


def assign_coverage():
    """Scope for metric items of people who own no store (demo only, see COVERAGE)."""
    stores = {s.code: s.id for s in db.session.execute(select(Store)).scalars()}
    people = {u.email.split("@")[0]: u.id for u in db.session.execute(select(User)).scalars()}
    wanted = {people[login]: [{"store_id": stores[c], "share_pct": "100"} for c in codes]
              for login, codes in COVERAGE.items() if login in people}
    cards = db.session.execute(
        select(Scorecard).join(Cycle, Scorecard.cycle_id == Cycle.id)
        .where(Cycle.status == CycleStatus.running, Scorecard.state != "locked",
               Scorecard.person_id.in_(list(wanted)))).scalars()
    for card in cards:
        for item in card.items:
            if item.kind == ItemKind.metric and not item.scope:
                item.scope = wanted[card.person_id]
    db.session.flush()
