"""Give some stores of a seed-scale database a year of daily ordered sales, so their items follow
a season profile (docs/pace.md, "Elapsed share: days or a seasonality profile"). The seeds have
none: without this, no item of the team dashboard takes the seasonal path.

    # ONLY on a copy you own (it writes facts):
    createdb -h 127.0.0.1 -U postgres -T <seeded db> mycopy
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/mycopy KPIAPP_ENV=dev \\
        .venv/bin/python bench/season_history.py [--share 0.2] [--cycle 1]

Every `1/share`-th store (by id) gets one fact a day of `ordered_sales` (its seed family, SKU
"S0", its own import) for the 364 days before the cycle's period, the weeks of October and
November weighing three times the rest, written as an import writes them (month partitions
first, then the day sums of the slices: `fact_day.refresh_slices`). Prints the stores given a
history, the facts written, the stores `risk.profiled_stores` finds and the seasonal items (every
store of the scope has a history) among the cycle's metric items.
"""
import argparse
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select  # noqa: E402


def main():
    from kpiapp.app import create_app
    from kpiapp.demo.scale import FAMILY
    from kpiapp.extensions import db
    from kpiapp.metrics import fact_day, partitions
    from kpiapp.models import Cycle, ImportRecord, MetricFact, Scorecard, ScorecardItem, Store
    from kpiapp.tracking import pace
    from kpiapp.tracking.paces import PROFILE_MEASURE
    from kpiapp.tracking.risk import profiled_stores, seasonal

    parser = argparse.ArgumentParser()
    parser.add_argument("--share", type=float, default=0.2, help="the share of the stores given a history")
    parser.add_argument("--cycle", type=int, default=1)
    args = parser.parse_args()
    with create_app().app_context():
        cycle = db.session.get(Cycle, args.cycle)
        start = cycle.period_start
        first, last = start - timedelta(days=pace.YEAR_DAYS), start - timedelta(days=1)
        partitions.ensure_month_partitions(db.session, first, last)
        cycle = db.session.get(Cycle, args.cycle)
        step = max(1, round(1 / args.share))
        stores = db.session.execute(select(Store).order_by(Store.id)).scalars().all()[::step]
        records = dict(db.session.execute(select(ImportRecord.store_id, func.min(ImportRecord.id))
                                          .group_by(ImportRecord.store_id)).all())
        days = [first + timedelta(days=d) for d in range((last - first).days + 1)]
        rows = [{"store_id": store.id, "family": FAMILY, "business_date": day, "period_end": day, "sku": "S0",
                 "ref": "", "measure": PROFILE_MEASURE,
                 "value": Decimal(300 if day.month in (10, 11) else 100) + store.id % 7,
                 "currency": store.currency, "import_id": records[store.id], "source_line": 0}
                for store in stores for day in days]
        for start in range(0, len(rows), 20_000):
            db.session.execute(insert(MetricFact), rows[start:start + 20_000])
        slices = {(store.id, FAMILY): (first, last) for store in stores}
        fact_day.refresh_slices(db.session.connection(), slices)
        db.session.commit()
        found = profiled_stores(cycle)
        cards = select(Scorecard.id).where(Scorecard.cycle_id == cycle.id)
        items = db.session.execute(select(func.count()).select_from(ScorecardItem).where(
            ScorecardItem.scorecard_id.in_(cards), ScorecardItem.metric_key.is_not(None),
            seasonal(found))).scalar()
        print(f"{len(stores)} stores given {len(days)} days of {PROFILE_MEASURE} ({len(rows)} facts); "
              f"profiled_stores finds {len(found)}; seasonal metric items of cycle {cycle.id}: {items}")


if __name__ == "__main__":
    main()
