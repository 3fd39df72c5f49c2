"""Recompute of actuals: per-item computation (before) vs set-based batches (after).

    .venv/bin/python bench/recompute_bench.py [--people 400] [--facts 400000] [--team 8] [--sample 40]
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python bench/recompute_bench.py

Builds a scratch database (SQLite in a temp dir, or a scratch PostgreSQL database created
and dropped here): --people people in teams of --team sharing the same stores and shares
(1-3 stores each, a quarter of them in EUR), one running cycle with 8 metric KPIs per
person (acos, cvr, gmv, tacos, refund_rate, ctr, roas, units) started through the appraisal
services, ~--facts daily facts (SKU rows) over the 60 days elapsed, and EUR rates. Then:
  1. before: the per-item path (compute_metric for every metric item, as `recompute_scorecard`
     did) over --sample scorecards, no writes; seconds and queries per scorecard, extrapolated;
  2. after, compute only: batch.compute_scopes for every scorecard's items;
  3. after, end to end: tracking.recompute_cycle (compute, then the changed scorecards written
     with one UPDATE and one audit event per batch), then again with nothing changed; each with
     wall seconds, this process's CPU, the database backends' CPU (PostgreSQL, /proc), the load
     average and statement seconds by kind; then per scorecard and extrapolated to 5,000 people.
--profile runs both recompute_cycle calls under cProfile; --skip-before skips step 1.
Goal (issue 10): 5,000 people x 8 KPIs over 10M facts < 30 s.
"""
import argparse
import os
import random
import re
import sys
import time
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("KPIAPP_ENV", "test")

from sqlalchemy import event, insert, text  # noqa: E402

from bench.scratch import scratch_app  # noqa: E402

KEYS = ["acos", "cvr", "gmv", "tacos", "refund_rate", "ctr", "roas", "units"]
LOWER_BETTER = {"acos", "tacos", "refund_rate"}
MEASURES = ["ad_spend", "ad_sales", "ad_clicks", "ad_impressions", "ordered_sales", "units_ordered",
            "sessions", "units_refunded"]
MONEY = {"ad_spend", "ad_sales", "ordered_sales"}
DAYS = 60
SOURCES = {"facts": "metric_fact (before)", "days": "fact_day (after)"}


class QueryCounter:
    """Counts statements; with `timed`, also their seconds by kind (SQL text classified)."""

    def __init__(self, engine):
        self.count, self.timed, self.kinds = 0, False, {}
        event.listen(engine, "before_cursor_execute", self.seen)
        event.listen(engine, "after_cursor_execute", self.done)

    def seen(self, conn, cursor, statement, *args):
        self.count += 1
        conn.info["bench_started"] = time.perf_counter()

    def done(self, conn, cursor, statement, *args):
        if self.timed:
            kind = statement_kind(statement)
            count, seconds = self.kinds.get(kind, (0, 0.0))
            self.kinds[kind] = (count + 1, seconds + time.perf_counter() - conn.info["bench_started"])


STATEMENT_KINDS = [  # first match wins
    ("audit", re.compile(r"audit_event|pg_advisory")),
    ("fact_day", re.compile(r"fact_day")),
    ("facts", re.compile(r"metric_fact")),
    ("fx", re.compile(r"fx_rate")),
    ("write items", re.compile(r"^\s*UPDATE scorecard_item", re.I)),
    ("okr", re.compile(r"key_result|objective")),
    ("load cards/items/cycles", re.compile(r"FROM (scorecard|cycle|metric_definition)\b")),
]


def statement_kind(statement):
    return next((kind for kind, pattern in STATEMENT_KINDS if pattern.search(statement)), "other")


def template_items():
    return [{"kind": "metric", "metric_key": key, "name": key, "weight": "12.5",
             **dict(zip(("threshold", "target", "stretch"), "321" if key in LOWER_BETTER else "123")),
             "rule": {"kind": "linear", "cap": "120"}} for key in KEYS]


