"""Pages and recompute at org scale, on PostgreSQL (issue 10).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/scale_bench.py --people 5000 --facts 10000000 [--per-state K] [--json]
        [--seeded TEMPLATE] [--cpu N] [--json-out FILE]

1. creates a scratch PostgreSQL database (dropped afterwards) and seeds it with seed-scale
   (kpiapp/demo/scale.py): --people people, --facts facts; with --seeded TEMPLATE, the scratch
   database is a copy of TEMPLATE (a database seeded once with `flask kpi seed-scale`, left with
   no open connections) and seeding is skipped: people and facts are then counted in the copy;
2. runs a full recompute of the cycle (`tracking.recompute_cycle`, every item written) and
   a second one (nothing changed);
3. counts the SQL statements of one request of every page (in-process test client); with
   --cpu N, also the median CPU ms of N in-process requests (bench/page_timing.py);
4. starts gunicorn (--workers, default 2 x cores + 1) on the database, signs in through the
   login form as HR, admin and the GM (the top of the reporting line: team and inbox cover
   everyone), and fetches every page --single times from 1 client, then --requests times
   from --clients concurrent clients (threads, one connection each) over loopback, and
   /healthz under the same load as the floor. Prints p50/p95 per page.
With --json the last line is one JSON object: {"people", "facts", "recompute_s", "pages":
{name: {"p50_ms", "p95_ms", "queries"}}, "healthz_p95_ms"} (p50/p95 at --clients clients),
plus seed_s (null when --seeded), seeded (the template, or null), recompute_unchanged_s, clients,
workers, single (1-client p50/p95), load_avg (at the end) and loads ({phase: [1-min load average
at its start, at its end]}); with --cpu, each page's cpu_ms. --json-out FILE writes the object there too.
Goal: p95 < 100 ms at 20 clients and 5,000 people; statements per page constant in org size.
"""
import argparse
import contextvars
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("KPIAPP_ENV", "test")

from bench.page_timing import measure, run_pages  # noqa: E402
from bench.scratch import scratch_app  # noqa: E402

LOGINS = {"hr": "hr", "admin": "admin", "boss": "gm"}


def pages(cycle_id, dashboards=False):
    """(who, path) of every page of the issue, as the role that sees it; the dashboards too when
    asked (at 2,000 people the company and team dashboards take seconds: see docs/scaling.md)."""
    return {
        "calibration": ("hr", f"/cycles/{cycle_id}/calibration"),
        "cycle board": ("hr", f"/cycles/{cycle_id}"),
        "cycle health": ("hr", f"/cycles/{cycle_id}/health"),
        "team": ("boss", "/scorecards/team"),
        "inbox": ("boss", "/inbox/"),
        "imports list": ("hr", "/imports/"),
        "people": ("hr", "/org/people"),
        "audit log": ("admin", "/admin/audit"),
        "reports list": ("hr", "/reports/"),
        **(dashboard_pages(cycle_id) if dashboards else {}),
    }


def dashboard_pages(cycle_id):
    return {
        "team dashboard": ("boss", f"/dashboards/team?cycle={cycle_id}"),
        "company dashboard": ("hr", f"/dashboards/company?cycle={cycle_id}"),
        "company, all stores": ("hr", f"/dashboards/company/stores?cycle={cycle_id}"),
        "store dashboards": ("hr", f"/dashboards/stores?cycle={cycle_id}"),
        "person dashboard": ("boss", f"/dashboards/person?cycle={cycle_id}"),
    }


# ---- statements per page (in-process) --------------------------------------------------------

def in_process(app, db, cycle_id, args):
    """{page: {"queries"}} of one request; with --cpu N also "cpu_ms", the median of N (page_timing)."""
    if args.cpu:
        rows = run_pages(app, cycle_id, args.cpu, dashboards=args.dashboards)
        return {name: {"queries": row["queries"], "cpu_ms": row["cpu_ms"]} for name, row in rows.items()}
    statements = count_statements(app, db, cycle_id, args.dashboards)
    return {name: {"queries": count} for name, count in statements.items()}


def count_statements(app, db, cycle_id, dashboards=False):
    from kpiapp.demo import DEMO_PASSWORD
    from kpiapp.demo.scale import email_of
    from tests.helpers import signed_in_client

    clients = {who: contextvars.Context().run(signed_in_client, app, SimpleNamespace(email=email_of(login)),
                                              DEMO_PASSWORD) for who, login in LOGINS.items()}
    return {name: measure(clients[who], db, path)[0]
            for name, (who, path) in pages(cycle_id, dashboards).items()}


