"""1-client p50/p95 of issue 10's pages through gunicorn, on a database seeded already.

    DATABASE_URL=postgresql://.../hpg_p5000 .venv/bin/python bench/one_client_bench.py \\
        [--port 5791] [--workers 2] [--requests 60] [--page calibration ...] [--dashboards] [--cycle 1]
        [--clients 20]

bench/scale_bench.py seeds its own scratch database first (5–17 minutes at 5,000 people on
this machine); this reuses one (`flask kpi seed-scale`, copied with `createdb -T`), so two
checkouts can be compared on the same rows. It starts `gunicorn wsgi:app` with scale_bench's
helpers, signs in through the login form as its roles, warms every worker, then times
--requests GETs of each page from one client (or --clients threads, one connection each). Prints p50/p95 ms, the CPU the workers used per
request (from /proc, Linux) and the load average."""
import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.scale_bench import LOGINS, gunicorn, load, pages, percentiles, sign_in  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=5791)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--cycle", type=int, default=1)
    parser.add_argument("--page", action="append", help="only this page (repeatable; /healthz always)")
    parser.add_argument("--dashboards", action="store_true", help="the dashboards too (scale_bench.dashboard_pages)")
    parser.add_argument("--clients", type=int, default=1, help="concurrent clients (the requests are shared)")
    args = parser.parse_args()
    from kpiapp.demo import DEMO_PASSWORD
    from kpiapp.demo.scale import email_of

    print(f"load average before {[round(v, 2) for v in os.getloadavg()]}", flush=True)
    instance = Path(tempfile.mkdtemp(prefix="one-client-"))
    with gunicorn(os.environ["DATABASE_URL"], args.port, args.workers, instance) as server:
        cookies = {who: sign_in(args.port, email_of(login), DEMO_PASSWORD) for who, login in LOGINS.items()}
        for name, (who, path) in [*pages(args.cycle, dashboards=args.dashboards).items(), ("healthz", ("hr", "/healthz"))]:
            if args.page and name not in args.page and name != "healthz":
                continue
            load(args.port, path, cookies[who], args.workers, args.workers * 3)  # warm every worker
            cpu = workers_cpu_ms(server.pid)
            one = percentiles(load(args.port, path, cookies[who], args.clients, args.requests))
            cpu = (workers_cpu_ms(server.pid) - cpu) / args.requests
            print(f"{name:<14} {args.clients} client(s), {args.requests} requests: p50 {one['p50_ms']:>7.1f} ms "
                  f"p95 {one['p95_ms']:>7.1f} ms, workers' CPU {cpu:>6.1f} ms a request", flush=True)
    print(f"load average after {[round(v, 2) for v in os.getloadavg()]}")


def workers_cpu_ms(pid):
    """User + system CPU ms the gunicorn workers (the children of `pid`) have used so far, from
    /proc (Linux): a figure the machine's other load inflates far less than wall time."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    ticks = 0
    for child in children:
        fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return ticks * 1000 / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    main()
