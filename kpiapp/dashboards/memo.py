"""The dashboards' memo (docs/dashboards.md, "The memo"): built panels kept per worker process
under a key that holds the data token, so an entry is never stale and never invalidated.

Model: `data_version` holds one random token that database triggers change in every committed
transaction that wrote a tracked table (every table but `dbtriggers.UNTRACKED`: migration 0034).
A page reads the token FIRST, before any row its panels depend on (the cycle included); in READ
COMMITTED every later statement sees at least that state, so what it builds is never older than
the token says. The key is (token, page, the UI language, BASE_CURRENCY, and the page's own
inputs: filters, cycle, panel keys, the reader where the page depends on them, today); a write
changes the token, so old entries are no longer asked for and fall out of the LRU.

Flow:  token = data_token()          first statement of the view
       ... read filters, cycle, rights (the key's inputs)
       panels = remember(token, (page, inputs...), build)

A transaction that has written a tracked table (PostgreSQL: its token changes only at commit)
gets token None: nothing is read from or put in the memo. Cached values are shared between
requests: callers never mutate them (copy with dataclasses.replace).
"""
import threading
from collections import OrderedDict

from flask import current_app, g
from flask_babel import get_locale
from sqlalchemy import text

from kpiapp.extensions import db, dialect

MISSING = object()
TOKEN = {
    # the token, and whether this transaction has written a tracked table (not yet in the token)
    "postgresql": "SELECT token, EXISTS (SELECT 1 FROM data_touch WHERE txid = txid_current_if_assigned()) "
                  "FROM data_version",
    "sqlite": "SELECT token, 0 FROM data_version",
}


class Memo:
    """A bounded LRU of built values, safe under threads; `hits` and `misses` count lookups."""

    def __init__(self, size):
        self.size, self.entries, self.lock = size, OrderedDict(), threading.Lock()
        self.hits = self.misses = 0

    def get(self, key):
        with self.lock:
            if key not in self.entries:
                self.misses += 1
                return MISSING
            self.hits += 1
            self.entries.move_to_end(key)
            return self.entries[key]

    def put(self, key, value):
        with self.lock:
            self.entries[key] = value
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)

    def clear(self):
        with self.lock:
            self.entries.clear()
            self.hits = self.misses = 0


MENU_SIZE = 2048  # readers whose menu answers are kept (a tuple of booleans each)


def memo(app=None):
    """This app's memo (one per app and process: nothing is shared between workers or deploys)."""
    app = app or current_app
    if "dashboard_memo" not in app.extensions:
        app.extensions["dashboard_memo"] = Memo(app.config["DASHBOARD_MEMO_SIZE"])
    return app.extensions["dashboard_memo"]


def menu_memo(app=None):
    """The menu's answers per reader (kpiapp/navigation.py), kept apart from the pages' entries
    so that many readers' menus never push a dashboard out; off when the memo is off."""
    app = app or current_app
    if "menu_memo" not in app.extensions:
        app.extensions["menu_memo"] = Memo(MENU_SIZE if app.config["DASHBOARD_MEMO_SIZE"] else 0)
    return app.extensions["menu_memo"]


def data_token():
    """The data token as this transaction sees it, or None when this transaction has written a
    tracked table (its writes are not in the token yet)."""
    token, written = db.session.execute(text(TOKEN[dialect()])).one()
    g.data_token = None if written else token  # the menu of this page asks too (navigation.shown_entries)
    return g.data_token


def remember(token, inputs, build, kept=None):
    """build() for `inputs` (a hashable tuple naming the page and everything it depends on
    besides the data), kept under the token read before those inputs (in `kept`, the pages'
    memo unless told); token None: build only."""
    kept = kept or memo()
    if token is None or not kept.size:
        return build()
    key = key_of(token, inputs)
    found = kept.get(key)
    if found is MISSING:
        found = build()
        kept.put(key, found)
    return found


def key_of(token, inputs):
    """A memo key: the token, what every kept value is built in (the UI language, the base
    currency) and the caller's inputs."""
    return (token, str(get_locale()), current_app.config["BASE_CURRENCY"], *inputs)