# ---- gunicorn and HTTP clients -------------------------------------------------------------------

@contextmanager
def gunicorn(uri, port, workers, instance):
    if port_answers(port):
        raise RuntimeError(f"something already listens on port {port}; pass another --port")
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL",)}
    env.update(KPIAPP_ENV="dev", DATABASE_URL=uri, KPIAPP_INSTANCE=str(instance), SECRET_KEY="scale-bench")
    log = open(instance / "gunicorn.log", "w")
    command = [str(ROOT / ".venv/bin/gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}",
               "--timeout", "300", "wsgi:app"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    try:
        wait_ready(port, server)
        yield server
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:  # a loaded machine: workers still finishing; the figures are in
            server.kill()
            server.wait()
        log.close()


def port_answers(port):
    try:
        http.client.HTTPConnection("127.0.0.1", port, timeout=5).connect()
        return True
    except OSError:
        return False


def wait_ready(port, server, seconds=90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("gunicorn exited; see gunicorn.log")
        try:
            if get(http.client.HTTPConnection("127.0.0.1", port, timeout=5), "/healthz", "")[0] == 200:
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("gunicorn did not answer /healthz")


def get(conn, path, cookie):
    conn.request("GET", path, headers={"Cookie": cookie})
    response = conn.getresponse()
    return response.status, response.read(), response


def cookies_of(response, jar):
    for header in response.headers.get_all("Set-Cookie") or ():
        name, _, rest = header.partition("=")
        jar[name] = rest.split(";", 1)[0]
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def sign_in(port, email, password):
    """The session cookie after signing in through the real login form."""
    conn, jar = http.client.HTTPConnection("127.0.0.1", port, timeout=60), {}
    _status, body, response = get(conn, "/login", "")
    cookie = cookies_of(response, jar)
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', body).group(1).decode()
    form = urllib.parse.urlencode({"email": email, "password": password, "csrf_token": token})
    conn.request("POST", "/login", body=form, headers={"Cookie": cookie,
                                                        "Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    response.read()
    assert response.status == 302, (email, response.status)
    return cookies_of(response, jar)


def load(port, path, cookie, clients, total):
    """Latencies (ms) of `total` GETs of path from `clients` threads, one connection each."""
    latencies, failures = [], []

    def client(count):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        for _ in range(count):
            started = time.perf_counter()
            status = get(conn, path, cookie)[0]
            latencies.append((time.perf_counter() - started) * 1000)
            if status != 200:
                failures.append(status)

    threads = [threading.Thread(target=client, args=(total // clients + (n < total % clients),))
               for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, (path, failures[:5])
    return latencies


def percentiles(latencies):
    cuts = statistics.quantiles(latencies, n=20, method="inclusive")
    return {"p50_ms": round(statistics.median(latencies), 1), "p95_ms": round(cuts[18], 1)}


def measure_pages(args, cycle_id, cookies):
    single, loaded = {}, {}
    for name, (who, path) in [*pages(cycle_id, args.dashboards).items(), ("healthz", ("hr", "/healthz"))]:
        load(args.port, path, cookies[who], args.workers, args.workers)  # warm every worker
        single[name] = percentiles(load(args.port, path, cookies[who], 1, args.single))
        loaded[name] = percentiles(load(args.port, path, cookies[who], args.clients, args.requests))
        one = single[name]
        print(f"{name:<14} 1 client: p50 {one['p50_ms']:>7.1f} ms p95 {one['p95_ms']:>7.1f} ms"
              f" | {args.clients} clients: p50 {loaded[name]['p50_ms']:>7.1f} ms p95 "
              f"{loaded[name]['p95_ms']:>7.1f} ms | load {loadavg()}", flush=True)
    return single, loaded


# ---- the run -----------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=500)
    parser.add_argument("--facts", type=int, default=500_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=100, help="requests per page under --clients")
    parser.add_argument("--single", type=int, default=20, help="requests per page from 1 client")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--port", type=int, default=5104)
    parser.add_argument("--per-state", type=int, default=None, help="seed-scale's (default people / 100)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--dashboards", action="store_true", help="measure the dashboards too")
    parser.add_argument("--seeded", metavar="TEMPLATE", help="run on a copy of this seeded database, no seed")
    parser.add_argument("--cpu", type=int, default=0, help="also in-process CPU ms a page (median of N)")
    parser.add_argument("--json-out", metavar="FILE", help="also write the JSON object to FILE")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgresql"):
        sys.exit("scale_bench runs on PostgreSQL: set DATABASE_URL=postgresql://...")
    with scratch_app("scale", template=args.seeded) as app:
        result = run(args, app)
    if args.json:
        print(json.dumps(result))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(result) + "\n")


def loadavg():
    return round(os.getloadavg()[0], 2)


def seeded_org():
    """What a copied seed-scale database holds: its cycle, people (the scorecard holders) and facts."""
    from sqlalchemy import text

    from kpiapp.extensions import db

    def one(sql):
        return db.session.execute(text(sql)).scalar_one()

    org = SimpleNamespace(cycle_id=one("SELECT max(id) FROM appraisal_cycle"),
                          people=one('SELECT count(*) FROM "user" WHERE position_id IS NOT NULL'),
                          facts=one("SELECT count(*) FROM metric_fact"))
    db.session.commit()
    return org


def seed(args):
    """(org, seconds): seed-scale into the scratch database, or what the copied seed holds."""
    from kpiapp.demo.scale import seed_scale

    started = time.perf_counter()
    if args.seeded:
        org = seeded_org()
        print(f"seeded copy of {args.seeded}: cycle {org.cycle_id}, {org.people} people, {org.facts} facts",
              flush=True)
        return org, None
    org = seed_scale(args.people, args.facts, per_state=args.per_state)
    seed_s = time.perf_counter() - started
    print(f"seed-scale: {org.people} people, {org.teams} teams, {org.stores} stores, {org.facts} facts in "
          f"{seed_s:.1f} s", flush=True)
    return org, round(seed_s, 1)


def run(args, app):
    from kpiapp.demo import DEMO_PASSWORD
    from kpiapp.demo.scale import email_of
    from kpiapp.extensions import db
    from kpiapp.tracking import services as tracking

    loads = {"seed": [loadavg()]}
    org, seed_s = seed(args)
    loads["seed"].append(loadavg())
    loads["recompute"] = [loadavg()]
    started = time.perf_counter()
    changed = tracking.recompute_cycle(org.cycle_id)
    recompute_s = time.perf_counter() - started
    loads["recompute"].append(loadavg())
    loads["recompute again"] = [loadavg()]
    started = time.perf_counter()
    tracking.recompute_cycle(org.cycle_id)
    unchanged_s = time.perf_counter() - started
    loads["recompute again"].append(loadavg())
    print(f"recompute: {changed} items written in {recompute_s:.1f} s; again (nothing changed) "
          f"{unchanged_s:.1f} s; load {loads['recompute']}, {loads['recompute again']}", flush=True)
    loads["in-process"] = [loadavg()]
    own = in_process(app, db, org.cycle_id, args)
    loads["in-process"].append(loadavg())
    print(f"in process (statements; cpu ms with --cpu): {own}; load {loads['in-process']}", flush=True)
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    db.session.remove()
    loads["pages"] = [loadavg()]
    with gunicorn(uri, args.port, args.workers, Path(tempfile.mkdtemp(prefix="scale-bench-"))):
        cookies = {who: sign_in(args.port, email_of(login), DEMO_PASSWORD) for who, login in LOGINS.items()}
        single, loaded = measure_pages(args, org.cycle_id, cookies)
    loads["pages"].append(loadavg())
    load_avg = [round(v, 2) for v in os.getloadavg()]
    print(f"load average: {load_avg}; per phase {loads}", flush=True)
    return {"people": org.people, "facts": org.facts, "recompute_s": round(recompute_s, 1),
            "pages": {name: {**loaded[name], **own[name]} for name in pages(org.cycle_id, args.dashboards)},
            "healthz_p95_ms": loaded["healthz"]["p95_ms"], "seed_s": seed_s, "seeded": args.seeded,
            "recompute_unchanged_s": round(unchanged_s, 1), "items_written": changed, "clients": args.clients,
            "workers": args.workers, "single": single, "load_avg": load_avg, "loads": loads}


if __name__ == "__main__":
    main()
