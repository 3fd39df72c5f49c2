"""Import throughput: our import vs a plain bulk load vs ORM one-object-at-a-time.

    [DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test] \
        .venv/bin/python bench/import_bench.py [--rows 200000] [--no-orm] [--parse-only [--repeat 5]]
        PYTHONHASHSEED=0 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
            .venv/bin/python bench/import_bench.py --rows 30000 --only {files,parse,plain}

Generates Business Report files (one per day) and an Ads report with >= --rows file rows in
total, imports them into a scratch database (created and dropped here: PostgreSQL when
DATABASE_URL is set, else SQLite) through start_import (in-process, the same code the worker
runs), then bulk-loads the same normalized fact rows into a scratch table (PostgreSQL: COPY;
SQLite: one executemany INSERT) and inserts a sample through the ORM one object at a time.
It also times parsing alone against a plain `csv` + `Decimal` loop doing the same conversions
and against pandas.read_csv(dtype=str) reading the same files.
Goals (issue 10): parsing <= 4x the plain loop; the import end to end <= 2x plain COPY;
ours >= 20x faster than the ORM.
"""
import argparse
import csv
import io
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from decimal import Decimal  # noqa: E402

from sqlalchemy import select, text  # noqa: E402


ASINS_PER_DAY = 3400
CAMPAIGNS = 250
ORM_SAMPLE = 5000


def business_report(day_index):
    lines = ['"(Parent) ASIN","(Child) ASIN","Title","Sessions - Total","Page Views - Total",'
             '"Units Ordered","Ordered Product Sales","Total Order Items"']
    for n in range(ASINS_PER_DAY):
        units = (n + day_index) % 7
        lines.append(f'"B0PARENT00","B0{n:08d}","Item {n}","{100 + n % 50}","{180 + n % 90}","{units}",'
                     f'"${units * 19.99:,.2f}","{units}"')
    return ("\n".join(lines) + "\n").encode()


def ads_report(rows):
    start = date(2024, 1, 1)
    lines = ["Date,Campaign Name,Currency,Impressions,Clicks,Spend,7 Day Total Sales "]
    for i in range(rows):
        lines.append(f"{start + timedelta(days=i // CAMPAIGNS)},Campaign {i % CAMPAIGNS},USD,"
                     f"{1000 + i % 500},{10 + i % 40},{(i % 900) / 10:.2f},{(i % 2000) / 10:.2f}")
    return ("\n".join(lines) + "\n").encode()


# the import's steps timed one by one (seconds summed over every file), printed as the split:
# (module, attribute, label); services' own functions, then what they call in other modules
STEPS = (("services", "parse_upload", "parse_upload"), ("services", "write_facts", "write_facts"),
         ("services", "parse_file", "parse_file"), ("stage", "StageSink.write", "StageSink.write"),
         ("stage", "settle", "stage.settle"), ("direct", "DirectSink.finish", "DirectSink.finish"),
         ("services", "staged_rows", "staged_rows"), ("services", "fact_rows", "fact_rows"),
         ("services", "ensure_for_facts", "ensure_for_facts"), ("services", "lock", "lock"),
         ("services", "find_overlap", "find_overlap"), ("services", "count_facts", "count_facts"),
         ("stage", "StagedRows.write", "StagedRows.write"), ("services", "copy_upsert", "copy_upsert"),
         ("services", "upsert", "upsert"), ("fact_day", "refresh", "fact_day.refresh"),
         ("services", "analyze_for_facts", "analyze_for_facts"),
         ("services", "finish_committed", "finish_committed"))
PARSE_STEPS = ("parse_file", "StageSink.write", "stage.settle", "DirectSink.finish", "staged_rows",
               "fact_rows")


def step_owners():
    from kpiapp.imports import direct, services, stage
    from kpiapp.metrics import fact_day

    modules = {"services": services, "stage": stage, "direct": direct, "fact_day": fact_day}
    owners = {}
    for module, attribute, label in STEPS:
        owner, name = modules[module], attribute
        if "." in attribute:
            cls, name = attribute.split(".")
            owner = getattr(owner, cls)
        if hasattr(owner, name):
            owners[label] = (owner, name)
    return owners


