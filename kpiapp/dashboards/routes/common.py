"""What every dashboard page does: read the filters, render page or fragment, serve downloads."""
from datetime import date

from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user
from markupsafe import Markup

from kpiapp.dashboards import filters as dashboard_filters
from kpiapp.dashboards.memo import remember
from kpiapp.dashboards.panels import download
from kpiapp.web.pages import attachment, is_fragment_request

bp = Blueprint("dashboards", __name__)  # the dashboards' views: routes/<name>.py add theirs
# the filters each page's bar shows (the company pages: all of them)
BAR = {"team": ("cycle", "department"), "person": ("cycle",), "store": ("cycle", "period"),
       "stores": ("cycle", "period", "platform", "store")}
EVERY_FILTER = ("cycle", "period", "department", "platform", "store")


def read_filters(token=None, shown=EVERY_FILTER):
    """(filters, offered, cycle): the query string's filters narrowed to what this user is
    offered, what the filter bar offers (`shown`: the filters the page's bar shows, BAR), and
    the cycle the panels show (None: no cycle). With the data token (memo.py) the offer is kept
    per reader while the data is unchanged (and per the lists read: `filters.needed_lists`)."""
    wanted = dashboard_filters.Filters.from_args(request.args)
    user = current_user._get_current_object()
    lists = tuple(sorted(dashboard_filters.needed_lists(wanted, shown)))
    offered = remember(token, ("choices", user.id, user.role, wanted.store, wanted.store_code, lists),
                       lambda: dashboard_filters.choices(user, wanted, shown))
    filters = wanted.within(offered)
    return filters, offered, dashboard_filters.current_cycle(filters, offered["cycles"])


def memo_inputs(filters, cycle, today):
    """What every dashboard's memo key holds besides the page (memo.remember): the filters as
    the panels read them, the cycle and the day."""
    return tuple(sorted(filters.query().items())), cycle and cycle.id, today


def bar_inputs(filters):
    """What the filter bar reads besides the data, the page and the language: the reader's offer
    (read_filters keeps it per reader, role and the store asked for) and the filters chosen."""
    user = current_user._get_current_object()
    return (user.id, user.role, request.args.get("store"), request.args.get("store_code"),
            tuple(sorted(filters.query().items())))


def months_of(cycle):
    """The "YYYY-MM" months a cycle covers (the period filter's choices)."""
    if cycle is None:
        return []
    months, day = [], cycle.period_start.replace(day=1)
    while day <= cycle.period_end:
        months.append(f"{day:%Y-%m}")
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return months


def render_dashboard(name, panels, filters, token=None, inputs=None, tail=None, **context):
    """`?download=<panel>&format=csv|xlsx`: that panel's table; an HTMX request: the body
    fragment dashboards/_<name>.html; else the page dashboards/<name>.html around that body.

    With the data token and `inputs` (the memo key of the panels: everything the fragment reads
    besides the data, the language and the base currency) the fragment's HTML is kept in the
    memo too, so a repeat request renders only the page around it. The fragment must not read
    the session (CSRF token, flashes, the reader's name): such a part goes in `tail`, a template
    rendered on every request and put after the kept HTML. The page's filter bar is kept too
    (BAR: the filters each page shows; bar_inputs: what it reads)."""
    key = request.args.get("download")
    if key:
        panel = next((p for p in panels if p.key == key), None)
        found = panel and download(panel, request.args.get("format", "csv"), name)
        if not found:
            abort(404)
        return attachment(*found)
    context.update(panels={p.key: p for p in panels}, filters=filters)
    # the download links name the endpoint and its arguments; `ignored` is not in filters.query()
    where = (request.endpoint, tuple(sorted(request.view_args.items())), filters.ignored)
    token = token if inputs is not None else None
    body = remember(token, ("html", name, *where, *(inputs or ())),
                    lambda: render_template(f"dashboards/_{name}.html", **context))
    body = Markup(body)
    if tail:
        body += Markup(render_template(tail, **context))
    if is_fragment_request():
        response = current_app.make_response(body)
    else:
        show = BAR.get(name, EVERY_FILTER)
        bar = Markup(remember(token, ("bar", name, *where[:2], *bar_inputs(filters)),
                              lambda: render_template("dashboards/_filter_bar.html", show=show, **context)))
        response = current_app.make_response(render_template(f"dashboards/{name}.html", body=body, bar=bar,
                                                             **context))
    response.vary.add("HX-Request")
    return response
