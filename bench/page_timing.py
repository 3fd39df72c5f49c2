"""SQL statements and wall time of one page request, for the page benchmarks.

A request runs in a fresh context (as tests/conftest.py's IsolatedClient does), after one
warm-up request (template and catalogue caches); the statement count is the stable
figure, the median time is noisy on a loaded machine."""
import contextvars
import statistics
import time
from contextlib import contextmanager

from sqlalchemy import event


@contextmanager
def statements_of(engine):
    """Yields a list that gets one entry per SQL statement the engine runs meanwhile."""
    seen = []

    def count(*_args):
        seen.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def measure(client, db, path, repeat=1):
    """(statements of one request, median seconds over `repeat` requests) of GET `path`."""
    db.session.commit()  # SQLite: release the lock our reads took (each request may write)
    contextvars.Context().run(client.get, path)
    timings, counts = [], []
    for _ in range(repeat):
        db.session.commit()
        with statements_of(db.engine) as seen:
            t0 = time.perf_counter()
            response = contextvars.Context().run(client.get, path)
            timings.append(time.perf_counter() - t0)
        assert response.status_code == 200, (path, response.status_code)
        counts.append(len(seen))
    return counts[-1], statistics.median(timings)