def build_org(args, db, today):
    """Stores, people in teams sharing stores, a started cycle; returns (cycle, stores)."""
    from kpiapp.appraisal import services
    from kpiapp.models import StoreOwner
    from tests.appraisal.factories import HRFactory
    from tests.factories import DepartmentFactory, PositionFactory, StoreFactory, UserFactory

    rng = random.Random(2026)
    department, position = DepartmentFactory(), PositionFactory()
    hr = HRFactory(department=department)
    manager = UserFactory(department=department, manager=UserFactory(department=department))
    teams = (args.people + args.team - 1) // args.team
    stores = [StoreFactory(code=f"B-{n}", currency="EUR" if n % 4 == 0 else "USD") for n in range(teams * 2)]
    shares = ["100", "50", "25", "40"]
    for t in range(teams):
        owned = rng.sample(stores, rng.randint(1, 3))
        share = Decimal(shares[t % len(shares)])
        for _ in range(min(args.team, args.people - t * args.team)):
            person = UserFactory(department=department, position=position, manager=manager)
            db.session.add_all([StoreOwner(store=s, person=person, share_pct=share) for s in owned])
    db.session.flush()
    services.create_template(hr, code="bench", name="Bench", items=template_items(), position_id=position.id)
    start = today - timedelta(days=DAYS - 1)
    cycle = services.create_cycle(hr, name="Bench", kind="quarterly", period_start=start,
                                  period_end=start + timedelta(days=90),
                                  participants=[{"position_id": position.id}])
    services.start_cycle(cycle.id, hr.id)
    db.session.commit()
    return cycle, stores, start


def load_facts(args, db, stores, start):
    from kpiapp.metrics.partitions import ensure_month_partitions
    from kpiapp.models import FxRate, ImportRecord, MetricFact

    ensure_month_partitions(db.session, start, start + timedelta(days=DAYS - 1))  # as an import does
    record = ImportRecord(filename="bench.csv", sha256="0" * 64, size=1, dedupe_key="bench",
                          status="committed")
    db.session.add(record)
    db.session.flush()
    skus = max(1, args.facts // (len(stores) * DAYS * len(MEASURES)))
    rng, rows = random.Random(10), []
    for shop in stores:
        for day in range(DAYS):
            for measure in MEASURES:
                for sku in range(skus):
                    day_date = start + timedelta(days=day)
                    rows.append({"store_id": shop.id, "family": "amazon_ads", "business_date": day_date,
                                 "period_end": day_date, "sku": f"S{sku}", "ref": "",
                                 "measure": measure, "value": Decimal(rng.randint(1, 99999)) / 100,
                                 "currency": shop.currency if measure in MONEY else None,
                                 "import_id": record.id})
            if len(rows) >= 50_000:
                db.session.execute(insert(MetricFact), rows)
                rows = []
    if rows:
        db.session.execute(insert(MetricFact), rows)
    db.session.add_all(FxRate(date=start + timedelta(days=d), currency="EUR", rate=Decimal("1.08"))
                       for d in range(DAYS))
    db.session.commit()
    if db.engine.dialect.name == "postgresql":  # as autovacuum would soon: without statistics the
        db.session.execute(text("ANALYZE metric_fact"))  # planner guesses 7 rows and probes per fact
        db.session.commit()
    fill_fact_day(db)
    return len(stores) * DAYS * len(MEASURES) * skus


def fill_fact_day(db):
    """The facts were inserted in bulk, not imported: their day sums, as `kpi rebuild-fact-day`."""
    from kpiapp.metrics import fact_day

    started = time.perf_counter()
    rows = fact_day.rebuild(db.session.connection())
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ANALYZE fact_day"))
        db.session.commit()
    print(f"fact_day rebuilt: {rows} day rows in {time.perf_counter() - started:.1f} s")


def before(db, counter, card_ids, today, sample):
    """The per-item path over a sample of scorecards: (seconds, queries) per scorecard."""
    from kpiapp.models import Scorecard
    from kpiapp.tracking import services as tracking

    ids = card_ids[:: max(1, len(card_ids) // sample)][:sample]
    counter.count, started = 0, time.perf_counter()
    for card_id in ids:
        card = db.session.get(Scorecard, card_id)
        for item in card.items:
            tracking.compute_item(item, card.cycle, today)
    elapsed = time.perf_counter() - started
    db.session.rollback()
    return elapsed / len(ids), counter.count / len(ids)


def explain(db, cycle):
    """EXPLAIN ANALYZE of the set-based fact query over the cycle's first chunk of stores."""
    from kpiapp.metrics.batch import STORES_PER_QUERY, PeriodFacts
    from kpiapp.tracking import services as tracking

    if db.engine.dialect.name != "postgresql":
        return
    stores = sorted(db.session.execute(text("SELECT DISTINCT store_id FROM store_owner")).scalars())
    date_to = min(tracking.utc_today(), cycle.period_end)
    facts = PeriodFacts.__new__(PeriodFacts)
    facts.date_from, facts.date_to = cycle.period_start, date_to
    query = facts.fact_query(stores[:STORES_PER_QUERY], MEASURES)
    sql = str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))
    plan = db.session.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + sql)).scalars()
    print("EXPLAIN ANALYZE, batch fact query:", *plan, sep="\n  ")
    db.session.rollback()


