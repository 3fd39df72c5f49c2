"""A stand-in blueprint served on a loopback port for the Shopee/TikTok/Lazada connector tests."""
from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from datetime import datetime, timezone

from flask import Flask
from werkzeug.serving import make_server

from kpiapp.connectors.base import Context, MemoryTokens
from kpiapp.connectors.http import Client


@contextmanager
def serving(blueprint):
    """Serve `blueprint` on 127.0.0.1 (an ephemeral port); yields the base URL."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = Flask("stand_in")
    app.register_blueprint(blueprint)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


class Clock:
    """One frozen clock shared by the connector (datetime) and the fake (Unix seconds)."""

    def __init__(self, when: datetime):
        self.value = when.timestamp()

    def unix(self) -> float:
        return self.value

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.value, timezone.utc)

    def advance(self, seconds: float) -> None:
        self.value += seconds


def context(store_code, credentials, settings, base_url, clock, tokens=None, client=None):
    return Context(store_code=store_code, credentials=dict(credentials), settings=dict(settings),
                   tokens=tokens or MemoryTokens(), base_url=base_url,
                   http=client or Client(sleep=clock.advance, rand=lambda: 0.5), now=clock.now)
