"""Signed report throughput: render + sign one report, and a bulk issue of a whole cycle.

    .venv/bin/python bench/report_bench.py [--people 200] [--repeat 15]
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python bench/report_bench.py

Builds a scratch database (SQLite in a temp dir, or a scratch PostgreSQL database created
and dropped here) with one cycle of --people locked scorecards (through the appraisal
services, as the tests do), then:
  1. renders and signs one scorecard report --repeat times (HTML -> WeasyPrint -> pyHanko);
     prints the median and spread. Goal: median < 1.5 s.
  2. runs the bulk issue of the cycle in-process (start_batch -> jobs.enqueue -> run_batch:
     render, sign, store, commit per report) and prints the total and per-report time.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("KPIAPP_ENV", "test")

from bench.scratch import scratch_app  # noqa: E402


def build_cycle(people):
    from kpiapp.appraisal.workflow import ScorecardState as S
    from tests.appraisal.factories import make_team, walk_to

    team = make_team(size=people)
    for person in team.people:
        walk_to(team, person, S.LOCKED)
    return team


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    from kpiapp.extensions import db

    with scratch_app("report"):
        run(args, db)

def run(args, db):
    from kpiapp.reports import services

    started = time.perf_counter()
    team = build_cycle(args.people)
    print(
        f"database: {db.engine.dialect.name}; built {args.people} locked scorecards in "
        f"{time.perf_counter() - started:.1f} s"
    )

    card = team.card(team.people[0])
    services.signing_material()  # the demo CA is generated once, on first use
    timings, cpu, sizes, cpu_by_lang = [], [], [], {}
    for n in range(args.repeat):
        lang = "zh_CN" if n % 2 else "en"
        t0, c0 = time.perf_counter(), time.process_time()
        document_id = services.new_document_id()
        html = services.render_scorecard_html(card, lang, document_id)
        signed, _material = services.render_and_sign(html, document_id, services.ISSUE_REASON)
        timings.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)  # CPU time: what the machine's load does not change
        cpu_by_lang.setdefault(lang, []).append(cpu[-1])
        sizes.append((lang, len(signed)))
    median = statistics.median(timings)
    print(
        f"render+sign one report ({args.repeat} runs, en/zh alternating): median {median:.3f} s, "
        f"min {min(timings):.3f} s, max {max(timings):.3f} s; {size_line(sizes)}; "
        f"CPU median {statistics.median(cpu):.3f} s ("
        + ", ".join(f"{lang} {statistics.median(v):.3f} s" for lang, v in cpu_by_lang.items())
        + f"); goal < 1.5 s: {'met' if median < 1.5 else 'NOT met'}"
    )
    floor = floor_cpu(card, args.repeat, services)
    print(
        f"floor, bare WeasyPrint (new FontConfiguration each time) + pyHanko on the same HTML: "
        f"CPU median {floor:.3f} s; ours / floor = {statistics.median(cpu) / floor:.2f}"
    )
    print(f"load average during the run: {', '.join(f'{v:.1f}' for v in os.getloadavg())}")

    t0, c0 = time.perf_counter(), time.process_time()
    batch, _created = services.start_batch(team.cycle.id, team.hr, "zh_CN")
    db.session.commit()
    services.launch_batch(batch)  # no REDIS_URL: runs in-process, the same job function
    elapsed, elapsed_cpu = time.perf_counter() - t0, time.process_time() - c0
    db.session.refresh(batch)
    t1 = time.perf_counter()
    archive = services.batch_zip(batch)
    zipped = time.perf_counter() - t1
    print(
        f"bulk issue of {batch.total} reports (status {batch.status}): {elapsed:.1f} s, "
        f"{elapsed / max(batch.total, 1):.3f} s per report (CPU {elapsed_cpu:.1f} s); "
        f"ZIP {len(archive) / 1024 / 1024:.1f} MiB "
        f"built in {zipped:.2f} s"
    )


def floor_cpu(card, repeat, services):
    """CPU of plain `HTML(string=...).write_pdf()` + sign_pdf on the same HTML (en/zh alternating)."""
    from weasyprint import HTML

    from kpiapp.pdf.signing import sign_pdf

    material = services.signing_material()
    pages = [services.render_scorecard_html(card, lang, "floor") for lang in ("en", "zh_CN")]
    cpu = []
    for n in range(repeat):
        c0 = time.process_time()
        pdf = HTML(string=pages[n % 2]).write_pdf()
        sign_pdf(pdf, material.signer, reason="floor", location="l", org_name=material.org_name)
        cpu.append(time.process_time() - c0)
    return statistics.median(cpu)


def size_line(sizes):
    return ", ".join(
        f"{lang} {statistics.median(n for l, n in sizes if l == lang) / 1024:.0f} KiB"
        for lang in ("en", "zh_CN") if any(l == lang for l, _ in sizes)
    )


if __name__ == "__main__":
    main()