def server_cpu(db):
    """CPU seconds used so far by the PostgreSQL backends of this database (same machine, /proc),
    None elsewhere: with this process's CPU, a cost the load of other processes barely moves."""
    if db.engine.dialect.name != "postgresql":
        return None
    pids = db.session.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"))
    pids = pids.scalars()
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    return total


def summing_facts():
    """PeriodFacts as it was before fact_day (14fca3b..0024): one query summing metric_fact by
    fact_groups' key per chunk of stores, the partly-outside count from metric_fact too."""
    from sqlalchemy import String, cast, distinct, func, select

    from kpiapp.metrics import batch
    from kpiapp.metrics.services import FACT_GROUP_KEY, fact_filter
    from kpiapp.models import MetricFact

    class SummingFacts(batch.PeriodFacts):
        def load(self, stores, measures):
            for g in self.fact_groups(stores, measures):
                self.rows[g.store_id].append(g)
                self.imports[(g.store_id, g.measure)].update(int(n) for n in str(g.import_ids).split(","))
            f = MetricFact
            outside = (f.business_date < self.date_from) | (f.period_end > self.date_to)
            for store, measure, count in batch.db.session.execute(
                    select(f.store_id, f.measure, func.count())
                    .where(f.store_id.in_(stores), f.measure.in_(measures), f.business_date <= self.date_to,
                           f.period_end >= self.date_from, outside)
                    .group_by(f.store_id, f.measure)):
                self.partial[(store, measure)] += count

        def fact_query(self, stores, measures):
            f = MetricFact
            if batch.db.session.get_bind().dialect.name == "postgresql":
                import_ids = func.string_agg(distinct(cast(f.import_id, String)), ",")
            else:
                import_ids = func.group_concat(distinct(f.import_id))
            return (select(*FACT_GROUP_KEY, func.sum(f.value).label("total"), func.count().label("facts"),
                           import_ids.label("import_ids"))
                    .where(*fact_filter(stores, measures, self.date_from, self.date_to, None))
                    .group_by(*FACT_GROUP_KEY).order_by(*FACT_GROUP_KEY))

    return SummingFacts


@contextmanager
def reading(source):
    """Run the batch with `source` as its PeriodFacts ("facts": summing metric_fact, "days": fact_day)."""
    from kpiapp.metrics import batch

    kept = batch.PeriodFacts
    batch.PeriodFacts = summing_facts() if source == "facts" else kept
    try:
        yield
    finally:
        batch.PeriodFacts = kept


class Clock:
    """Wall, this process's CPU and the database backends' CPU over a block."""

    def __init__(self, db):
        self.db = db

    def __enter__(self):
        self.server = server_cpu(self.db)
        self.cpu, self.started = time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.started, time.process_time() - self.cpu
        server = server_cpu(self.db)
        self.server = None if server is None or self.server is None else server - self.server

    def __str__(self):
        server = "" if self.server is None else f", database CPU {self.server:.2f} s"
        return f"{self.wall:.2f} s (CPU here {self.cpu:.2f} s{server}; load {os.getloadavg()[0]:.1f})"


