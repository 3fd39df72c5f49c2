"""What the dashboards' memo holds per page (docs/dashboards.md, "The memo"), in-process.

    DATABASE_URL=postgresql://.../COPY_OF_SEED KPIAPP_INPROCESS_JOBS=1 .venv/bin/python bench/memo_size.py

Signs in as each dashboard page's role of bench/scale_bench.py (a seed-scale database), empties
the memo, requests the page once and prints the entries it left and their deep size (sys.getsizeof
over containers, dataclasses and objects, each object counted once): an estimate of what one
page costs a worker's memory, next to the page's bytes."""
import dataclasses
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("KPIAPP_ENV", "dev")

from bench.scale_bench import LOGINS, pages  # noqa: E402


def deep_size(value, seen):
    """Bytes of value and everything it holds, each object counted once."""
    if id(value) in seen:
        return 0
    seen.add(id(value))
    size = sys.getsizeof(value)
    if isinstance(value, dict):
        parts = [*value.keys(), *value.values()]
    elif isinstance(value, (list, tuple, set, frozenset)):
        parts = list(value)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        parts = [getattr(value, field.name) for field in dataclasses.fields(value)]
    elif hasattr(value, "__dict__") and not isinstance(value, type):
        parts = [vars(value)]
    else:
        parts = [getattr(value, name, None) for name in getattr(value, "__slots__", ())]
    return size + sum(deep_size(part, seen) for part in parts)


def main():
    from kpiapp.dashboards.memo import memo
    from kpiapp.demo import DEMO_PASSWORD
    from kpiapp.demo.scale import email_of
    from wsgi import app

    app.config["WTF_CSRF_ENABLED"] = False
    for name, (who, path) in pages(1, dashboards=True).items():
        if "dashboard" not in name and "stores" not in name:
            continue
        client = app.test_client()
        client.post("/login", data={"email": email_of(LOGINS[who]), "password": DEMO_PASSWORD})
        memo(app).clear()
        page = client.get(path)
        assert page.status_code == 200, (name, page.status_code)
        sizes = {str(key[3:5])[:60]: deep_size(value, set()) for key, value in memo(app).entries.items()}
        print(f"{name}: {len(sizes)} entries, {sum(sizes.values()) / 1024:.0f} KiB "
              f"(page {len(page.data) / 1024:.0f} KiB)",
              {key: f"{size / 1024:.0f} KiB" for key, size in sizes.items()}, flush=True)


if __name__ == "__main__":
    main()
