"""What the tests that run real RQ workers share: the Redis they use and a worker process.

`redis` (the fixture, in tests/conftest.py) connects to REDIS_URL and empties it before
and after a test; an unreachable Redis is an error, never a skip."""
import os
import subprocess
import sys
from pathlib import Path

REDIS_URL = os.environ.get("KPIAPP_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ROOT = Path(__file__).resolve().parents[1]


def start_worker(database_uri, instance, queue, burst=True, **env):
    """`flask kpi worker` on `queue` against the test's database, as a child process."""
    env = {**os.environ, "DATABASE_URL": database_uri, "REDIS_URL": REDIS_URL, "RQ_QUEUE": queue,
           "KPIAPP_ENV": "dev", "KPIAPP_INSTANCE": str(instance), "SECRET_KEY": "test-secret", **env}
    flask = str(Path(sys.executable).with_name("flask"))
    command = [flask, "--app", "wsgi", "kpi", "worker"] + (["--burst"] if burst else [])
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