def timed_recompute(db, counter, cycle, today, label, profile):
    """recompute_cycle once: (items changed, wall s); prints wall and CPU seconds and statement
    seconds by kind; with `profile`, also the kpiapp functions by cumulative time (cProfile)."""
    import cProfile
    import io
    import pstats

    from kpiapp.tracking import services as tracking

    counter.count, counter.kinds, counter.timed = 0, {}, True
    profiler = cProfile.Profile() if profile else None
    with Clock(db) as clock:
        if profiler:
            profiler.enable()
        changed = tracking.recompute_cycle(cycle.id, today=today)
        if profiler:
            profiler.disable()
    counter.timed = False
    print(f"{label}{' (profiled)' if profile else ''}: {changed} items written, {clock}; statements by kind "
          "(count, seconds until executed, i.e. without fetching):")
    for kind, (count, seconds) in sorted(counter.kinds.items(), key=lambda kv: -kv[1][1]):
        print(f"  {kind:<26} {count:>6} {seconds:8.2f} s")
    if profiler:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
        stats.print_stats(r"kpiapp|commit|flush", 30)
        print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[-6000:])
    return changed, clock.wall


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=400)
    parser.add_argument("--facts", type=int, default=400_000)
    parser.add_argument("--team", type=int, default=8, help="people sharing the same stores and shares")
    parser.add_argument("--sample", type=int, default=40, help="scorecards timed on the per-item path")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile both recompute_cycle runs; statement seconds by kind")
    parser.add_argument("--skip-before", action="store_true", help="skip the per-item sample")
    parser.add_argument("--ab", action="store_true", help="compute only: before, after, before, after")
    parser.add_argument("--days-only", action="store_true", help="compute from fact_day only (no before)")
    parser.add_argument("--explain", action="store_true",
                        help="print EXPLAIN ANALYZE of the batch's fact query (first stores, PostgreSQL)")
    args = parser.parse_args()

    from kpiapp.extensions import db

    with scratch_app("recompute"):
        run(args, db)


def run(args, db):
    from kpiapp.models import ScorecardItem
    from kpiapp.tracking import services as tracking

    today = tracking.utc_today()
    started = time.perf_counter()
    cycle, stores, start = build_org(args, db, today)
    facts = load_facts(args, db, stores, start)
    card_ids = tracking.open_scorecard_ids([cycle.id])
    print(f"database: {db.engine.dialect.name}; {len(card_ids)} scorecards, {len(stores)} stores, "
          f"{facts} facts; built in {time.perf_counter() - started:.1f} s")
    counter = QueryCounter(db.engine)
    if args.explain:
        explain(db, cycle)

    if not args.skip_before:
        seconds, queries = before(db, counter, card_ids, today, args.sample)
        print(f"before (per item, {args.sample} scorecards sampled, compute only): "
              f"{seconds * 1000:.1f} ms and "
              f"{queries:.0f} queries per scorecard; extrapolated {seconds * len(card_ids):.1f} s for all")

    items = db.session.query(ScorecardItem).filter(ScorecardItem.scorecard_id.in_(card_ids),
                                                   ScorecardItem.metric_key.isnot(None)).count()
    db.session.rollback()
    computed = {}
    sources = ["days"] if args.days_only else ["facts", "days"] * (2 if args.ab else 1)
    for source in sources:
        counter.count = 0
        with reading(source), Clock(db) as clock:
            results = tracking.batch_results(card_ids, today)  # load the cards and items, compute every scope
        db.session.rollback()
        computed.setdefault(source, results)
        print(f"compute only, summing {SOURCES[source]}: {items} metric items, "
              f"{len(results)} distinct scopes: {clock}, {counter.count} queries")
    if len(computed) == 2:
        facts, days = ({k: repr(v) for k, v in computed[s].items()} for s in ("facts", "days"))
        same = facts == days
        print(f"the two give identical results (values, inputs, provenance, Decimal exponents): {same}")

    changed, first = timed_recompute(db, counter, cycle, today, "recompute_cycle from fact_day, first run",
                                     args.profile)
    changed, second = timed_recompute(db, counter, cycle, today,
                                      "recompute_cycle from fact_day, again (nothing changed)", args.profile)
    if not args.days_only:
        with reading("facts"):
            timed_recompute(db, counter, cycle, today, "recompute_cycle summing metric_fact (before), again "
                            "(nothing changed)", args.profile)
    scale = 5000 / len(card_ids)
    print(f"per scorecard: first {first * 1000 / len(card_ids):.2f} ms, "
          f"second {second * 1000 / len(card_ids):.2f} ms;"
          f" extrapolated to 5,000 people: first {first * scale:.1f} s, second {second * scale:.1f} s")
    print(f"load average at the end: {load()}")


def load():
    return ", ".join(f"{v:.1f}" for v in os.getloadavg())


if __name__ == "__main__":
    main()
