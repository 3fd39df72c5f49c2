"""Whole list pages served from a memo while their data is unchanged (issue 10; docs/scaling.md
"Whole pages kept: calibration, the cycle board and health, my team, the inbox, imports, people,
the audit log").

Why: these pages cost 9–35 ms of CPU each at 5,000 people (their SQL is already set-based and
paginated); 20 clients on 2 cores queue ~10 deep, so they took 110–530 ms at 20 clients. The
dashboards' memo (kpiapp/dashboards/memo.py) keeps built values under the data token, which
database triggers change in every transaction that wrote a tracked table; the same token keeps
these pages' finished HTML.

Model: one entry per (data token, the versions of the untracked tables the page reads, endpoint,
view arguments, query string, the HTMX headers that choose page or fragment, reader id and role,
today (local and UTC), language, base currency) holds the response's status, headers and HTML
with this session's CSRF token replaced by a placeholder. A hit puts the session's own token back: nothing
else in these pages is per session (the layout's name and menu are the reader's, in the key).

Flow (GET only; the view's @allow runs first, so a hit is always a permitted reader):
    token = data_token()                        the first statement after the session's user
    versions = one statement per untracked table the page declares (UNTRACKED_VERSIONS)
    hit  -> the kept HTML, this session's CSRF token put in
    miss -> the view; a 200 HTML response is kept (not one that sets a cookie)

Not kept: a request with flashes waiting (they belong to this session and the view would show
them once), a transaction that has written (token None), the memo off (DASHBOARD_MEMO_SIZE=0).
Pages that read an untracked table (written without changing the token: the audit log, the
notifications, the reminder log) name it, and the key holds a version read from that table;
tests/web/test_kept_pages.py checks every kept page's SQL reads no other untracked table.
"""
from datetime import date, datetime, timezone
from functools import wraps

from flask import current_app, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import text

from kpiapp.dashboards.memo import MISSING, Memo, data_token, key_of
from kpiapp.extensions import db

PLACEHOLDER = b"\x00csrf\x00"  # a NUL is never in a page we render (checked before keeping)
# the request headers a view reads to choose the page or a fragment (kpiapp/web/pages.py)
HTMX_HEADERS = ("HX-Request", "HX-History-Restore-Request", "HX-Target", "HX-Boosted")
# per untracked table a page may read: one cheap statement whose answer changes whenever what
# the page shows of that table changes (the tables are append-only or, for notifications, the
# reader's unread set: a new row always has the highest id, a read or deleted one lowers the count)
UNTRACKED_VERSIONS = {
    "audit_event": ("SELECT max(seq) FROM audit_event", False),
    "reminder_log": ("SELECT max(id) FROM reminder_log", False),
    "notification": ("SELECT max(id), count(*) FROM notification WHERE user_id = :reader AND read_at IS NULL",
                     True),
}


def page_memo(app=None):
    """This app's kept pages, apart from the dashboards' entries (a list page never pushes a
    dashboard out); PAGE_MEMO_SIZE entries, off when the dashboards' memo is off."""
    app = app or current_app
    if "page_memo" not in app.extensions:
        size = app.config["PAGE_MEMO_SIZE"] if app.config["DASHBOARD_MEMO_SIZE"] else 0
        app.extensions["page_memo"] = Memo(size)
    return app.extensions["page_memo"]


def kept_page(*untracked):
    """Decorate a GET view (under its @allow) whose page is kept; `untracked`: the untracked
    tables it reads (UNTRACKED_VERSIONS)."""
    def decorate(view):
        @wraps(view)
        def wrapper(**kwargs):
            key = page_key(kwargs, untracked)
            if key is None:
                return view(**kwargs)
            pages = page_memo()
            found = pages.get(key)
            if found is not MISSING:
                return served(found)
            response = current_app.make_response(view(**kwargs))
            kept = keepable(response)
            if kept is not None:
                pages.put(key, kept)
            return response
        wrapper.kept_untracked = untracked
        return wrapper
    return decorate


def page_key(view_args, untracked):
    """The entry's key, or None when this request must be built (see the module's docstring)."""
    if request.method != "GET" or "_flashes" in session or not page_memo().size:
        return None
    token = data_token()
    if token is None:
        return None
    reader = current_user._get_current_object()
    headers = tuple(request.headers.get(name) for name in HTMX_HEADERS)
    return key_of(token, (versions(untracked, reader.id), request.endpoint, tuple(sorted(view_args.items())),
                          request.query_string, headers, reader.id, reader.role, today()))


def today():
    """The day as the pages read it: the server's (the cycle pages) and UTC's (the trackers)."""
    return date.today(), datetime.now(timezone.utc).date()


def versions(untracked, reader_id):
    """One answer per untracked table, read after the token."""
    found = []
    for table in untracked:
        sql, per_reader = UNTRACKED_VERSIONS[table]
        params = {"reader": reader_id} if per_reader else {}
        found.append(tuple(db.session.execute(text(sql), params).one()))
    return tuple(found)


def keepable(response):
    """(status, headers, HTML with the CSRF placeholder) of a response worth keeping, else None."""
    if (response.status_code != 200 or response.mimetype != "text/html" or response.direct_passthrough
            or "Set-Cookie" in response.headers):
        return None
    html = response.get_data()  # UTF-8: half the memory of a str holding one Chinese character
    if PLACEHOLDER in html:
        return None
    headers = [(name, value) for name, value in response.headers.items() if name != "Content-Length"]
    return response.status_code, headers, html.replace(generate_csrf().encode(), PLACEHOLDER)


def served(found):
    """The kept response with this session's CSRF token (Content-Length is set from the HTML)."""
    status, headers, html = found
    return current_app.response_class(html.replace(PLACEHOLDER, generate_csrf().encode()), status=status,
                                      headers=headers)
