"""Peak memory of parsing one large upload (issue 10: bounded memory for large files).

    .venv/bin/python bench/import_memory_bench.py [--lines 400000] [--import | --xlsx]

Generates an Amazon settlement flat file and a Business Report of about --lines lines each,
then parses each in a fresh child process and prints, per file: its size, the child's RSS
before parsing (interpreter, imports and the file's bytes), its peak RSS (ru_maxrss) after
parse_file, the growth, the facts and the parse's CPU time. The file's own bytes are in the
baseline: an upload arrives, and is stored, as bytes. With --import the child runs the whole
import (start_import: store, parse, write, commit) into a scratch database instead; with
--xlsx it parses an Ads console workbook of --lines rows (streamed above XLSX_STREAM_BYTES).
An import holds at most IMPORT_STAGE_FACTS facts (environment; 0: all of them, as before
fact_stage) and stages the rest in the database; parse_file alone keeps them all.
"""
import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HEAD = ("settlement-id\tsettlement-start-date\tsettlement-end-date\tdeposit-date\ttotal-amount\tcurrency\t"
        "transaction-type\torder-id\tmerchant-order-id\tadjustment-id\tshipment-id\tmarketplace-name\t"
        "amount-type\tamount-description\tamount\tfulfillment-id\tposted-date\tposted-date-time\t"
        "order-item-code\tmerchant-order-item-id\tmerchant-adjustment-item-id\tsku\tquantity-purchased\t"
        "promotion-id")
PARTS = (("ItemPrice", "Principal", 1999), ("ItemPrice", "Shipping", 100),
         ("ItemFees", "FBAPerUnitFulfillmentFee", -310), ("ItemFees", "Commission", -300))


def settlement(lines):
    """A balanced V2 settlement file: one summary row and `lines` amount lines over 12 days."""
    body, total = [], 0
    for n in range(lines):
        kind, what, cents = PARTS[n % 4]
        order, day = n // 4, 1 + (n // 4) % 12
        total += cents
        body.append(f"1890654321\t\t\t\t\t\tOrder\t112-{order % 10**7:07d}-{order // 10**7:07d}\t\t\t\t"
                    f"Amazon.com\t{kind}\t{what}\t{cents / 100:.2f}\tAFN\t2025-03-{day:02d}\t"
                    f"2025-03-{day:02d} 14:23:00 UTC\t\t\t\tSKU-{order % 5000:05d}\t1\t")
    summary = (f"1890654321\t2025-03-01 07:00:00 UTC\t2025-03-15 07:00:00 UTC\t2025-03-17 07:00:00 UTC\t"
               f"{total / 100:.2f}\tUSD" + "\t" * 18)
    return "\n".join([HEAD, summary] + body) + "\n"


def business_report(lines):
    out = ['"(Parent) ASIN","(Child) ASIN","Title","Sessions - Total","Page Views - Total",'
           '"Units Ordered","Ordered Product Sales","Total Order Items"']
    for n in range(lines):
        units = n % 7
        out.append(f'"B0PARENT00","B{n:09d}","Item {n}","{100 + n % 50}","{180 + n % 90}","{units}",'
                   f'"${units * 19.99:,.2f}","{units}"')
    return "\n".join(out) + "\n"


def ads_workbook(lines):
    """An Ads console workbook (XLSX bytes) of `lines` rows, 97 campaigns over 30 days: rows on the
    same day and campaign are summed, so the facts stay few and the growth is the reading."""
    import io

    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Sponsored Products")
    ws.append(["Date", "Campaign Name", "Currency", "Impressions", "Clicks", "Spend", "7 Day Total Sales"])
    for n in range(lines):
        ws.append([f"2025-03-{1 + n % 30:02d}", f"Campaign {n % 97}", "USD", 1000 + n % 500, 10 + n % 40,
                   (n % 900) / 10, (n % 2000) / 10])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def rss_kib():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def child(path, kind):
    """Runs in the child: parse one file and print 'baseline peak facts seconds'."""
    from datetime import date

    from kpiapp.parsers import parse_file

    data = Path(path).read_bytes()
    if kind.startswith("import "):
        return import_child(data, kind.split()[1])
    before = rss_kib()
    started = time.process_time()
    if kind == "ads_xlsx":
        result = parse_file(data, "ads.xlsx", parser="amazon_ads", currency="USD")
    elif kind == "settlement":
        result = parse_file(data, "settlement.txt", parser="amazon_settlement", tz="America/Los_Angeles")
    else:
        result = parse_file(data, "br.csv", parser="amazon_business_report", date_from=date(2025, 3, 1),
                            date_to=date(2025, 3, 1))
    seconds = time.process_time() - started  # CPU seconds: a busy shared machine disturbs them least
    assert not result.errors, result.errors[:3]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(before, peak, len(result.facts), f"{seconds:.1f}")


def import_child(data, kind):
    """The whole import (store the upload, parse, write, commit) on a scratch database."""
    from datetime import date

    sys.path.insert(0, str(ROOT / "bench"))
    from scratch import scratch_app

    from kpiapp.extensions import db
    from kpiapp.imports import services
    from kpiapp.models import Store

    with scratch_app("memory", MAX_CONTENT_LENGTH=500 * 2**20):
        store = Store(code="MEM", name="Memory", platform="amazon", marketplace="US", currency="USD",
                      timezone="America/Los_Angeles")
        db.session.add(store)
        db.session.commit()
        before = rss_kib()
        started = time.process_time()
        if kind == "settlement":
            record = services.start_import(data, "settlement.txt", store.id, None, parser="amazon_settlement")
        else:
            record = services.start_import(data, "br.csv", store.id, None, parser="amazon_business_report",
                                           date_from=date(2025, 3, 1), date_to=date(2025, 3, 1))
        seconds = time.process_time() - started
        assert record.status == "committed", (record.error, (record.errors or [])[:3])
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(before, peak, record.facts_written, f"{seconds:.1f}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=400_000)
    parser.add_argument("--child", nargs=2)
    parser.add_argument("--import", dest="whole", action="store_true",
                        help="the whole import into a scratch database (SQLite, or PostgreSQL with "
                             "DATABASE_URL), not parse_file alone")
    parser.add_argument("--xlsx", action="store_true", help="an Ads console workbook of --lines rows instead")
    args = parser.parse_args()
    if args.child:
        return child(*args.child)
    print(f"load average: {os.getloadavg()}; IMPORT_STAGE_FACTS="
          f"{os.environ.get('IMPORT_STAGE_FACTS', '50000 (default)')} (0: the facts stay in memory)")
    with tempfile.TemporaryDirectory() as tmp:
        kinds = (("ads_xlsx", ads_workbook),) if args.xlsx else (
            ("settlement", settlement), ("business_report", business_report))
        for kind, make in kinds:
            path = Path(tmp, kind)
            content = make(args.lines)
            path.write_bytes(content if isinstance(content, bytes) else content.encode())
            task = f"import {kind}" if args.whole else kind
            out = subprocess.run([sys.executable, __file__, "--child", str(path), task], check=True,
                                 capture_output=True, text=True, cwd=ROOT).stdout.split()[-4:]
            before, peak, facts, seconds = int(out[0]), int(out[1]), int(out[2]), out[3]
            size = path.stat().st_size / 2**20
            print(f"{kind:16} {args.lines:,} lines, {size:.0f} MB: RSS before parse {before / 1024:.0f} MB, "
                  f"peak {peak / 1024:.0f} MB, growth {(peak - before) / 1024:.0f} MB "
                  f"({(peak - before) / 1024 / size:.1f}x the file), {facts:,} facts, {seconds} CPU s")
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
