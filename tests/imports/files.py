"""Builders for the report files the import tests upload (all data made up)."""
from kpiapp.models import Role
from tests.factories import StoreFactory, UserFactory

BR_HEADER = ('"(Parent) ASIN","(Child) ASIN","Title","Sessions - Total","Page Views - Total",'
             '"Units Ordered","Ordered Product Sales","Total Order Items"')


def business_report(rows):
    """rows: (child_asin, sessions, units, sales_text) -> Business Report CSV bytes."""
    lines = [BR_HEADER] + [
        f'"B0PARENT01","{asin}","Bottle","{sessions}","{sessions * 2}","{units}","{sales}","{units}"'
        for asin, sessions, units, sales in rows]
    return ("\n".join(lines) + "\n").encode()


def ads_report(rows, currency="USD"):
    """rows: (date, campaign, impressions, clicks, spend, sales) -> Ads console CSV bytes."""
    lines = ["Date,Campaign Name,Currency,Impressions,Clicks,Spend,7 Day Total Sales "]
    lines += [f"{d},{c},{currency},{i},{k},{s},{v}" for d, c, i, k, s, v in rows]
    return ("\n".join(lines) + "\n").encode()


def orders_report(rows):
    """rows: (order_id, purchase_date, status, sku, qty, price) -> all-orders flat file bytes."""
    lines = ["amazon-order-id\tpurchase-date\torder-status\titem-status\tsku\tquantity\tcurrency\titem-price"]
    lines += [f"{o}\t{d}T18:00:00+00:00\t{s}\t{s}\t{sku}\t{q}\tUSD\t{p}" for o, d, s, sku, q, p in rows]
    return ("\n".join(lines) + "\n").encode()


def fx_file(rows):
    return ("date,currency,rate\n" + "".join(f"{d},{c},{r}\n" for d, c, r in rows)).encode()


def generic_file(rows):
    """rows: (date, store, sku, measure, value, currency)."""
    return ("date,store,sku,measure,value,currency\n" + "".join(",".join(r) + "\n" for r in rows)).encode()


def hr_user():
    return UserFactory(role=Role.hr)


def store(**kwargs):
    return StoreFactory(**kwargs)
