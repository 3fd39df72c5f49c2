"""The company dashboard's statements over the items' stores, old (JSON scopes) against new
(scorecard_item_store), replayed alternately in one connection on one database (PostgreSQL).

    # record each checkout's page statements (bench/replay_statements.py --record), then:
    DATABASE_URL=… .venv/bin/python bench/item_store_bench.py --rounds 15 OLD.pkl NEW.pkl

Times each SELECT of each file that reads the items' stores (it names `json_array_elements`
or `scorecard_item_store`), in order, A, B, A, B … with JIT off (as the dashboards set it),
and prints per statement the median and minimum ms, with the load average before and after.
Only those statements: the page's others read temporary tables that a replay does not make.
"""
import argparse
import os
import pickle
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the pickled parameters may be kpiapp enums
os.environ.setdefault("KPIAPP_ENV", "dev")

MARKERS = ("json_array_elements", "scorecard_item_store")


def main():
    import psycopg

    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+")
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    url = os.environ["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    chosen = {}
    for path in args.files:
        with open(path, "rb") as source:
            recorded = pickle.load(source)
        chosen[path] = [(s, p) for s, p in recorded
                        if s.lstrip().upper().startswith(("SELECT", "WITH")) and any(m in s for m in MARKERS)]
    times = {path: [[] for _ in found] for path, found in chosen.items()}
    print(f"load average before {[round(v, 2) for v in os.getloadavg()]}")
    with psycopg.connect(url) as connection:
        connection.execute("SET jit = off")
        for _ in range(args.rounds):
            for path, found in chosen.items():
                for (statement, parameters), spent in zip(found, times[path]):
                    started = time.perf_counter()
                    connection.execute(statement, parameters).fetchall()
                    spent.append((time.perf_counter() - started) * 1000)
        connection.rollback()
    for path, found in chosen.items():
        for (statement, _p), spent in zip(found, times[path]):
            head = " ".join(statement.split())[:70]
            print(f"{path}: median {statistics.median(spent):7.1f} ms (min {min(spent):6.1f})  {head}")
    print(f"load average after {[round(v, 2) for v in os.getloadavg()]}, {args.rounds} rounds")


if __name__ == "__main__":
    main()
