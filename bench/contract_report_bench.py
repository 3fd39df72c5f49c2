"""Contract report timings: compute a report from the facts, and render + sign its PDF.

    .venv/bin/python bench/contract_report_bench.py [--stores 2] [--skus 50] [--repeat 9]
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/<db> .venv/bin/python bench/contract_report_bench.py

Builds a scratch database with one contract (tests/contracts/factories.make_contract: GMV and
ACoS clauses, fee terms) over --stores stores, each with a month of daily facts for --skus
SKUs (ordered sales, ad spend, ad sales per SKU and day), then:
  1. generates the August report once, then recomputes it (refresh_report) --repeat times:
     the median is the time to compute a report from the facts;
  2. renders and signs its PDF (documents.render_html + render_and_sign) --repeat times,
     en and zh_CN alternating, as accept_report does.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("KPIAPP_ENV", "test")

from bench.scratch import scratch_app  # noqa: E402

AUG = date(2026, 8, 1)


def build(stores, skus):
    from kpiapp.extensions import db
    from kpiapp.models import ImportRecord, MetricFact
    from tests.contracts.factories import make_contract

    setup = make_contract()
    while len(setup.stores) < stores:  # make_contract brings two; more join version 1
        from kpiapp.models import ContractVersionStore
        from tests.factories import StoreFactory

        store = StoreFactory(client_company_id=setup.company.id, currency="USD")
        db.session.flush()
        setup.version.stores.append(ContractVersionStore(store_id=store.id))
        setup.stores.append(store)
    db.session.commit()
    rows = 0
    for store in setup.stores[:stores]:
        record = ImportRecord(filename=f"{store.code}.csv", sha256=f"{store.id:064d}", size=1,
                              dedupe_key=f"bench-{store.id}", status="committed")
        db.session.add(record)
        db.session.flush()
        facts = []
        for day in range(31):
            when = AUG + timedelta(days=day)
            for sku in range(skus):
                for family, measure, value in (("amazon_orders", "ordered_sales", 60), ("amazon_ads", "ad_spend", 7),
                                               ("amazon_ads", "ad_sales", 30)):
                    facts.append(MetricFact(store_id=store.id, family=family, business_date=when, period_end=when,
                                            sku=f"SKU-{sku:04d}", ref="", measure=measure, value=Decimal(value),
                                            currency="USD", import_id=record.id))
        db.session.add_all(facts)
        rows += len(facts)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":  # as the importer does (analyze_for_facts)
        from sqlalchemy import text

        db.session.execute(text("ANALYZE metric_fact"))
        db.session.commit()
    return setup, rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--stores", type=int, default=2)
    parser.add_argument("--skus", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    with scratch_app("rep_contract"):
        run(args)


def timed(function, repeat):
    wall, cpu = [], []
    for n in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        function(n)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return wall, cpu


def line(label, wall, cpu):
    return (f"{label}: median {statistics.median(wall):.3f} s (min {min(wall):.3f}, max {max(wall):.3f}); "
            f"CPU median {statistics.median(cpu):.3f} s")


def run(args):
    from kpiapp.contracts import documents, reports
    from kpiapp.extensions import db
    from kpiapp.reports import services

    started = time.perf_counter()
    setup, rows = build(args.stores, args.skus)
    print(f"database: {db.engine.dialect.name}; {args.stores} stores x {args.skus} SKUs x 31 days: "
          f"{rows} facts, built in {time.perf_counter() - started:.1f} s")

    t0 = time.perf_counter()
    report = reports.generate_report(setup.contract, AUG, setup.lead)
    db.session.commit()
    print(f"generate (first, cold): {time.perf_counter() - t0:.3f} s; score {reports.current_revision(report).score}, "
          f"fee {reports.current_revision(report).fee_total}")

    def refresh(_n):
        reports.refresh_report(report, setup.lead)
        db.session.commit()

    print(line(f"compute a report from the facts (refresh, {args.repeat} runs)", *timed(refresh, args.repeat)))

    services.signing_material()  # the demo CA is generated once, on first use
    sizes = []

    def sign(n):
        lang = "zh_CN" if n % 2 else "en"
        document_id = services.new_document_id()
        html = documents.render_html(report, lang, document_id)
        signed, _material = services.render_and_sign(html, document_id, documents.SIGN_REASON)
        sizes.append(len(signed))

    print(line(f"render + sign the PDF ({args.repeat} runs, en/zh alternating)", *timed(sign, args.repeat))
          + f"; {min(sizes) // 1024}-{max(sizes) // 1024} KiB")
    print(f"load average during the run: {', '.join(f'{v:.1f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