def run_imports(files, store):
    """Import every file; returns (facts, seconds end to end, {step: seconds}), "write_facts"
    being the write phase (lock, overlap check, COPY/upsert, commit)."""
    from kpiapp.imports import services

    owners = step_owners()
    steps = dict.fromkeys(owners, 0.0)
    originals = {label: getattr(owner, name) for label, (owner, name) in owners.items()}

    def timed(label):
        def step(*args, **kwargs):
            started = time.perf_counter()
            try:
                return originals[label](*args, **kwargs)
            finally:
                steps[label] += time.perf_counter() - started
        return step

    for label, (owner, name) in owners.items():
        setattr(owner, name, timed(label))
    server = server_cpu()
    total_facts, started, cpu = 0, time.perf_counter(), time.process_time()
    try:
        for name, data, day in files:
            record = services.start_import(data, name, store.id, None, date_from=day, date_to=day)
            assert record.status == "committed", (record.error, (record.errors or [])[:3])
            total_facts += record.facts_written
    finally:
        for label, (owner, name) in owners.items():
            setattr(owner, name, originals[label])
    steps["cpu"] = (time.process_time() - cpu, server_cpu_since(server))
    return total_facts, time.perf_counter() - started, steps


def server_cpu(pids=None):
    """{pid: CPU seconds so far} of the server processes serving this scratch database (PostgreSQL
    on this machine, read from /proc), or None (SQLite, another host). Load on a shared machine
    stretches wall time far more than CPU time."""
    from kpiapp.extensions import db

    if db.engine.dialect.name != "postgresql":
        return None
    if pids is None:
        pids = db.session.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                                       )).scalars().all()
        db.session.commit()
    seconds = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        seconds[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return seconds


def server_cpu_since(before):
    """CPU seconds the scratch database's server processes used since `before` (server_cpu());
    a process started since counts from 0, one ended since is lost (the pool keeps its connections)."""
    if before is None:
        return None
    after = server_cpu()
    return None if after is None else sum(after[pid] - before.get(pid, 0.0) for pid in after)


def report_steps(steps):
    """The write phase split by step (finish_committed: status, audit, commit and, without
    Redis, the tracking job run in-process), then parse_upload's."""
    write = steps["write_facts"] or 1
    listed = [name for name in steps if name not in ("parse_upload", "write_facts") + PARSE_STEPS]
    split = ", ".join(f"{name} {steps[name]:.2f} s ({100 * steps[name] / write:.0f} %)" for name in listed
                      if steps[name])
    rest = write - sum(steps[name] for name in listed)
    print(f"write phase by step: {split}; not listed {rest:.2f} s ({100 * rest / write:.0f} %)")
    parse = steps["parse_upload"] or 1
    split = ", ".join(f"{name} {steps[name]:.2f} s ({100 * steps[name] / parse:.0f} %)" for name in PARSE_STEPS
                      if steps.get(name))
    print(f"parse_upload by step: {split}")
    line("parse_upload inside the import (decode, parse, resolve stores)", steps["parse_upload"])


def parse_all(files, store):
    """(parse results, (wall, CPU) seconds): parse_file alone on every file, as the import calls it."""
    from kpiapp.parsers import parse_file

    started = clocks()
    results = [parse_file(data, name, date_from=day, date_to=day, tz=store.timezone, currency=store.currency)
               for name, data, day in files]
    return results, since(started)


def clocks():
    return time.perf_counter(), time.process_time()


def since(started):
    """(wall, CPU) seconds since started: CPU time is what a busy shared machine disturbs least."""
    wall, cpu = clocks()
    return wall - started[0], cpu - started[1]


def plain_loop(files):
    """(facts, (wall, CPU) seconds): csv.reader + Decimal doing the same conversions, no checks at all."""
    started, facts = clocks(), 0
    for name, data, day in files:
        rows = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
        next(rows)
        if day is None:  # ads: date, campaign, currency, 4 numbers
            out = [(date.fromisoformat(r[0]), r[1], r[2], Decimal(r[3]), Decimal(r[4]), Decimal(r[5]),
                    Decimal(r[6])) for r in rows]
            facts += 4 * len(out)
        else:  # business report: child ASIN, 3 counts, money, count
            out = [(day, r[1], Decimal(r[3]), Decimal(r[4]), Decimal(r[5]),
                    Decimal(r[6].replace("$", "").replace(",", "")), Decimal(r[7])) for r in rows]
            facts += 5 * len(out)
    return facts, since(started)


def pandas_read(files):
    """Seconds for pandas.read_csv(dtype=str) to read every file (no conversion)."""
    import pandas

    started = time.perf_counter()
    for name, data, day in files:
        pandas.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    return time.perf_counter() - started


def normalized_rows(results, store):
    rows = []
    for result in results:
        rows += [(store.id, result.family, f.business_date, f.period_end or f.business_date, f.sku, f.ref,
                  f.measure, f.value, f.currency, 1, f.line) for f in result.facts]
    return rows


COLUMNS = ("store_id, family, business_date, period_end, sku, ref, measure, value, currency, import_id, "
           "source_line")


def copy_rows(db, rows, foreign_keys=False):
    """Seconds to bulk-load rows into a scratch copy of metric_fact (PostgreSQL: COPY; SQLite: one
    executemany INSERT). LIKE copies no foreign key; foreign_keys adds metric_fact's two, store
    and import_record, which PostgreSQL checks row by row (SQLite: the copy has none)."""
    if db.engine.dialect.name != "postgresql":
        return insert_rows(db, rows)
    table = "bench_copy_fk" if foreign_keys else "bench_copy"
    with db.engine.connect() as conn:
        conn.execute(text(f"CREATE TABLE {table} (LIKE metric_fact INCLUDING DEFAULTS "
                          "INCLUDING CONSTRAINTS INCLUDING INDEXES)"))
        if foreign_keys:
            conn.execute(text(f"ALTER TABLE {table} ADD FOREIGN KEY (store_id) REFERENCES store (id), "
                              "ADD FOREIGN KEY (import_id) REFERENCES import_record (id)"))
        conn.commit()
        return timed_copy(conn, table, rows)


def timed_copy(conn, table, rows):
    """Seconds to COPY rows into table on conn (PostgreSQL) and commit: the plain-COPY floor
    (bench/fact_refs_bench.py times its tables with it too)."""
    raw = conn.connection.driver_connection
    pid = raw.info.backend_pid
    server, cpu = server_cpu([pid]), time.process_time()
    started = time.perf_counter()
    with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({COLUMNS}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    raw.commit()
    seconds = time.perf_counter() - started
    after = server_cpu([pid]) if server else None
    COPY_CPU[table] = (time.process_time() - cpu, after[pid] - server[pid] if after else None)
    return seconds


COPY_CPU = {}  # table -> (client, server) CPU seconds of its timed_copy


def insert_rows(db, rows):
    """SQLite's floor: the rows into a copy of metric_fact (same columns, constraints and indexes),
    one executemany, one commit."""
    with db.engine.connect() as conn:
        ddl = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'metric_fact'")).scalar()
        conn.execute(text(ddl.replace("metric_fact", "bench_copy", 1)))
        for index in conn.execute(text("SELECT sql FROM sqlite_master WHERE type = 'index' "
                                       "AND tbl_name = 'metric_fact' AND sql IS NOT NULL")).scalars().all():
            conn.execute(text(index.replace("INDEX ", "INDEX bench_", 1)
                              .replace("metric_fact (", "bench_copy (")))
        conn.commit()
        raw = conn.connection.driver_connection
        marks = ", ".join("?" * len(COLUMNS.split(",")))
        started = time.perf_counter()
        raw.execute("BEGIN")  # the app's connections run without implicit transactions
        raw.executemany(f"INSERT INTO bench_copy ({COLUMNS}) VALUES ({marks})",
                        [(*row[:7], str(row[7]), *row[8:]) for row in rows])
        raw.commit()
        return time.perf_counter() - started


def orm_rows(db, rows):
    from kpiapp.models import ImportRecord, MetricFact

    # the sample is the first file's facts: the first import (without order_by PostgreSQL may
    # return any import, whose facts then collide with the sample)
    record = db.session.execute(select(ImportRecord).order_by(ImportRecord.id).limit(1)).scalar_one()
    db.session.execute(text("DELETE FROM metric_fact WHERE import_id = :i"), {"i": record.id})
    db.session.commit()
    started = time.perf_counter()
    for row in rows:
        values = dict(zip([c.strip() for c in COLUMNS.split(",")], row))
        db.session.add(MetricFact(**{**values, "import_id": record.id}))
        db.session.flush()
    db.session.commit()
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000, help="file rows in total (half BR, half ads)")
    parser.add_argument("--parse-only", action="store_true", help="no database: parsing vs the plain loop")
    parser.add_argument("--repeat", type=int, default=1, help="--parse-only rounds (the median is printed)")
    parser.add_argument("--no-orm", action="store_true", help="skip the ORM sample (a minute of the run)")
    parser.add_argument("--only", choices=("files", "parse", "plain"),
                        help="build the files and run one step once, nothing printed (for instruction counts: "
                             "valgrind --tool=callgrind, minus a run of --only files)")
    args = parser.parse_args()
    if args.only:
        return run_once(bench_files(args.rows), args.only)
    if args.parse_only:
        return parse_only(bench_files(args.rows), args.repeat)
    bench(bench_files(args.rows), args.rows, orm=not args.no_orm)


def bench_files(rows):
    """Business Reports (one a day) and one Ads report, `rows` file rows in all."""
    days = max(1, rows // 2 // ASINS_PER_DAY)
    start = date(2025, 1, 1)
    dates = [start + timedelta(days=d) for d in range(days)]
    files = [(f"BusinessReport-{day}.csv", business_report(d), day) for d, day in enumerate(dates)]
    return files + [("ads.csv", ads_report(rows - days * ASINS_PER_DAY), None)]


def run_once(files, step):
    from types import SimpleNamespace

    import kpiapp.parsers  # noqa: F401  imported by every step: the files run's count holds the import

    if step == "parse":
        parse_all(files, SimpleNamespace(timezone="America/Los_Angeles", currency="USD"))
    elif step == "plain":
        plain_loop(files)


def parse_only(files, repeat=1):
    """Parsing alone against the plain loop and pandas (no database; the store is a stand-in),
    `repeat` rounds in one process, then the median CPU ratio. The parse results are dropped
    before the plain loop runs: held, they would make the loop's own garbage collections walk
    every fact (the loop would look slower than it is)."""
    from types import SimpleNamespace

    store = SimpleNamespace(timezone="America/Los_Angeles", currency="USD")
    ratios = []
    for _ in range(repeat):
        print(f"load average before: {os.getloadavg()}")
        results, parse_time = parse_all(files, store)
        facts = sum(len(r.facts) for r in results)
        del results
        plain_facts, plain_time = plain_loop(files)
        report_parsing(facts, parse_time, plain_time, pandas_read(files))
        ratios.append((parse_time[1], plain_time[1]))
    print(f"load average after: {os.getloadavg()}")
    if repeat > 1:
        each = sorted(ours / plain for ours, plain in ratios)
        fastest = min(ours for ours, _ in ratios) / min(plain for _, plain in ratios)
        print(f"CPU ratio over {repeat} rounds: median {each[len(each) // 2]:.1f}x, min {each[0]:.1f}x, "
              f"max {each[-1]:.1f}x; fastest parse / fastest plain loop {fastest:.1f}x (goal <= 4x)")


def bench(files, file_rows, orm=True):
    from scratch import scratch_app

    from kpiapp.extensions import db
    from kpiapp.models import Store

    with scratch_app("import", MAX_CONTENT_LENGTH=500 * 2**20):
        dialect = db.engine.dialect.name
        print(f"database: {dialect}; load average before: {os.getloadavg()}; IMPORT_STAGE_FACTS="
              f"{os.environ.get('IMPORT_STAGE_FACTS', '50000 (default)')}; IMPORT_WRITE_ONCE="
              f"{os.environ.get('IMPORT_WRITE_ONCE', '1 (default)')}")
        store = Store(code="BENCH", name="Bench", platform="amazon", marketplace="US", currency="USD",
                      timezone="America/Los_Angeles")
        db.session.add(store)
        db.session.commit()
        facts, ours, steps = run_imports(files, store)
        write = steps["write_facts"]
        results, parse_time = parse_all(files, store)
        rows = normalized_rows(results, store)
        db.session.commit()  # SQLite: end the session's write transaction before the floor's own
        copy_time = copy_rows(db, rows)
        copy_fk_time = copy_rows(db, rows, foreign_keys=True) if dialect == "postgresql" else None
        sample = rows[:ORM_SAMPLE] if orm else []
        orm_time = orm_rows(db, sample) if orm else None
    plain_facts, plain_time = plain_loop(files)
    assert plain_facts == facts, (plain_facts, facts)
    pandas_time = pandas_read(files)
    floor = "plain COPY" if dialect == "postgresql" else "plain executemany INSERT"
    report(file_rows, facts, ours, write, copy_time, len(sample), orm_time, floor)
    report_cpu(steps.pop("cpu"), COPY_CPU.get("bench_copy"))
    report_steps(steps)
    if copy_fk_time:
        line("plain COPY into a scratch table with metric_fact's foreign keys too", copy_fk_time,
             facts / copy_fk_time)
        print(f"COPY with foreign keys vs ours: end to end {ours / copy_fk_time:.1f}x, "
              f"write phase {write / copy_fk_time:.1f}x")
    report_parsing(facts, parse_time, plain_time, pandas_time)
    print(f"load average after: {os.getloadavg()}")


def line(label, seconds, rate=None):
    figure = f"{rate:12,.0f} facts/s" if rate else ""
    print(f"{label:<62} {seconds:8.2f} s {figure}")


def report(file_rows, facts, ours, write, copy_time, sample, orm_time, floor="plain COPY"):
    ours_rate, write_rate = facts / ours, facts / write
    copy_rate = facts / copy_time
    print(f"file rows: {file_rows:,}   normalized fact rows: {facts:,}")
    line("our import, end to end (parse, validate, upsert, commit)", ours, ours_rate)
    line("  of which the write phase (lock, overlap check, write, commit)", write, write_rate)
    line("  the rest: store the upload, parse, validate", ours - write)
    line(f"{floor} of the same rows into a scratch table", copy_time, copy_rate)
    print(f"{floor} vs ours: end to end {copy_rate / ours_rate:.1f}x slower, "
          f"write phase {copy_rate / write_rate:.1f}x (goal: end to end <= 2x)")
    if orm_time is None:
        return
    orm_rate = sample / orm_time
    line(f"ORM one object at a time (flush each), {sample:,} rows", orm_time, orm_rate)
    print(f"ours vs ORM: end to end {ours_rate / orm_rate:.1f}x faster, "
          f"write phase {write_rate / orm_rate:.1f}x (goal >= 20x)")


def report_cpu(ours, floor):
    """CPU seconds, this process and the database's server processes, of the import and of the floor."""
    client, server = ours
    if floor is None or server is None:
        print(f"CPU of our import: this process {client:.2f} s")
        return
    print(f"CPU of our import: this process {client:.2f} s + server {server:.2f} s = "
          f"{client + server:.2f} s; plain COPY: {floor[0]:.2f} s + {floor[1]:.2f} s = {sum(floor):.2f} s; "
          f"ratio {(client + server) / (sum(floor) or 1):.1f}x")


def report_parsing(facts, parse_time, plain_time, pandas_time):
    line("parse only: parse_file on every file", parse_time[0], facts / parse_time[0])
    line("  (its CPU time)", parse_time[1], facts / parse_time[1])
    line("plain csv + Decimal loop, same conversions", plain_time[0], facts / plain_time[0])
    line("  (its CPU time)", plain_time[1], facts / plain_time[1])
    line("pandas.read_csv(dtype=str), reading only", pandas_time)
    print(f"parse only vs plain loop: {parse_time[0] / plain_time[0]:.1f}x wall, "
          f"{parse_time[1] / plain_time[1]:.1f}x CPU (goal <= 4x); "
          f"vs pandas.read_csv: {parse_time[0] / pandas_time:.1f}x")


if __name__ == "__main__":
    main()
